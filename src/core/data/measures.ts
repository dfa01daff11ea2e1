/**
 * Image-only measures of noise and blur for digits on a black background, used to check that
 * corruption metadata matches the pixels and, later, that generated digits cover the corruptions.
 */
import { gaussianBlur } from './corruption.js';

/**
 * Noise level: root mean square of the outer frame of the image (`border` px wide), where a padded
 * MNIST digit has no ink. Clean or blurred digits give ~0; clipped noise of std s gives ~s / sqrt(2).
 */
export function noiseLevel(img: Float32Array, size: number, border = 3): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (y >= border && y < size - border && x >= border && x < size - border) continue;
      const v = img[y * size + x];
      sum += v * v;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

/**
 * Blur level: 1 minus the ink peak (mean of the brightest 1% of pixels) after a fixed denoising
 * blur (sigma 1 px). A sharp stroke keeps a high peak; a blurred stroke is spread out and lower.
 * The denoising step makes it depend little on added noise.
 */
export function blurLevel(img: Float32Array, size: number): number {
  const smooth = gaussianBlur(img, size, 1);
  const sorted = Float32Array.from(smooth).sort();
  const k = Math.max(1, Math.round(sorted.length * 0.01));
  let peak = 0;
  for (let i = sorted.length - k; i < sorted.length; i++) peak += sorted[i];
  return 1 - peak / k;
}
