/**
 * Accuracy as a function of distance in S (paper figure 6): the centre of the well-classified
 * samples in the top dims (100 by default, as in the authors' code), the distance of every sample to
 * it in std units over those dims, divided by a robust scale (the 95th percentile of the
 * well-classified samples' distances by default), and the accuracy per distance bin over [0, 1]
 * with counts and a 95% Wilson interval.
 *
 * Samples beyond the scale (normalised distance > 1; about 5% of the well-classified ones and more
 * of the mis-classified) are reported as a separate group, `beyond`, rather than clipped into the
 * last bin: clipped, the last bin would mix distances from 0.9 to 2 or more and its accuracy would
 * not be the accuracy at 0.9-1 that the axis shows. The percentile, not the farthest sample, sets
 * the axis, so far samples cannot stretch it (the paper's plots, too, leave them off the axis).
 *
 * The robustness score is the area under the accuracy-vs-distance curve over [0, 1] of the robust
 * scale: the mean accuracy of the bins that hold at least `minCount` samples (equal widths, so the
 * mean is the area). Bins with fewer samples are marked `sparse` and kept out, and `beyond` is not
 * in it (it has no width on the axis). Weighting every sample equally instead would give the plain
 * accuracy, which the report already states; the area weighs distance evenly, so a classifier whose
 * accuracy falls off away from the well-classified centre scores lower than one that holds it, at
 * equal accuracy. Against the former score (an unweighted mean over the non-empty bins of a min-max
 * axis, where two one-sample bins carried 20% of it), a far sample cannot move the scale (it is a
 * percentile) and a small bin cannot carry the score (minCount): one sample moves it by about
 * 1 / (minCount x bins) at most, unless it takes a bin across `minCount`
 * (test/accuracy-curve.test.ts). Its 95% confidence interval is a seeded percentile bootstrap over
 * samples (the scale re-estimated in each resample; the centres, means over 100 dims, held fixed),
 * identical on every run.
 *
 * Over all classes of a class-conditional generator, each sample is measured from the centre of its
 * own class (when labels are given): class identity lives in S too, so one pooled centre would
 * measure how far a sample's class sits from the average class rather than how far the sample has
 * drifted from what its classifier handles well. Measured on the trained MNIST generator: with one
 * pooled centre the accuracy rose with distance over most of the range, while every per-class curve
 * fell, as in the paper.
 *
 * Comparing classifiers: the same population (same styles, hence same images), the same dims, the
 * same centre and the same scale — only the correctness differs — so the curves share one x-axis,
 * one set of bins and the same bootstrap resamples. The centre, dims and scale come from the
 * reference (first) classifier.
 */
import { createRng } from '../random.js';
import { wilsonInterval } from './stats.js';
import type { LabelledStyles } from './histograms.js';
import type { RankedDim } from './ranking.js';
import { ACCURACY_CURVE_SCHEMA } from './schema-versions.js';

/** Counts of a group of samples, with the accuracy and its 95% Wilson interval (NaN when empty). */
interface AccuracyCount {
  count: number;
  correct: number;
  accuracy: number;
  ciLow: number;
  ciHigh: number;
}

interface AccuracyGroup extends AccuracyCount {
  /** Fewer than `minCount` samples: shown, but kept out of the robustness score. */
  sparse: boolean;
}

interface AccuracyBin extends AccuracyGroup {
  /** Normalised distance range [lo, hi) (the last bin includes 1). */
  lo: number;
  hi: number;
}

export interface Robustness {
  /** Area under the accuracy curve over [0, 1]: the mean accuracy of the non-sparse bins (1 = never fails); NaN when no bin has `minCount` samples. */
  score: number;
  /** 95% percentile-bootstrap interval of the score. */
  ciLow: number;
  ciHigh: number;
  /** Samples in the bins the score averages. */
  samples: number;
}

export interface AccuracyCurve {
  classifier: string;
  bins: AccuracyBin[];
  /** Samples beyond the scale (normalised distance > 1): in no bin and not in the score. */
  beyond: AccuracyGroup;
  robustness: Robustness;
  /** Accuracy over all samples (beyond the scale too). */
  accuracy: number;
}

export interface DistanceNormalisation {
  /** x = distance / scale: the raw distance (std units) mapped to 1. */
  scale: number;
  /** The scale is this percentile of the distances of the reference's well-classified samples (of all samples when none is). */
  percentile: number;
  /** Raw distance (std units) of the nearest and the farthest sample. */
  minDistance: number;
  maxDistance: number;
}

