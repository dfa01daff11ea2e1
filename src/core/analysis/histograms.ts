/**
 * Histograms of s_j for well- vs mis-classified samples (paper figure 4), with the two-sample KS
 * distance and AUROC, so that "top dims separate, random dims do not" is a number.
 */
import { createRng, permutation } from '../random.js';
import { auroc, ksDistance } from './stats.js';
import type { RankedDim } from './ranking.js';
import { HISTOGRAMS_SCHEMA } from './schema-versions.js';

/** What the histograms need of a population. */
export interface LabelledStyles {
  count: number;
  styleSize: number;
  styles: Float32Array;
  correct: Uint8Array;
}

interface DimHistogram {
  dim: number;
  /** 'top' (from the ranking) or 'random' (baseline). */
  group: 'top' | 'random';
  rank: number | null;
  /** bins + 1 edges. */
  edges: number[];
  /** Counts per bin. */
  well: number[];
  mis: number[];
  /** Two-sample KS distance between the well and mis values (0 = same distribution, 1 = disjoint). */
  ks: number;
  /** AUROC of mis- vs well-classified values; |auroc - 0.5| * 2 is direction-free separation. */
  auroc: number;
}

export interface HistogramsResult {
  schema: typeof HISTOGRAMS_SCHEMA;
  wellCount: number;
  misCount: number;
  dims: DimHistogram[];
  /** Mean KS distance of the top dims and of the random dims. */
  meanKsTop: number;
  meanKsRandom: number;
}

export interface HistogramOptions {
  /** Ranked dims (most influential first). */
  ranking: RankedDim[];
  /** Top dims to plot. Default 3. */
  top?: number;
  /** Random dims (outside the top 10% of the ranking) for the baseline. Default 3. */
  random?: number;
  /** Seed for picking random dims. Default 0. */
  seed?: number;
  bins?: number;
}

function dimHistogram(
  pop: LabelledStyles,
  dim: number,
  bins: number,
  group: DimHistogram['group'],
  rank: number | null,
): DimHistogram {
  const well: number[] = [];
  const mis: number[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < pop.count; i++) {
    const v = pop.styles[i * pop.styleSize + dim];
    (pop.correct[i] ? well : mis).push(v);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi === lo) hi = lo + 1;
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + ((hi - lo) * b) / bins);
  const count = (xs: number[]) => {
    const h = new Array<number>(bins).fill(0);
    for (const v of xs) h[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
    return h;
  };
  return {
    dim,
    group,
    rank,
    edges,
    well: count(well),
    mis: count(mis),
    ks: ksDistance(well, mis),
    auroc: auroc(mis, well),
  };
}

export function styleHistograms(pop: LabelledStyles, opts: HistogramOptions): HistogramsResult {
  const top = opts.top ?? 3;
  const nRandom = opts.random ?? 3;
  const bins = opts.bins ?? 30;
  const ranked = opts.ranking;
  const topDims = ranked.slice(0, top);
  // Baseline: random dims from outside the most influential 10%.
  const pool = ranked.slice(Math.max(top, Math.ceil(ranked.length * 0.1)));
  const perm = permutation(createRng(opts.seed ?? 0), pool.length);
  const randomDims = Array.from({ length: Math.min(nRandom, pool.length) }, (_, i) => pool[perm[i]]);
  const dims = [
    ...topDims.map((d) => dimHistogram(pop, d.index, bins, 'top', d.rank)),
    ...randomDims.map((d) => dimHistogram(pop, d.index, bins, 'random', d.rank)),
  ];
  let wellCount = 0;
  for (let i = 0; i < pop.count; i++) wellCount += pop.correct[i];
  const mean = (g: DimHistogram['group']) => {
    const ks = dims.filter((d) => d.group === g).map((d) => d.ks);
    return ks.reduce((a, b) => a + b, 0) / ks.length;
  };
  return {
    schema: HISTOGRAMS_SCHEMA,
    wellCount,
    misCount: pop.count - wellCount,
    dims,
    meanKsTop: mean('top'),
    meanKsRandom: mean('random'),
  };
}
