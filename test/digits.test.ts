import { describe, expect, it } from 'vitest';
import { corrupt, BLUR_SIGMAS } from '../src/core/data/corruption.js';
import { classBalancedSpread, digitImage, IMAGE_SIZE } from '../src/core/data/digits.js';
import { blurLevel, noiseLevel } from '../src/core/data/measures.js';
import { createRng } from '../src/core/random.js';
import { loadDigits } from '../src/node/mnist.js';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('corrupted MNIST', () => {
  const clean = loadDigits('test', 'clean');
  const corrupted = loadDigits('test', 'corrupted');

  it('has the full MNIST splits, padded to 32x32 in [0, 1]', () => {
    expect(loadDigits('train', 'clean').count).toBe(60_000);
    expect(clean.count).toBe(10_000);
    expect(clean.images.length).toBe(10_000 * 32 * 32);
    expect(Math.max(...clean.images.subarray(0, 1024))).toBeLessThanOrEqual(1);
    // The 2 px padding is background.
    const img = digitImage(clean, 0);
    for (let x = 0; x < 32; x++) expect(img[x] + img[32 + x] + img[29 * 32 + x]).toBe(0);
  });

  it('leaves the first half clean and corrupts the second half with severities 1-3', () => {
    let differing = 0;
    for (let i = 0; i < 5000 * 1024; i++) if (corrupted.images[i] !== clean.images[i]) differing++;
    expect(differing).toBe(0);
    for (let i = 0; i < 5000; i++) expect(corrupted.blur[i] + corrupted.noise[i]).toBe(0);
    const seen = new Set<string>();
    for (let i = 5000; i < 10_000; i++) {
      expect(corrupted.blur[i]).toBeGreaterThanOrEqual(1);
      expect(corrupted.noise[i]).toBeLessThanOrEqual(3);
      seen.add(`${corrupted.blur[i]}${corrupted.noise[i]}`);
    }
    expect(seen.size).toBe(9);
    expect(corrupted.labels).toEqual(clean.labels);
  });

  it('is deterministic', () => {
    const again = loadDigits('test', 'corrupted');
    expect(again.images.subarray(9000 * 1024, 9001 * 1024)).toEqual(
      corrupted.images.subarray(9000 * 1024, 9001 * 1024),
    );
  });

  it('matches its metadata: more blur is measurably blurrier, more noise measurably noisier', () => {
    const blurBy: number[][] = [[], [], [], []];
    const noiseBy: number[][] = [[], [], [], []];
    for (let i = 0; i < corrupted.count; i++) {
      const img = digitImage(corrupted, i);
      blurBy[corrupted.blur[i]].push(blurLevel(img, IMAGE_SIZE));
      noiseBy[corrupted.noise[i]].push(noiseLevel(img, IMAGE_SIZE));
    }
    const blur = blurBy.map(mean);
    const noise = noiseBy.map(mean);
    // Strictly increasing means per severity, each step by a clear margin.
    for (let s = 1; s <= 3; s++) {
      expect(blur[s]).toBeGreaterThan(blur[s - 1] + 0.005);
      expect(noise[s]).toBeGreaterThan(noise[s - 1] + 0.03);
    }
    expect(noise[0]).toBeLessThan(0.01);
  });

  it('blurs the same digit more at a higher severity, without noise', () => {
    const img = digitImage(clean, 7);
    const levels = [1, 2, 3].map((b) =>
      blurLevel(corrupt(img, IMAGE_SIZE, { blur: b as 1 | 2 | 3, noise: 0 }, createRng(1)), IMAGE_SIZE),
    );
    expect(levels[0]).toBeGreaterThan(blurLevel(img, IMAGE_SIZE));
    expect(levels[1]).toBeGreaterThan(levels[0]);
    expect(levels[2]).toBeGreaterThan(levels[1]);
    expect(BLUR_SIGMAS).toHaveLength(3);
  });
});

describe('classBalancedSpread (the evaluation subsets of eval-generator)', () => {
  it('keeps every class and both halves in proportion on class-interleaved data (Fashion-MNIST order)', () => {
    // Fashion-MNIST's split order: sample k is class k mod 10; its first half is clean.
    const labels = Uint8Array.from({ length: 60_000 }, (_, k) => k % 10);
    const idx = classBalancedSpread(labels, 10_000);
    expect(idx).toHaveLength(10_000);
    expect(new Set(idx).size).toBe(10_000);
    const perClass = new Array(10).fill(0);
    for (const i of idx) perClass[labels[i]]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
    expect(idx.filter((i) => i < 30_000)).toHaveLength(5000);
  });

  it('keeps the proportions of a class-sorted split too', () => {
    const labels = Uint8Array.from({ length: 1000 }, (_, k) => Math.floor(k / 100));
    const perClass = new Array(10).fill(0);
    for (const i of classBalancedSpread(labels, 100)) perClass[labels[i]]++;
    expect(perClass).toEqual(new Array(10).fill(10));
  });
});
