/**
 * Ranking of StyleSpace dimensions by how strongly they lower the classifier's true-class
 * probability (paper section 2.2).
 *
 * The sweep is expressed as sums — per class: sample count, well-classified count, and per
 * dimension the sums of d p_true / d s_j, of its square, of s_j and of s_j^2 — so shards computed
 * anywhere merge into the same totals. Scores follow the authors' public code:
 * `score_j = -mean(d p_true / d s_j) * std(s_j)`. A positive score means increasing s_j lowers
 * p_true; dims are ranked by |score|, and `direction` says which way to move.
 */
import * as tf from '../tf.js';
import {
  pTrueGradient,
  readEvaluation,
  sampleNoiseStreams,
  type AnalysisModels,
  type StyleEvaluation,
} from './analysis-models.js';
import { checkPopulationSpec, populationSpecHash, populationStyles, type PopulationSpec } from './population.js';
import { RANKING_SUMS_SCHEMA } from './schema-versions.js';
import { emptySums, type RankingSums } from './ranking-sums.js';
export { RANKING_SUMS_SCHEMA };
// The sums' arithmetic (merge, moments, the ranking itself) needs no tfjs: ranking-sums.ts.
export {
  mergeRankingSums,
  rankDimensions,
  sumsCount,
  type RankedDim,
  type Ranking,
  type RankingSums,
} from './ranking-sums.js';

export interface RankingSweepOptions {
  /** First sample (inclusive) and last (exclusive); default the whole population. */
  start?: number;
  end?: number;
  /** Samples per forward/backward batch. Default 64. */
  batchSize?: number;
  onProgress?: (p: { done: number; total: number; samplesPerSecond: number }) => void;
  /** Sees every batch's styles and verdicts, in sample order (e.g. to record the population in the same pass). */
  onBatch?: (b: SweepBatch) => void;
}

/**
 * A ranking sweep: `rankingSweep` itself, or any function with the same contract (same sums,
 * `onBatch` called for every batch in sample order), e.g. one that spreads the batches over
 * threads. `analyze` takes one so a runtime can bring its own without the core knowing how.
 */
export type RankingSweepFn = (
  models: AnalysisModels,
  spec: PopulationSpec,
  opts?: RankingSweepOptions,
) => Promise<RankingSums>;

/** What one batch of a sweep computes, per sample: style, d p_true / d s and the verdict. */
export interface SweepBatch {
  /** First sample of the batch. */
  start: number;
  labels: number[];
  /** [n, S] row-major. */
  styles: Float32Array;
  /** d p_true / d s, [n, S] row-major. */
  grads: Float32Array;
  evaluation: StyleEvaluation;
}

/** Checks [start, end) against the population and returns it (defaults: the whole population). */
function sweepRange(
  models: AnalysisModels,
  spec: PopulationSpec,
  opts: Pick<RankingSweepOptions, 'start' | 'end'> = {},
): [number, number] {
  checkPopulationSpec(spec, models.generator.arch.numClasses);
  const start = opts.start ?? 0;
  const end = opts.end ?? spec.count;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > spec.count || start >= end) {
    throw new RangeError(`sample range [${start}, ${end}) is not inside [0, ${spec.count})`);
  }
  return [start, end];
}

/** Zero sums for samples [start, end) of `spec`, to be filled by `accumulateBatch`. */
function emptyRankingSums(models: AnalysisModels, spec: PopulationSpec, start: number, end: number): RankingSums {
  return emptySums(populationSpecHash(models, spec), models.generator.styleSize, models.generator.arch.numClasses, [
    [start, end],
  ]);
}

/**
 * Samples [start, start + n) of `spec`: styles, d p_true / d s and the classifier's verdict, on
 * the host. A batch's values depend only on (models, spec, start, n), not on where it is computed
 * (sample i depends only on (seed, i) and noise stream i; samples never interact).
 */
export async function sweepBatch(
  models: AnalysisModels,
  spec: PopulationSpec,
  start: number,
  n: number,
): Promise<SweepBatch> {
  const { s, w, labels } = populationStyles(models, spec, start, n);
  w.dispose();
  const { probs, grad } = pTrueGradient(models, s, labels, sampleNoiseStreams(start, n));
  try {
    const [sv, gv, ev] = await Promise.all([s.data(), grad.data(), readEvaluation(probs, labels)]);
    return { start, labels, styles: sv as Float32Array, grads: gv as Float32Array, evaluation: ev };
  } finally {
    tf.dispose([s, grad, probs]);
  }
}

