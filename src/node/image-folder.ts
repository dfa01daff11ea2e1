/**
 * A user's labelled images for training a generator: `DIR/<class name>/*.png`, one subfolder per
 * class (sorted by name: class i is the i-th subfolder). Images must be 32x32, or 28x28 (padded by
 * 2 px of background like MNIST); colour is converted to luminance and values scaled to [0, 1].
 * The generator is a 32x32 single-channel model: other resolutions are refused, not resized.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { IMAGE_SIZE, type DigitSet } from '../core/data/digits.js';

export interface ImageFolder {
  set: DigitSet;
  classNames: string[];
  dir: string;
}

/** At least this many images per class, or the generator has nothing to learn a class from. */
const MIN_IMAGES_PER_CLASS = 1;

function toGray(file: string, png: ReturnType<typeof decode>): Float32Array {
  const { width, height, channels, depth } = png;
  const data = png.data as ArrayLike<number>;
  const max = depth === 16 ? 65535 : depth === 8 ? 255 : 2 ** depth - 1;
  if (png.palette) throw new Error(`${file}: palette PNGs are not supported; save as grayscale or RGB`);
  const colour = channels >= 3;
  const out = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const o = i * channels;
    out[i] = colour ? (0.299 * data[o] + 0.587 * data[o + 1] + 0.114 * data[o + 2]) / max : data[o] / max;
  }
  return out;
}

export function loadImageFolder(dir: string): ImageFolder {
  let entries: string[];
  try {
    entries = readdirSync(dir)
      .filter((e) => statSync(path.join(dir, e)).isDirectory())
      .sort();
  } catch (err) {
    throw new Error(`${dir}: cannot read the data folder: ${(err as Error).message}`);
  }
  if (entries.length < 2)
    throw new Error(`${dir}: needs one subfolder per class (at least 2), found ${entries.length}`);
  const images: Float32Array[] = [];
  const labels: number[] = [];
  entries.forEach((cls, k) => {
    const files = readdirSync(path.join(dir, cls))
      .filter((f) => f.toLowerCase().endsWith('.png'))
      .sort();
    if (files.length < MIN_IMAGES_PER_CLASS)
      throw new Error(`${path.join(dir, cls)}: no PNG images for class "${cls}"`);
    for (const f of files) {
      const file = path.join(dir, cls, f);
      let png: ReturnType<typeof decode>;
      try {
        png = decode(readFileSync(file));
      } catch (err) {
        throw new Error(`${file}: not a readable PNG: ${(err as Error).message}`);
      }
      const gray = toGray(file, png);
      let img: Float32Array;
      if (png.width === IMAGE_SIZE && png.height === IMAGE_SIZE) img = gray;
      else if (png.width === 28 && png.height === 28) {
        img = new Float32Array(IMAGE_SIZE * IMAGE_SIZE);
        for (let y = 0; y < 28; y++) img.set(gray.subarray(y * 28, (y + 1) * 28), (y + 2) * IMAGE_SIZE + 2);
      } else {
        throw new Error(
          `${file}: ${png.width}x${png.height} images are not supported; the generator is 32x32 (28x28 is padded)`,
        );
      }
      images.push(img);
      labels.push(k);
    }
  });
  const count = images.length;
  const set: DigitSet = {
    count,
    images: new Float32Array(count * IMAGE_SIZE * IMAGE_SIZE),
    labels: Uint8Array.from(labels),
    blur: new Uint8Array(count),
    noise: new Uint8Array(count),
  };
  images.forEach((img, i) => set.images.set(img, i * IMAGE_SIZE * IMAGE_SIZE));
  return { set, classNames: entries, dir };
}
