/**
 * Ranking sums (ranking.ts) as plain numbers: their merge, per-dim moments and the ranking of S
 * they give. No tfjs here, so what serves a cached ranking (the edge's result cache) loads none.
 */
import { contentHash } from '../hash.js';
import { styleDim, type StyleLayout } from '../generator/style-layout.js';
import { RANKING_SUMS_SCHEMA, RANKING_SCHEMA } from './schema-versions.js';
export { RANKING_SUMS_SCHEMA, RANKING_SCHEMA };

/** Partial sums of a ranking sweep over samples [start, end) of a population. */
export interface RankingSums {
  schema: typeof RANKING_SUMS_SCHEMA;
  /** Hash of (models, population spec): only sums with the same hash can be merged. */
  specHash: string;
  /** Sample ranges covered, sorted and disjoint (one range for a fresh shard). */
  ranges: Array<[number, number]>;
  styleSize: number;
  numClasses: number;
  /** Per class: samples, well-classified samples. */
  count: number[];
  correct: number[];
  /** Per class and dim, row-major [numClasses][styleSize]. */
  gradSum: number[];
  gradSqSum: number[];
  styleSum: number[];
  styleSqSum: number[];
}

/** Zero sums for (spec hash, S, K) over `ranges`. */
export function emptySums(specHash: string, S: number, K: number, ranges: Array<[number, number]>): RankingSums {
  const z = () => new Array<number>(S * K).fill(0);
  return {
    schema: RANKING_SUMS_SCHEMA,
    specHash,
    ranges,
    styleSize: S,
    numClasses: K,
    count: new Array(K).fill(0),
    correct: new Array(K).fill(0),
    gradSum: z(),
    gradSqSum: z(),
    styleSum: z(),
    styleSqSum: z(),
  };
}

/**
 * Merges partial sums of one sweep. The result does not depend on the order of `parts`: they are
 * summed in the order of their sample ranges, which must not overlap.
 */
export function mergeRankingSums(parts: readonly RankingSums[]): RankingSums {
  if (parts.length === 0) throw new Error('nothing to merge');
  const first = parts[0];
  for (const p of parts) {
    if (p.schema !== RANKING_SUMS_SCHEMA) throw new Error(`cannot merge sums of schema "${p.schema}"`);
    if (p.specHash !== first.specHash) throw new Error('cannot merge sums of different sweeps (spec hashes differ)');
    if (p.styleSize !== first.styleSize || p.numClasses !== first.numClasses)
      throw new Error('cannot merge sums of different shapes');
  }
  const sorted = [...parts].sort((a, b) => a.ranges[0][0] - b.ranges[0][0]);
  const ranges = sorted.flatMap((p) => p.ranges).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1])
      throw new Error(`sample ranges overlap: [${ranges[i - 1]}) and [${ranges[i]})`);
  }
  const out = emptySums(first.specHash, first.styleSize, first.numClasses, mergeAdjacent(ranges));
  for (const p of sorted) {
    for (let c = 0; c < out.numClasses; c++) {
      out.count[c] += p.count[c];
      out.correct[c] += p.correct[c];
    }
    for (const key of ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const) {
      const dst = out[key];
      const src = p[key];
      for (let i = 0; i < dst.length; i++) dst[i] += src[i];
    }
  }
  return out;
}

function mergeAdjacent(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last[1] === r[0]) last[1] = r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Number of samples the sums cover. */
export function sumsCount(sums: RankingSums): number {
  return sums.count.reduce((a, b) => a + b, 0);
}

export interface RankedDim {
  rank: number;
  /** Flat index in S. */
  index: number;
  layer: string;
  channel: number;
  /** -mean(d p_true / d s_j) * std(s_j). */
  score: number;
  meanGradient: number;
  /** Standard error of the mean gradient. */
  standardError: number;
  /** Which way to move s_j to lower p_true. */
  direction: 'increase' | 'decrease';
  mean: number;
  std: number;
}

export interface Ranking {
  schema: typeof RANKING_SCHEMA;
  specHash: string;
  /** null = all classes. */
  classIndex: number | null;
  count: number;
  /** Dims sorted by |score|, most influential first. */
  dims: RankedDim[];
}

/** Per-dim mean and std of s over the selected classes (null = all). */
export function styleMoments(
  sums: RankingSums,
  classIndex: number | null,
): { count: number; mean: Float64Array; std: Float64Array } {
  const S = sums.styleSize;
  const classes = classIndex === null ? [...Array(sums.numClasses).keys()] : [classIndex];
  const mean = new Float64Array(S);
  const sq = new Float64Array(S);
  let n = 0;
  for (const c of classes) {
    n += sums.count[c];
    for (let j = 0; j < S; j++) {
      mean[j] += sums.styleSum[c * S + j];
      sq[j] += sums.styleSqSum[c * S + j];
    }
  }
  const std = new Float64Array(S);
  for (let j = 0; j < S; j++) {
    mean[j] /= Math.max(1, n);
    std[j] = n > 1 ? Math.sqrt(Math.max(0, (sq[j] - n * mean[j] * mean[j]) / (n - 1))) : 0;
  }
  return { count: n, mean, std };
}

/** Ranks every dim of S from merged sums, for all classes or one. */
export function rankDimensions(sums: RankingSums, layout: StyleLayout, classIndex: number | null = null): Ranking {
  const S = sums.styleSize;
  if (layout.size !== S) throw new Error(`layout has ${layout.size} dims, sums have ${S}`);
  if (classIndex !== null && (classIndex < 0 || classIndex >= sums.numClasses))
    throw new RangeError(`no class ${classIndex}`);
  const classes = classIndex === null ? [...Array(sums.numClasses).keys()] : [classIndex];
  const { count: n, mean, std } = styleMoments(sums, classIndex);
  if (n < 2)
    throw new Error(
      `ranking needs at least 2 samples${classIndex === null ? '' : ` of class ${classIndex}`}, got ${n}`,
    );
  const dims: RankedDim[] = [];
  for (let j = 0; j < S; j++) {
    let g = 0;
    let g2 = 0;
    for (const c of classes) {
      g += sums.gradSum[c * S + j];
      g2 += sums.gradSqSum[c * S + j];
    }
    const meanGradient = g / n;
    const variance = Math.max(0, (g2 - n * meanGradient * meanGradient) / (n - 1));
    const score = -meanGradient * std[j];
    const { layer, channel } = styleDim(layout, j);
    dims.push({
      rank: 0,
      index: j,
      layer,
      channel,
      score,
      meanGradient,
      standardError: Math.sqrt(variance / n),
      direction: score >= 0 ? 'increase' : 'decrease',
      mean: mean[j],
      std: std[j],
    });
  }
  dims.sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || a.index - b.index);
  dims.forEach((d, i) => (d.rank = i + 1));
  return {
    schema: RANKING_SCHEMA,
    specHash: contentHash({ sums: sums.specHash, classIndex }),
    classIndex,
    count: n,
    dims,
  };
}
