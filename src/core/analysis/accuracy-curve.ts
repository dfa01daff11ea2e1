/**
 * Accuracy as a function of distance in S (paper figure 6): the centre of the well-classified
 * samples in the top dims (100 by default, as in the authors' code), the distance of every sample to
 * it in std units over those dims, min-max normalised to [0, 1], and the accuracy per distance bin
 * with counts and a 95% Wilson interval; its area under the curve is one robustness score.
 *
 * Over all classes of a class-conditional generator, each sample is measured from the centre of its
 * own class (when labels are given): class identity lives in S too, so one pooled centre would
 * measure how far a sample's class sits from the average class rather than how far the sample has
 * drifted from what its classifier handles well. Measured on the trained MNIST generator: with one
 * pooled centre the accuracy rose with distance over most of the range, while every per-class curve
 * fell, as in the paper.
 *
 * Comparing classifiers: the same population (same styles, hence same images), the same dims, the
 * same centre and the same normalisation — only the correctness differs — so the curves share one
 * x-axis. The centre and dims come from the reference (first) classifier.
 */
import { wilsonInterval } from './stats.js';
import type { LabelledStyles } from './histograms.js';
import type { RankedDim } from './ranking.js';

export const ACCURACY_CURVE_SCHEMA = 'faultlines.accuracy-curve/1';

export interface AccuracyBin {
  /** Normalised distance range [lo, hi). */
  lo: number;
  hi: number;
  count: number;
  correct: number;
  /** NaN for an empty bin. */
  accuracy: number;
  ciLow: number;
  ciHigh: number;
}

export interface AccuracyCurve {
  classifier: string;
  bins: AccuracyBin[];
  /** Width-weighted mean accuracy over non-empty bins: the robustness score (1 = never fails). */
  auc: number;
  accuracy: number;
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
  /** Raw distance (std units) mapped to 0 and to 1. */
  minDistance: number;
  maxDistance: number;
  count: number;
  curves: AccuracyCurve[];
}

export interface AccuracyCurveOptions {
  /** Ranked dims; the first `topDims` are used. */
  ranking: RankedDim[];
  topDims?: number;
  bins?: number;
  /** Only samples of this class (labels needed). */
  classIndex?: number | null;
  /** Class of every sample (per-class centres, the per-class filter). */
  labels?: Uint8Array;
  /** Over all classes: one centre per class (default when labels are given) or one pooled centre. */
  centres?: 'pooled' | 'per-class';
}

/**
 * @param pop styles and the reference classifier's correctness
 * @param others further classifiers' correctness on the same samples, by name
 * @example
 * const r = accuracyCurves(popClean, 'classifier-clean', { ranking: ranking.dims }, { 'classifier-corrupted': popCorrupted.correct });
 */
export function accuracyCurves(pop: LabelledStyles, name: string, opts: AccuracyCurveOptions, others: Record<string, Uint8Array> = {}): AccuracyCurvesResult {
  const dims = opts.ranking.slice(0, opts.topDims ?? 100);
  const nb = opts.bins ?? 10;
  const classIndex = opts.classIndex ?? null;
  if (classIndex !== null && opts.labels === undefined) throw new Error('a per-class accuracy curve needs labels');
  const members: number[] = [];
  for (let i = 0; i < pop.count; i++) if (classIndex === null || opts.labels![i] === classIndex) members.push(i);
  if (members.length === 0) throw new Error(`no samples${classIndex === null ? '' : ` of class ${classIndex}`}`);
  for (const [other, correct] of Object.entries(others)) {
    if (correct.length !== pop.count) throw new Error(`correctness of ${other} has ${correct.length} samples, the population ${pop.count}`);
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
  const dist = members.map((i) => {
    const centre = centres.get(group(i))!;
    let acc = 0;
    dims.forEach((d, k) => {
      const z = (pop.styles[i * pop.styleSize + d.index] - centre[k]) / (d.std > 0 ? d.std : 1);
      acc += z * z;
    });
    return Math.sqrt(acc);
  });
  const minD = Math.min(...dist);
  const maxD = Math.max(...dist);
  const span = maxD - minD || 1;
  const binOf = dist.map((d) => Math.min(nb - 1, Math.floor(((d - minD) / span) * nb)));
  const curve = (classifier: string, correct: Uint8Array): AccuracyCurve => {
    const count = new Array<number>(nb).fill(0);
    const hits = new Array<number>(nb).fill(0);
    members.forEach((i, m) => {
      count[binOf[m]]++;
      hits[binOf[m]] += correct[i];
    });
    const bins = count.map((n, b) => {
      const [ciLow, ciHigh] = wilsonInterval(hits[b], n);
      return { lo: b / nb, hi: (b + 1) / nb, count: n, correct: hits[b], accuracy: n ? hits[b] / n : NaN, ciLow, ciHigh };
    });
    const filled = bins.filter((b) => b.count > 0);
    return {
      classifier,
      bins,
      auc: filled.reduce((a, b) => a + b.accuracy, 0) / filled.length,
      accuracy: hits.reduce((a, b) => a + b, 0) / members.length,
    };
  };
  return {
    schema: ACCURACY_CURVE_SCHEMA,
    classIndex,
    dims: dims.map((d) => d.index),
    centredOn: allWell ? 'well-classified' : 'all',
    centres: perClass ? 'per-class' : 'pooled',
    minDistance: minD,
    maxDistance: maxD,
    count: members.length,
    curves: [curve(name, pop.correct), ...Object.entries(others).map(([n, c]) => curve(n, c))],
  };
}