/**
 * Adds one batch to the sums: per sample, in sample order, in float64. Every sweep (in-process or
 * threaded) accumulates through this function in sample order, so equal batches give bit-identical
 * sums.
 */
function accumulateBatch(
  sums: RankingSums,
  b: Pick<SweepBatch, 'labels' | 'styles' | 'grads'> & { evaluation: Pick<StyleEvaluation, 'predicted'> },
): void {
  const S = sums.styleSize;
  const { labels, styles: sv, grads: gv } = b;
  const predicted = b.evaluation.predicted;
  const { count, correct, gradSum, gradSqSum, styleSum, styleSqSum } = sums;
  for (let k = 0; k < labels.length; k++) {
    const c = labels[k];
    count[c]++;
    if (predicted[k] === c) correct[c]++;
    const row = c * S;
    const off = k * S;
    for (let j = 0; j < S; j++) {
      const g = gv[off + j];
      const x = sv[off + j];
      gradSum[row + j] += g;
      gradSqSum[row + j] += g * g;
      styleSum[row + j] += x;
      styleSqSum[row + j] += x * x;
    }
  }
}

/**
 * Computes the sums for samples [start, end) of the population `spec`: the shard unit of a sweep.
 * @example
 * const sums = await rankingSweep(models, { seed: 1, count: 10_000, classIndex: null });
 * const ranking = rankDimensions(sums, models.generator.layout);
 */
export async function rankingSweep(
  models: AnalysisModels,
  spec: PopulationSpec,
  opts: RankingSweepOptions = {},
): Promise<RankingSums> {
  return driveSweep(models, spec, opts, [(start, n) => sweepBatch(models, spec, start, n)]);
}

/** The checked range and batch size of a sweep (throws RangeError on a bad one, before any work). */
export function sweepPlan(
  models: AnalysisModels,
  spec: PopulationSpec,
  opts: Pick<RankingSweepOptions, 'start' | 'end' | 'batchSize'>,
): { start: number; end: number; batch: number } {
  const [start, end] = sweepRange(models, spec, opts);
  const batch = opts.batchSize ?? 64;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batchSize must be a positive integer, got ${batch}`);
  return { start, end, batch };
}

/** Computes one batch of a sweep: samples [start, start + n), wherever it runs (this thread, a worker thread). */
export type SweepLane = (start: number, n: number) => Promise<SweepBatch>;

/**
 * The one sweep driver, with pluggable execution: hands the batches [start + k*batchSize, ...) out,
 * one at a time, to whichever lane is free, and accumulates them with `accumulateBatch` in sample
 * order whatever order they arrive in (`onBatch` and `onProgress` see them in that order too). The
 * sums therefore depend only on the batches' values, not on how many lanes computed them or where:
 * one lane computing `sweepBatch` in process (`rankingSweep`), a runner's compute thread yielding
 * between batches, or a pool of worker threads. A lane's failure stops the hand-out and rejects.
 */
export async function driveSweep(
  models: AnalysisModels,
  spec: PopulationSpec,
  opts: RankingSweepOptions,
  lanes: readonly SweepLane[],
): Promise<RankingSums> {
  if (lanes.length === 0) throw new RangeError('a sweep needs at least one lane');
  const { start, end, batch } = sweepPlan(models, spec, opts);
  const sums = emptyRankingSums(models, spec, start, end);
  const total = Math.ceil((end - start) / batch);
  const arrived = new Map<number, SweepBatch>();
  let dispatched = 0;
  let accumulated = 0;
  let failed = false;
  const t0 = Date.now();
  // Accumulates every batch that is next in sample order (batches may arrive out of order).
  const drain = () => {
    for (let b = arrived.get(accumulated); b !== undefined; b = arrived.get(accumulated)) {
      arrived.delete(accumulated);
      opts.onBatch?.(b);
      accumulateBatch(sums, b);
      accumulated++;
      const done = Math.min(end, b.start + b.labels.length) - start;
      opts.onProgress?.({
        done,
        total: end - start,
        samplesPerSecond: done / Math.max(1e-3, (Date.now() - t0) / 1000),
      });
    }
  };
  const run = async (lane: SweepLane) => {
    while (!failed && dispatched < total) {
      const k = dispatched++;
      const b0 = start + k * batch;
      arrived.set(k, await lane(b0, Math.min(batch, end - b0)));
      drain();
    }
  };
  await Promise.all(
    lanes.slice(0, total).map((lane) =>
      run(lane).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  if (accumulated !== total) throw new Error(`sweep ended with ${accumulated} of ${total} batches`);
  return sums;
}
