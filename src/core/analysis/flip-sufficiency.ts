/**
 * Flip sufficiency: are the ranked dims enough to break the classifier? For correctly classified
 * samples, shift the top-k dims of the sample's class together, each by t std in the direction
 * that lowers p_true, and count how often the decision flips (the arg-max leaves the true class);
 * the same for k random dims of S moved the same way (each in the direction its score says lowers
 * p_true), as the baseline. A ranking that finds failure directions flips far more decisions than
 * random dims at the same k and t.
 *
 * Each sample keeps its own noise (its stream is its index in the population), so a flip is caused
 * by the shift alone. Several classifiers can be measured on the same samples and the same dims
 * (those of the reference classifier's ranking), each on the samples it classifies correctly.
 */
import type { StyleLayout } from '../generator/style-layout.js';
import { createRng, permutation } from '../random.js';
import { classRanking } from './dim-start.js';
import { evaluateStyles, type AnalysisModels } from './analysis-models.js';
import type { RankedDim, RankingSums } from './ranking.js';
import { wilsonInterval } from './stats.js';
import { FLIP_SUFFICIENCY_SCHEMA } from './schema-versions.js';

export interface FlipSufficiencyOptions {
  /** Numbers of dims moved together. Default [1, 3, 5, 10]. */
  ks?: number[];
  /** Shift of every moved dim, in std units (the class's std). Default [2, 4]. */
  ts?: number[];
  /** At most this many samples (the first ones of the population). Default 1000. */
  samples?: number;
  /** Seed of the random dims (one draw per class). Default 0. */
  seed?: number;
  /** Samples per batch (each sample gives ks x ts x 2 images). Default 4. */
  samplesPerBatch?: number;
}

/** The population the probe runs on: styles and labels (sample i's noise stream is i). */
export interface ProbePopulation {
  count: number;
  styleSize: number;
  labels: ArrayLike<number>;
  /** [count, styleSize] row-major. */
  styles: Float32Array;
}

interface FlipShare {
  /** Correctly classified samples probed, and how many of them flipped. */
  samples: number;
  flipped: number;
  share: number;
  /** 95% Wilson interval of the share. */
  ciLow: number;
  ciHigh: number;
}

interface FlipCell {
  k: number;
  t: number;
  top: FlipShare;
  random: FlipShare;
}

interface ClassifierFlipSufficiency {
  classifier: string;
  cells: FlipCell[];
}

export interface FlipSufficiencyResult {
  schema: typeof FLIP_SUFFICIENCY_SCHEMA;
  ks: number[];
  ts: number[];
  seed: number;
  /** Samples of the population looked at (each classifier counts those it classifies correctly). */
  samples: number;
  /** The random dims per class (flat indices), for reproduction. */
  randomDims: number[][];
  classifiers: ClassifierFlipSufficiency[];
}

function share(flipped: number, samples: number): FlipShare {
  const [ciLow, ciHigh] = wilsonInterval(flipped, samples);
  return { samples, flipped, share: samples ? flipped / samples : NaN, ciLow, ciHigh };
}

function checkOptions(ks: number[], ts: number[], S: number): void {
  for (const k of ks)
    if (!Number.isInteger(k) || k < 1 || k > S)
      throw new RangeError(`flip sufficiency: k must be an integer in [1, ${S}], got ${k}`);
  for (const t of ts)
    if (!(t > 0) || !Number.isFinite(t))
      throw new RangeError(`flip sufficiency: t must be a positive number of std, got ${t}`);
}

/**
 * @param classifiers the models of every classifier measured (same generator); the first one's ranking chooses the dims
 * @param names their names, in the same order
 * @example
 * const r = await flipSufficiency([models], ['classifier-clean'], pop, sums, generator.layout);
 * console.log(r.classifiers[0].cells.map((c) => `${c.k}@${c.t}: ${c.top.share} vs ${c.random.share}`));
 */
