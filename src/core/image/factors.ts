/**
 * Image factors: what a rendered frame looks like, as numbers a direction can be described by
 * ("adds noise", "blurs", "thins strokes", "moves right"). Pure TypeScript on Float32Arrays, so the
 * CLI, the edge worker and the runners measure the same frames identically.
 *
 * Hand-written rather than from an npm image library: the images are at most a few thousand pixels,
 * every measure is a few loops, and the libraries that would fit (image-js 1.x, @techstark/opencv-js)
 * add hundreds of KB to MB of code (opencv: a wasm blob with an async start) to the worker bundle
 * and run outside tfjs's determinism guarantees anyway. docs/naming.md says what was checked.
 *
 * Every measure works on the image after a 3x3 median filter except `noise`, which is what that
 * filter removes: without it, added speckle would also read as "sharper", "more ink" and "thicker
 * strokes", and a noise direction would look entangled with everything.
 */

import { borderColour } from './colour-pair.js';

/** Factors of a gray (or luminance) image; colour factors join them for 3-channel images. */
export const GRAY_FACTORS = [
  'noise',
  'sharpness',
  'intensity',
  'contrast',
  'area',
  'thickness',
  'centroidX',
  'centroidY',
  'scale',
] as const;
export const COLOUR_FACTORS = [
  'fgHue',
  'fgSaturation',
  'fgBrightness',
  'fgRed',
  'fgGreen',
  'fgBlue',
  'bgHue',
  'bgSaturation',
  'bgBrightness',
  'bgRed',
  'bgGreen',
  'bgBlue',
] as const;
type GrayFactor = (typeof GRAY_FACTORS)[number];
type ColourFactor = (typeof COLOUR_FACTORS)[number];
export type Factor = GrayFactor | ColourFactor;

/** The factors measured on images with `channels` channels, in a fixed order. */
export function factorsFor(channels: number): readonly Factor[] {
  return channels === 3 ? [...GRAY_FACTORS, ...COLOUR_FACTORS] : GRAY_FACTORS;
}

/** What each factor is, in words (report tables, docs). */
export const FACTOR_MEANING: Record<Factor, string> = {
  noise: 'RMS of the image minus its 3x3 median (high-frequency residual)',
  sharpness: 'variance of the 4-neighbour Laplacian of the median-filtered image',
  intensity: 'mean value of the stroke (foreground) pixels',
  contrast: 'stroke mean minus background mean',
  area: 'share of pixels in the stroke (foreground mask)',
  thickness: 'stroke width in px: foreground pixels per skeleton pixel',
  centroidX: 'intensity-weighted centre of the stroke, x, px from the image centre (+ = right)',
  centroidY: 'intensity-weighted centre of the stroke, y, px from the image centre (+ = down)',
  scale: "larger side of the stroke skeleton's bounding box, px",
  fgHue: 'circular mean hue of the foreground, turns [0, 1)',
  fgSaturation: 'mean HSV saturation of the foreground',
  fgBrightness: 'mean HSV value of the foreground',
  bgHue: 'circular mean hue of the background, turns [0, 1)',
  bgSaturation: 'mean HSV saturation of the background',
  bgBrightness: 'mean HSV value of the background',
  fgRed: 'mean red channel of the foreground',
  fgGreen: 'mean green channel of the foreground',
  fgBlue: 'mean blue channel of the foreground',
  bgRed: 'mean red channel of the background',
  bgGreen: 'mean green channel of the background',
  bgBlue: 'mean blue channel of the background',
};

/** Factor values of one image (the colour ones only for 3-channel images). */
export type FactorValues = Record<GrayFactor, number> & Partial<Record<ColourFactor, number>>;

/** The factors of `values` as a vector in the order of `factors` (NaN for one not measured). */
export function factorVector(values: FactorValues, factors: readonly Factor[]): number[] {
  return factors.map((f) => (values as Partial<Record<Factor, number>>)[f] ?? NaN);
}

/** 3x3 median filter, edges replicated. */
function medianFilter3(img: Float32Array, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const w = new Float32Array(9);
  const clamp = (v: number) => (v < 0 ? 0 : v >= size ? size - 1 : v);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) w[k++] = img[clamp(y + dy) * size + clamp(x + dx)];
      w.sort();
      out[y * size + x] = w[4];
    }
  }
  return out;
}

