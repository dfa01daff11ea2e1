/**
 * The paper's corruptions, ImageNet-C style: Gaussian blur, then additive Gaussian noise, each at a
 * severity in {1, 2, 3}, on images in [0, 1] (clipped after noise).
 *
 * ImageNet-C's parameters are for 224 px photos. Its blur sigmas (1 / 2 / 3 px) would erase a 28 px
 * digit, so they are rescaled to the digit's stroke width (about 2-3 px). Its noise levels (std
 * 0.08 / 0.12 / 0.18) barely affect a CNN on MNIST's flat background (a clean-trained CNN lost about
 * one point), so the noise is stronger: 0.2 / 0.3 / 0.4, under which the clean-trained CNN drops
 * clearly while a person still reads the digits (see `docs/corruption-grid.png`).
 */
import { normals, type Rng } from '../random.js';

/** Gaussian blur sigma in pixels for severities 1, 2, 3. */
export const BLUR_SIGMAS = [0.7, 1.0, 1.3] as const;
/** Gaussian noise standard deviation (image range [0, 1]) for severities 1, 2, 3. */
export const NOISE_STDS = [0.2, 0.3, 0.4] as const;

export type Severity = 0 | 1 | 2 | 3;

/** A domain's parameters of severities 1, 2, 3 (MNIST's: BLUR_SIGMAS, NOISE_STDS). */
export interface CorruptionParams {
  blurSigmas: readonly [number, number, number];
  noiseStds: readonly [number, number, number];
}

/** What was done to one sample: 0 means not applied. */
export interface Corruption {
  blur: Severity;
  noise: Severity;
}

/** Normalised 1-D Gaussian kernel of radius ceil(3 sigma). */
function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += k[i + r];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Separable Gaussian blur of one size x size image, zero outside the image (MNIST's background),
 * written into `out`.
 */
export function gaussianBlur(
  img: Float32Array,
  size: number,
  sigma: number,
  out = new Float32Array(img.length),
): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(img.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const xx = x + i;
        if (xx >= 0 && xx < size) acc += k[i + r] * img[y * size + xx];
      }
      tmp[y * size + x] = acc;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const yy = y + i;
        if (yy >= 0 && yy < size) acc += k[i + r] * tmp[yy * size + x];
      }
      out[y * size + x] = acc;
    }
  }
  return out;
}

/** Adds N(0, std^2) noise drawn from `rng` and clips to [0, 1], in place. */
export function addGaussianNoise(img: Float32Array, std: number, rng: Rng): Float32Array {
  const n = normals(rng, img.length);
  for (let i = 0; i < img.length; i++) img[i] = Math.min(1, Math.max(0, img[i] + std * n[i]));
  return img;
}

/** Applies `c` to a copy of a size x size image in [0, 1]: blur first, then noise. */
export function corrupt(
  img: Float32Array,
  size: number,
  c: Corruption,
  rng: Rng,
  params: CorruptionParams = { blurSigmas: BLUR_SIGMAS, noiseStds: NOISE_STDS },
): Float32Array {
  let out: Float32Array = Float32Array.from(img);
  if (c.blur > 0) out = gaussianBlur(out, size, params.blurSigmas[c.blur - 1]);
  if (c.noise > 0) addGaussianNoise(out, params.noiseStds[c.noise - 1], rng);
  return out;
}