export interface AccuracyCurvesResult {
  schema: typeof ACCURACY_CURVE_SCHEMA;
  /** null = all classes. */
  classIndex: number | null;
  dims: number[];
  /** Which samples the centre is the mean of (all of them when none is well classified). */
  centredOn: 'well-classified' | 'all';
  /** One centre for all samples, or one per class (each sample measured from its own class's). */
  centres: 'pooled' | 'per-class';
  normalisation: DistanceNormalisation;
  /** Bins (and `beyond`) with fewer samples are sparse: out of the score. */
  minCount: number;
  /** Bootstrap of the robustness score: resamples of the samples, from seed. */
  bootstrap: { resamples: number; seed: number };
  count: number;
  curves: AccuracyCurve[];
}

/** How distances become bins and a score (`accuracyCurves` and `accuracyAtDistances`). */
export interface AccuracyBinning {
  bins?: number;
  /** The percentile (0-100] of the well-classified samples' distances that normalised distance 1 stands for; default 95. */
  scalePercentile?: number;
  /** Bins (and `beyond`) with fewer samples are sparse: drawn, but kept out of the score; default 20. */
  minCount?: number;
  /** Bootstrap resamples for the score's interval; default 200 (0: no interval). */
  resamples?: number;
  /** Seed of the bootstrap; default 1. */
  bootstrapSeed?: number;
}

export interface AccuracyCurveOptions extends AccuracyBinning {
  /** Ranked dims; the first `topDims` are used. */
  ranking: RankedDim[];
  topDims?: number;
  /** Only samples of this class (labels needed). */
  classIndex?: number | null;
  /** Class of every sample (per-class centres, the per-class filter). */
  labels?: Uint8Array;
  /** Over all classes: one centre per class (default when labels are given) or one pooled centre. */
  centres?: 'pooled' | 'per-class';
}

const counted = (count: number, correct: number): AccuracyCount => {
  const [ciLow, ciHigh] = wilsonInterval(correct, count);
  return { count, correct, accuracy: count ? correct / count : NaN, ciLow, ciHigh };
};