export async function flipSufficiency(
  classifiers: readonly AnalysisModels[],
  names: readonly string[],
  pop: ProbePopulation,
  sums: RankingSums,
  layout: StyleLayout,
  opts: FlipSufficiencyOptions = {},
): Promise<FlipSufficiencyResult> {
  const ks = opts.ks ?? [1, 3, 5, 10];
  const ts = opts.ts ?? [2, 4];
  const seed = opts.seed ?? 0;
  const S = pop.styleSize;
  checkOptions(ks, ts, S);
  if (classifiers.length === 0 || classifiers.length !== names.length)
    throw new Error('flip sufficiency needs one name per classifier, and at least one');
  const kMax = ks.reduce((a, k) => Math.max(a, k), 0);
  const n = Math.min(pop.count, opts.samples ?? 1000);
  const K = sums.numClasses;

  // Dims of the classes present (a one-class population has one class's sums).
  const top: RankedDim[][] = Array.from({ length: K }, () => []);
  const random: RankedDim[][] = Array.from({ length: K }, () => []);
  for (let c = 0; c < K; c++) {
    if (sums.count[c] < 2) continue;
    const { ranking, byIndex } = classRanking(sums, layout, c);
    top[c] = ranking.dims.slice(0, kMax);
    const perm = permutation(createRng(seed, c), S);
    random[c] = Array.from(perm.subarray(0, kMax), (j) => byIndex.get(j)!);
  }
  for (let i = 0; i < n; i++)
    if (top[pop.labels[i]].length === 0)
      throw new Error(`flip sufficiency: the sums have fewer than 2 samples of class ${pop.labels[i]}`);
  // Rows of one sample: for each k, t and dim set (top, random), the shifted style.
  const variants = ks.flatMap((k) =>
    ts.flatMap((t) => [
      { k, t, set: top },
      { k, t, set: random },
    ]),
  );
  const perBatch = opts.samplesPerBatch ?? 4;

  const out: ClassifierFlipSufficiency[] = [];
  for (let m = 0; m < classifiers.length; m++) {
    const models = classifiers[m];
    const flips = new Array<number>(variants.length).fill(0);
    let probed = 0;
    for (let start = 0; start < n; start += perBatch) {
      const idx = Array.from({ length: Math.min(perBatch, n - start) }, (_, i) => start + i);
      const labels = idx.map((i) => pop.labels[i]);
      // Is the sample itself correct for this classifier? (with its own noise)
      const base = await evaluateStyles(
        models,
        pop.styles.slice(idx[0] * S, (idx[idx.length - 1] + 1) * S),
        labels,
        idx,
      );
      const keep = idx.filter((_, r) => base.predicted[r] === labels[r]);
      if (keep.length === 0) continue;
      probed += keep.length;
      const rows = new Float32Array(keep.length * variants.length * S);
      const rowLabels: number[] = [];
      const streams: number[] = [];
      keep.forEach((i, a) => {
        const c = pop.labels[i];
        variants.forEach((v, b) => {
          const off = (a * variants.length + b) * S;
          rows.set(pop.styles.subarray(i * S, (i + 1) * S), off);
          for (const d of v.set[c].slice(0, v.k))
            rows[off + d.index] += v.t * d.std * (d.direction === 'increase' ? 1 : -1);
          rowLabels.push(c);
          streams.push(i);
        });
      });
      const ev = await evaluateStyles(models, rows, rowLabels, streams);
      for (let r = 0; r < rowLabels.length; r++) if (ev.predicted[r] !== rowLabels[r]) flips[r % variants.length]++;
    }
    const cells: FlipCell[] = [];
    for (let v = 0; v < variants.length; v += 2)
      cells.push({
        k: variants[v].k,
        t: variants[v].t,
        top: share(flips[v], probed),
        random: share(flips[v + 1], probed),
      });
    out.push({ classifier: names[m], cells });
  }
  return {
    schema: FLIP_SUFFICIENCY_SCHEMA,
    ks,
    ts,
    seed,
    samples: n,
    randomDims: random.map((r) => r.map((d) => d.index)),
    classifiers: out,
  };
}