/**
 * Otsu's threshold of values in [0, 1] (256 bins): the split that maximises the between-class
 * variance. Adaptive, so a fading stroke keeps its area and shows as lower intensity, while a
 * thinning stroke shows as lower area at the same intensity.
 */
function otsuThreshold(values: Float32Array): number {
  const bins = 256;
  const hist = new Float64Array(bins);
  for (const v of values) hist[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  const n = values.length;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i];
  let wB = 0;
  let sumB = 0;
  let best = -1;
  let split = 0;
  for (let i = 0; i < bins - 1; i++) {
    wB += hist[i];
    if (wB === 0) continue;
    const wF = n - wB;
    if (wF === 0) break;
    sumB += i * hist[i];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      split = i;
    }
  }
  return (split + 1) / bins;
}

/** The number of skeleton pixels of a binary mask (`skeleton`). */
export function skeletonLength(mask: Uint8Array, size: number): number {
  let n = 0;
  for (const v of skeleton(mask, size)) n += v;
  return n;
}

/**
 * Zhang-Suen thinning of a binary mask (1 = foreground) to a one-pixel skeleton. Pixels outside the
 * image count as background.
 */
function skeleton(mask: Uint8Array, size: number): Uint8Array {
  const m = Uint8Array.from(mask);
  const at = (y: number, x: number) => (y < 0 || x < 0 || y >= size || x >= size ? 0 : m[y * size + x]);
  const remove: number[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      remove.length = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          if (!m[y * size + x]) continue;
          // Neighbours p2..p9, clockwise from north.
          const p = [
            at(y - 1, x),
            at(y - 1, x + 1),
            at(y, x + 1),
            at(y + 1, x + 1),
            at(y + 1, x),
            at(y + 1, x - 1),
            at(y, x - 1),
            at(y - 1, x - 1),
          ];
          const b = p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
          if (b < 2 || b > 6) continue;
          let a = 0;
          for (let k = 0; k < 8; k++) if (p[k] === 0 && p[(k + 1) % 8] === 1) a++;
          if (a !== 1) continue;
          if (
            pass === 0
              ? p[0] * p[2] * p[4] === 0 && p[2] * p[4] * p[6] === 0
              : p[0] * p[2] * p[6] === 0 && p[0] * p[4] * p[6] === 0
          )
            remove.push(y * size + x);
        }
      }
      for (const i of remove) m[i] = 0;
      if (remove.length > 0) changed = true;
    }
  }
  return m;
}

/** RGB in [0, 1] to HSV (hue in turns [0, 1)). */
function hsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d + 6) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
  }
  return [h / 6, max > 0 ? d / max : 0, max];
}

/**
 * An RGB image's ink: each pixel's distance from the background colour (`borderColour`), divided by sqrt(3) to stay in [0, 1]. For a shape painted in two
 * colours this is |foreground - background| * ink whatever the colours, so a dark digit on a light
 * background, or two colours of equal luminance, still give bright strokes on black; a luminance
 * would invert the first and lose the second.
 */
function inkOfRgb(img: Float32Array, size: number): Float32Array {
  const bg = borderColour(img, size);
  return Float32Array.from({ length: size * size }, (_, i) =>
    Math.sqrt(((img[3 * i] - bg[0]) ** 2 + (img[3 * i + 1] - bg[1]) ** 2 + (img[3 * i + 2] - bg[2]) ** 2) / 3),
  );
}

/**
 * Measures one image: `img` is [size * size * channels] in [0, 1], channels last (as the
 * generator renders them); 1 channel (gray) or 3 (RGB; the gray factors on its ink, `inkOfRgb`).
 * @example
 * const f = measureFactors(frame, 32);   // f.noise, f.sharpness, f.thickness, f.centroidX, ...
 */
