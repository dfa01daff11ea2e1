/**
 * Start styles for the live endpoints: s from (seed, class) through the mapping network, or the
 * class-average style; per-dim std of s for edits in std units. The statistics come from a fixed
 * seeded population through mapping + affines only (no synthesis: a few ms), memoised per isolate,
 * so live endpoints never depend on a heavy cached result.
 */
import * as tf from '../core/tf.js';
import type { Generator } from '../core/generator/generator.js';
import { styleDimName } from '../core/generator/style-layout.js';
import { latentBatch } from '../core/random.js';
import { badField } from './problem.js';

/** Samples per class of the statistics population. */
const STATS_PER_CLASS = 50;
const STATS_SEED = 0x5eed;

export interface StyleStats {
  /** Per-dim std over all classes, [S]. */
  std: Float32Array;
  /** Mean style per class, [K][S]. */
  classMean: Float32Array[];
  count: number;
}

const statsCache = new WeakMap<Generator, StyleStats>();

export function styleStats(g: Generator): StyleStats {
  let st = statsCache.get(g);
  if (st) return st;
  const K = g.arch.numClasses;
  const S = g.styleSize;
  const n = K * STATS_PER_CLASS;
  const labels = Array.from({ length: n }, (_, i) => i % K);
  const s = tf.tidy(() => g.styles(g.mapping(tf.tensor2d(latentBatch(STATS_SEED, 0, n, g.arch.zDim), [n, g.arch.zDim]), labels)));
  const v = s.dataSync() as Float32Array;
  s.dispose();
  const mean = new Float64Array(S);
  const sq = new Float64Array(S);
  const classMean = Array.from({ length: K }, () => new Float32Array(S));
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let j = 0; j < S; j++) {
      const x = v[i * S + j];
      mean[j] += x;
      sq[j] += x * x;
      classMean[c][j] += x / STATS_PER_CLASS;
    }
  }
  const std = new Float32Array(S);
  for (let j = 0; j < S; j++) {
    const m = mean[j] / n;
    std[j] = Math.sqrt(Math.max(0, (sq[j] - n * m * m) / (n - 1)));
  }
  st = { std, classMean, count: n };
  statsCache.set(g, st);
  return st;
}

/** s of sample `seed` of class `classIndex` ([S]). */
export function seedStyle(g: Generator, seed: number, classIndex: number): Float32Array {
  const s = tf.tidy(() => g.styles(g.mapping(tf.tensor2d(latentBatch(seed, 0, 1, g.arch.zDim), [1, g.arch.zDim]), [classIndex])));
  const v = Float32Array.from(s.dataSync() as Float32Array);
  s.dispose();
  return v;
}

export interface StyleEdit {
  dim: number;
  /** Shift in std units of the dim (over the statistics population). */
  shift?: number;
  /** Absolute value to set. */
  value?: number;
}

export function checkDim(g: Generator, dim: number, field: string): void {
  if (dim >= g.styleSize) throw badField(field, `${field} must be < ${g.styleSize} (the size of StyleSpace S), got ${dim}`);
}

/** Applies edits in place; returns them with the dims' names and the std used. */
export function applyEdits(g: Generator, s: Float32Array, edits: StyleEdit[]): Array<StyleEdit & { name: string; std: number }> {
  const { std } = styleStats(g);
  return edits.map((e, i) => {
    checkDim(g, e.dim, `edits.${i}.dim`);
    if (e.value !== undefined) s[e.dim] = e.value;
    else s[e.dim] += (e.shift ?? 0) * std[e.dim];
    return { ...e, name: styleDimName(g.layout, e.dim), std: std[e.dim] };
  });
}