/** Linear-interpolated quantile (q in [0, 1]) of sorted values. */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Bins, beyond-scale counts, robustness score and its bootstrap interval of classifiers' correctness
 * over samples at given distances (all arrays indexed by sample).
 * @param distances distance of every sample to its centre (std units)
 * @param scaleFrom 1 for the samples whose distances the scale is a percentile of (the reference's well-classified)
 * @param curves each classifier's correctness (0/1) per sample, in order
 * @example
 * const { normalisation, curves } = accuracyAtDistances(dist, correctA, [{ classifier: 'a', correct: correctA }]);
 */
export function accuracyAtDistances(
  distances: ArrayLike<number>,
  scaleFrom: ArrayLike<number>,
  curves: ReadonlyArray<{ classifier: string; correct: ArrayLike<number> }>,
  opts: AccuracyBinning = {},
): { normalisation: DistanceNormalisation; curves: AccuracyCurve[] } {
  const n = distances.length;
  const nb = opts.bins ?? 10;
  const percentile = opts.scalePercentile ?? 95;
  const minCount = opts.minCount ?? 20;
  const resamples = opts.resamples ?? 200;
  if (!(nb >= 1 && Number.isInteger(nb))) throw new RangeError(`bins must be a positive integer, got ${nb}`);
  if (!(percentile > 0 && percentile <= 100))
    throw new RangeError(`scalePercentile must be in (0, 100], got ${percentile}`);
  if (!(minCount >= 0) || !(resamples >= 0 && Number.isInteger(resamples)))
    throw new RangeError('minCount and resamples must be non-negative');
  if (scaleFrom.length !== n || curves.some((c) => c.correct.length !== n))
    throw new Error('distances, scaleFrom and every correctness must have one entry per sample');
  const d = Float64Array.from(distances);
  let minD = Infinity;
  let maxD = -Infinity;
  for (let i = 0; i < n; i++) {
    if (d[i] < minD) minD = d[i];
    if (d[i] > maxD) maxD = d[i];
  }
  // The samples the scale is a percentile of, nearest first (for weighted percentiles in resamples).
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (scaleFrom[i]) order.push(i);
  if (order.length === 0) for (let i = 0; i < n; i++) order.push(i); // none given: all samples
  order.sort((a, b) => d[a] - d[b]);
  const q = percentile / 100;
  /** The scale with sample i counted mult[i] times (once each when mult is null). */
  const scaleOf = (mult: Uint32Array | null): number => {
    let total = 0;
    if (mult === null) total = order.length;
    else for (const i of order) total += mult[i];
    if (total === 0) return NaN;
    const pos = q * (total - 1);
    const rLo = Math.floor(pos);
    const rHi = Math.min(total - 1, rLo + 1);
    let vLo = NaN;
    let vHi = NaN;
    let seen = 0;
    for (const i of order) {
      seen += mult === null ? 1 : mult[i];
      if (Number.isNaN(vLo) && seen > rLo) vLo = d[i];
      if (seen > rHi) {
        vHi = d[i];
        break;
      }
    }
    const s = vLo + (pos - rLo) * (vHi - vLo);
    // Degenerate (every such sample on its centre): fall back to the farthest sample, then to 1.
    return s > 0 ? s : maxD > 0 ? maxD : 1;
  };
  const binOf = (x: number) => (x > 1 ? nb : Math.min(nb - 1, Math.floor(x * nb)));
  const corrects = curves.map((c) => Uint8Array.from(c.correct, (v) => (v ? 1 : 0)));
  /**
   * Bin counts (shared: the same samples) and each curve's correct counts with sample i counted
   * mult[i] times (once each when mult is null); index nb holds the samples beyond the scale.
   */
  const tally = (mult: Uint32Array | null, scale: number) => {
    const count = new Float64Array(nb + 1);
    const hits = corrects.map(() => new Float64Array(nb + 1));
    for (let i = 0; i < n; i++) {
      const m = mult === null ? 1 : mult[i];
      if (m === 0) continue;
      const b = binOf(d[i] / scale);
      count[b] += m;
      for (let k = 0; k < hits.length; k++) hits[k][b] += m * corrects[k][i];
    }
    return { count, hits };
  };
  const sparse = (c: number) => c === 0 || c < minCount;
  /** Each curve's (sum of the non-sparse bins' accuracies, bins kept, samples in them): the score is the mean. */
  const scores = (t: ReturnType<typeof tally>): Array<[number, number, number]> =>
    t.hits.map((h) => {
      let bins = 0;
      let area = 0;
      let samples = 0;
      for (let b = 0; b < nb; b++) {
        if (sparse(t.count[b])) continue;
        bins++;
        area += h[b] / t.count[b];
        samples += t.count[b];
      }
      return [area, bins, samples];
    });

  const scale = scaleOf(null);
  const at = tally(null, scale);
  const point = scores(at);

  // Percentile bootstrap over samples, the same resamples for every curve (paired comparisons).
  // Indices from one 32-bit draw each: floor(u * n / 2^32) favours some indices by at most n / 2^32
  // (5e-5 at 200,000 samples), far below the bootstrap's own noise, and costs half a 53-bit uniform.
  const boot = curves.map(() => [] as number[]);
  if (n > 0 && resamples > 0) {
    const rng = createRng(opts.bootstrapSeed ?? 1);
    const mult = new Uint32Array(n);
    for (let r = 0; r < resamples; r++) {
      mult.fill(0);
      for (let k = 0; k < n; k++) mult[Math.floor(((rng.next() >>> 0) * n) / 4294967296)]++;
      const s = scaleOf(mult);
      if (!(s > 0)) continue;
      scores(tally(mult, s)).forEach(([area, bins], c) => {
        if (bins > 0) boot[c].push(area / bins);
      });
    }
  }

  return {
    normalisation: { scale, percentile, minDistance: n ? minD : NaN, maxDistance: n ? maxD : NaN },
    curves: curves.map((c, k) => {
      const [area, bins, kept] = point[k];
      const sorted = Float64Array.from(boot[k]).sort();
      // Half the resamples or more without a score (too few samples): no interval.
      const ci =
        kept > 0 && sorted.length * 2 >= resamples && sorted.length > 0
          ? [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)]
          : [NaN, NaN];
      let all = 0;
      for (let i = 0; i < n; i++) all += corrects[k][i];
      return {
        classifier: c.classifier,
        bins: Array.from({ length: nb }, (_, b) => ({
          lo: b / nb,
          hi: (b + 1) / nb,
          ...counted(at.count[b], at.hits[k][b]),
          sparse: sparse(at.count[b]),
        })),
        beyond: { ...counted(at.count[nb], at.hits[k][nb]), sparse: sparse(at.count[nb]) },
        robustness: { score: bins > 0 ? area / bins : NaN, ciLow: ci[0], ciHigh: ci[1], samples: kept },
        accuracy: n ? all / n : NaN,
      };
    }),
  };
}

