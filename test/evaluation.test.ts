import { describe, expect, it } from 'vitest';
import { featureMoments, frechetDistance } from '../src/core/evaluation/frechet.js';
import { createRng, normals } from '../src/core/random.js';

/** n samples of independent normals with per-dim mean and std. */
function gaussian(n: number, mean: number[], std: number[], seed: number): Float32Array {
  const d = mean.length;
  const z = normals(createRng(seed), n * d);
  return z.map((v, i) => mean[i % d] + std[i % d] * v);
}

describe('Fréchet distance', () => {
  it('is 0 between a set and itself', () => {
    const x = gaussian(2000, [0, 1, 2], [1, 2, 0.5], 1);
    const m = featureMoments(x, 2000, 3);
    expect(Math.abs(frechetDistance(m, m))).toBeLessThan(1e-9);
  });

  it('matches the closed form for diagonal Gaussians: |dmu|^2 + sum (s1 - s2)^2', () => {
    const n = 40_000;
    const a = featureMoments(gaussian(n, [0, 0, 0, 0], [1, 1, 2, 0.5], 2), n, 4);
    const b = featureMoments(gaussian(n, [1, 0, -1, 0], [1, 3, 2, 0.5], 3), n, 4);
    const expected = 1 + 1 + (1 - 3) ** 2; // = 6
    expect(frechetDistance(a, b)).toBeCloseTo(expected, 0);
    expect(Math.abs(frechetDistance(a, b) - expected)).toBeLessThan(0.15);
    expect(frechetDistance(a, b)).toBeCloseTo(frechetDistance(b, a), 6);
  });

  it('rejects mismatched dimensions', () => {
    const a = featureMoments(gaussian(10, [0, 0], [1, 1], 4), 10, 2);
    const b = featureMoments(gaussian(10, [0, 0, 0], [1, 1, 1], 5), 10, 3);
    expect(() => frechetDistance(a, b)).toThrow(/dimensions/);
  });
});