export function measureFactors(img: Float32Array, size: number, channels = 1): FactorValues {
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3, got ${channels}`);
  if (img.length !== size * size * channels)
    throw new RangeError(`image has ${img.length} values, ${size}x${size}x${channels} needs ${size * size * channels}`);
  const N = size * size;
  const gray = channels === 1 ? img : inkOfRgb(img, size);
  const med = medianFilter3(gray, size);

  let residual = 0;
  for (let i = 0; i < N; i++) residual += (gray[i] - med[i]) ** 2;
  const noise = Math.sqrt(residual / N);

  // Laplacian over interior pixels (the border has no full neighbourhood).
  let lSum = 0;
  let lSq = 0;
  let lN = 0;
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const i = y * size + x;
      const l = med[i - size] + med[i + size] + med[i - 1] + med[i + 1] - 4 * med[i];
      lSum += l;
      lSq += l * l;
      lN++;
    }
  }
  const sharpness = lN > 0 ? lSq / lN - (lSum / lN) ** 2 : 0;

  const threshold = otsuThreshold(med);
  const mask = new Uint8Array(N);
  let fgN = 0;
  let fgSum = 0;
  let bgSum = 0;
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const v = med[i];
      if (v >= threshold) {
        // Centre of the stroke only: background speckle would pull it toward the image centre.
        mass += v;
        cx += v * x;
        cy += v * y;
        mask[i] = 1;
        fgN++;
        fgSum += v;
      } else bgSum += v;
    }
  }
  // Size from the skeleton's bounding box: a thicker stroke has a larger mask but the same skeleton,
  // so "thickens strokes" does not also read as "grows".
  const skel = skeleton(mask, size);
  let skelN = 0;
  let minX = size;
  let maxX = -1;
  let minY = size;
  let maxY = -1;
  for (let i = 0; i < N; i++) {
    if (!skel[i]) continue;
    skelN++;
    const x = i % size;
    const y = (i - x) / size;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const centre = (size - 1) / 2;
  const intensity = fgN > 0 ? fgSum / fgN : 0;
  const background = fgN < N ? bgSum / (N - fgN) : 0;
  const out: FactorValues = {
    noise,
    sharpness,
    intensity,
    contrast: intensity - background,
    area: fgN / N,
    thickness: fgN > 0 ? fgN / Math.max(1, skelN) : 0,
    centroidX: mass > 0 ? cx / mass - centre : 0,
    centroidY: mass > 0 ? cy / mass - centre : 0,
    scale: skelN > 0 ? Math.max(maxX - minX + 1, maxY - minY + 1) : 0,
  };
  return channels === 3 ? { ...out, ...colourFactors(img, mask, N) } : out;
}

/** Hue (circular mean), saturation, value and mean r, g, b of the foreground and background pixels. */
function colourFactors(img: Float32Array, mask: Uint8Array, N: number): Record<ColourFactor, number> {
  // [sin, cos, saturation, value, count, r, g, b] per region: 0 background, 1 foreground.
  const acc = [new Float64Array(8), new Float64Array(8)];
  for (let i = 0; i < N; i++) {
    const [h, s, v] = hsv(img[3 * i], img[3 * i + 1], img[3 * i + 2]);
    const a = acc[mask[i]];
    // Hue is undefined for gray pixels: weight it by saturation.
    a[0] += s * Math.sin(2 * Math.PI * h);
    a[1] += s * Math.cos(2 * Math.PI * h);
    a[2] += s;
    a[3] += v;
    a[4]++;
    a[5] += img[3 * i];
    a[6] += img[3 * i + 1];
    a[7] += img[3 * i + 2];
  }
  const hue = (a: Float64Array) => (((Math.atan2(a[0], a[1]) / (2 * Math.PI)) % 1) + 1) % 1;
  const mean = (a: Float64Array, k: number) => (a[4] > 0 ? a[k] / a[4] : 0);
  return {
    fgHue: hue(acc[1]),
    fgSaturation: mean(acc[1], 2),
    fgBrightness: mean(acc[1], 3),
    bgHue: hue(acc[0]),
    bgSaturation: mean(acc[0], 2),
    bgBrightness: mean(acc[0], 3),
    fgRed: mean(acc[1], 5),
    fgGreen: mean(acc[1], 6),
    fgBlue: mean(acc[1], 7),
    bgRed: mean(acc[0], 5),
    bgGreen: mean(acc[0], 6),
    bgBlue: mean(acc[0], 7),
  };
}