/**
 * @param pop styles and the reference classifier's correctness
 * @param others further classifiers' correctness on the same samples, by name
 * @example
 * const r = accuracyCurves(popClean, 'classifier-clean', { ranking: ranking.dims }, { 'classifier-corrupted': popCorrupted.correct });
 */
export function accuracyCurves(
  pop: LabelledStyles,
  name: string,
  opts: AccuracyCurveOptions,
  others: Record<string, Uint8Array> = {},
): AccuracyCurvesResult {
  const dims = opts.ranking.slice(0, opts.topDims ?? 100);
  const classIndex = opts.classIndex ?? null;
  if (classIndex !== null && opts.labels === undefined) throw new Error('a per-class accuracy curve needs labels');
  const members: number[] = [];
  for (let i = 0; i < pop.count; i++) if (classIndex === null || opts.labels![i] === classIndex) members.push(i);
  if (members.length === 0) throw new Error(`no samples${classIndex === null ? '' : ` of class ${classIndex}`}`);
  for (const [other, correct] of Object.entries(others)) {
    if (correct.length !== pop.count)
      throw new Error(`correctness of ${other} has ${correct.length} samples, the population ${pop.count}`);
  }
  // Centres: mean style of the reference classifier's well-classified samples, per class when the
  // labels allow it (a single class is one group either way).
  const centresMode = opts.centres ?? (opts.labels === undefined ? 'pooled' : 'per-class');
  if (centresMode === 'per-class' && opts.labels === undefined) throw new Error('per-class centres need labels');
  const perClass = classIndex === null && centresMode === 'per-class';
  const group = (i: number) => (perClass ? opts.labels![i] : 0);
  const groups = new Map<number, number[]>();
  for (const i of members) {
    const g = group(i);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(i);
  }
  let allWell = true;
  const centres = new Map<number, Float64Array>();
  for (const [g, idx] of groups) {
    const anyWell = idx.some((i) => pop.correct[i] === 1);
    allWell &&= anyWell;
    const centre = new Float64Array(dims.length);
    let n = 0;
    for (const i of idx) {
      if (anyWell && !pop.correct[i]) continue;
      n++;
      dims.forEach((d, k) => (centre[k] += pop.styles[i * pop.styleSize + d.index]));
    }
    centre.forEach((_, k) => (centre[k] /= n));
    centres.set(g, centre);
  }
  const dist = Float64Array.from(members, (i) => {
    const centre = centres.get(group(i))!;
    let acc = 0;
    dims.forEach((d, k) => {
      const z = (pop.styles[i * pop.styleSize + d.index] - centre[k]) / (d.std > 0 ? d.std : 1);
      acc += z * z;
    });
    return Math.sqrt(acc);
  });
  // The scale from the reference's well-classified samples, like the centres (all when none is).
  const anyWell = members.some((i) => pop.correct[i] === 1);
  const scaleFrom = Uint8Array.from(members, (i) => (anyWell ? pop.correct[i] : 1));
  const of = (correct: Uint8Array) => Uint8Array.from(members, (i) => correct[i]);
  const curves = [
    { classifier: name, correct: of(pop.correct) },
    ...Object.entries(others).map(([n, c]) => ({ classifier: n, correct: of(c) })),
  ];
  const r = accuracyAtDistances(dist, scaleFrom, curves, opts);
  return {
    schema: ACCURACY_CURVE_SCHEMA,
    classIndex,
    dims: dims.map((d) => d.index),
    centredOn: allWell ? 'well-classified' : 'all',
    centres: perClass ? 'per-class' : 'pooled',
    normalisation: r.normalisation,
    minCount: opts.minCount ?? 20,
    bootstrap: { resamples: opts.resamples ?? 200, seed: opts.bootstrapSeed ?? 1 },
    count: members.length,
    curves: r.curves,
  };
}
