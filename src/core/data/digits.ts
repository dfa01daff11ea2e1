/**
 * Digit sets as the models see them: 32x32 images in [0, 1] (MNIST's 28x28 digits padded by 2 px of
 * background), one channel (grey) or three (RGB, channels last: coloured MNIST, colour.ts), with
 * labels and per-sample corruption metadata.
 */
import { createRng, uniformInteger } from '../random.js';
import { corrupt, type CorruptionParams, type Severity } from './corruption.js';
import type { IdxImages } from './idx.js';

/** Side of every image the models take and produce. */
export const IMAGE_SIZE = 32;
export const NUM_CLASSES = 10;

export interface DigitSet {
  count: number;
  /** Channels per pixel: absent or 1 = grey, 3 = RGB. */
  channels?: number;
  /** count x 32 x 32 x channels floats in [0, 1], row-major, channels last. */
  images: Float32Array;
  labels: Uint8Array;
  /** Blur severity of each sample (0 = not blurred). */
  blur: Uint8Array;
  /** Noise severity of each sample (0 = no noise). */
  noise: Uint8Array;
}

/** Floats per image of a set: 32 * 32 * channels. */
export function imageLength(set: Pick<DigitSet, 'channels'>): number {
  return IMAGE_SIZE * IMAGE_SIZE * (set.channels ?? 1);
}

/** Pads 28x28 bytes to 32x32 floats in [0, 1]. */
export function padDigits(idx: IdxImages, labels: Uint8Array): DigitSet {
  if (idx.count !== labels.length) throw new Error(`${idx.count} images but ${labels.length} labels`);
  const pad = (IMAGE_SIZE - idx.rows) / 2;
  if (idx.rows !== idx.cols || !Number.isInteger(pad) || pad < 0) {
    throw new Error(`cannot pad ${idx.rows}x${idx.cols} images to ${IMAGE_SIZE}x${IMAGE_SIZE}`);
  }
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Float32Array(idx.count * px);
  for (let n = 0; n < idx.count; n++) {
    for (let y = 0; y < idx.rows; y++) {
      for (let x = 0; x < idx.cols; x++) {
        images[n * px + (y + pad) * IMAGE_SIZE + x + pad] = idx.pixels[(n * idx.rows + y) * idx.cols + x] / 255;
      }
    }
  }
  return {
    count: idx.count,
    images,
    labels: Uint8Array.from(labels),
    blur: new Uint8Array(idx.count),
    noise: new Uint8Array(idx.count),
  };
}

/**
 * The paper's corrupted version of a set: the first half left clean, each sample of the second half
 * blurred with a severity drawn from {1,2,3} and then noised with a severity drawn from {1,2,3}.
 * Sample i draws its severities and noise from its own stream (seed, i), so the result does not
 * depend on how the set is processed.
 */
export function corruptDigits(clean: DigitSet, seed: number, params?: CorruptionParams): DigitSet {
  if ((clean.channels ?? 1) !== 1) throw new Error(`corruptDigits takes grey digits, got ${clean.channels} channels`);
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const out: DigitSet = {
    count: clean.count,
    images: Float32Array.from(clean.images),
    labels: Uint8Array.from(clean.labels),
    blur: new Uint8Array(clean.count),
    noise: new Uint8Array(clean.count),
  };
  for (let i = Math.floor(clean.count / 2); i < clean.count; i++) {
    const rng = createRng(seed, i);
    const blur = uniformInteger(rng, 1, 3) as Severity;
    const noise = uniformInteger(rng, 1, 3) as Severity;
    const img = corrupt(clean.images.subarray(i * px, (i + 1) * px), IMAGE_SIZE, { blur, noise }, rng, params);
    out.images.set(img, i * px);
    out.blur[i] = blur;
    out.noise[i] = noise;
  }
  return out;
}

/** Image i as a view (no copy). */
export function digitImage(set: DigitSet, i: number): Float32Array {
  const px = imageLength(set);
  return set.images.subarray(i * px, (i + 1) * px);
}

/** A subset by indices (copies; a colour set's palette indices are not carried). */
export function selectDigits(set: DigitSet, indices: ArrayLike<number>): DigitSet {
  const px = imageLength(set);
  const n = indices.length;
  const out: DigitSet = {
    count: n,
    ...(set.channels === undefined ? {} : { channels: set.channels }),
    images: new Float32Array(n * px),
    labels: new Uint8Array(n),
    blur: new Uint8Array(n),
    noise: new Uint8Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    out.images.set(digitImage(set, i), k * px);
    out.labels[k] = set.labels[i];
    out.blur[k] = set.blur[i];
    out.noise[k] = set.noise[i];
  }
  return out;
}

/**
 * `n` indices evenly spaced over the split listed class by class (stable within a class): every
 * class in proportion, and within a class the clean and corrupted halves in proportion. Evenly
 * spaced positions over the split itself are not enough: Fashion-MNIST is interleaved by class
 * (sample k is class k mod 10), so every 6th of 60,000 training images lands on the even classes only
 * (a real-vs-real "floor" of five classes against ten, 126.7 instead of a few units).
 */
export function classBalancedSpread(labels: ArrayLike<number>, n: number): number[] {
  const classMajor = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
  return Array.from({ length: n }, (_, i) => classMajor[Math.floor((i * classMajor.length) / n)]).sort((a, b) => a - b);
}
