/**
 * A seeded population: z -> w -> s -> image -> classifier, recording for every sample its true
 * class, predicted class, p_true and whether it is well classified.
 *
 * Sample i of a population is fully determined by (seed, i): its latent comes from stream
 * (seed, i) and its class is `classIndex` for a one-class population, else i mod numClasses (every
 * class equally represented), and its per-pixel noise (per-sample noise mode) from noise stream i
 * (analysis-models.ts `AnalysisNoise`). Any range of samples can therefore be computed anywhere (shards).
 */
import * as tf from '../tf.js';
import { latentBatch } from '../random.js';
import { evaluateStyles, sampleNoiseStreams, type AnalysisModels, type StyleEvaluation } from './analysis-models.js';
import { POPULATION_SCHEMA } from './schema-versions.js';
// What names a population (its spec, the check, the hash) needs no tfjs: population-spec.ts.
import { checkPopulationSpec, populationSpecHash, type PopulationSpec } from './population-spec.js';
export { checkPopulationSpec, populationSpecHash, type PopulationSpec };

export interface PopulationOptions extends PopulationSpec {
  /** Samples per batch (memory bound). Default 64. */
  batchSize?: number;
  /** Keep z and w too (for embeddings). Default false. */
  keepLatents?: boolean;
  /** Called after every batch; awaited, so a caller can yield to its event loop (or throw to stop). */
  onProgress?: (p: { done: number; total: number; samplesPerSecond: number }) => void | Promise<void>;
}

export interface Population {
  schema: typeof POPULATION_SCHEMA;
  spec: PopulationSpec;
  specHash: string;
  generatorId: string;
  classifierId: string;
  count: number;
  styleSize: number;
  labels: Uint8Array;
  predicted: Uint8Array;
  pTrue: Float32Array;
  /** 1 where predicted === label. */
  correct: Uint8Array;
  /** Styles, [count, styleSize] row-major. */
  styles: Float32Array;
  /** Latents z [count, zDim] and w [count, wDim] when `keepLatents`. */
  z?: Float32Array;
  w?: Float32Array;
  backend: string;
  seconds: number;
}

/** True classes of samples [start, start + n). */
function populationClasses(spec: PopulationSpec, numClasses: number, start: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => spec.classIndex ?? (start + k) % numClasses);
}

/** Styles [n, S] (and w) of samples [start, start + n) as tensors; the caller disposes them. */
export function populationStyles(
  models: Pick<AnalysisModels, 'generator'>,
  spec: PopulationSpec,
  start: number,
  n: number,
): { s: tf.Tensor2D; w: tf.Tensor2D; z: Float32Array; labels: number[] } {
  const g = models.generator;
  const labels = populationClasses(spec, g.arch.numClasses, start, n);
  const z = latentBatch(spec.seed, start, n, g.arch.zDim);
  return tf.tidy(() => {
    const w = g.mapping(tf.tensor2d(z, [n, g.arch.zDim]), labels);
    return { s: g.styles(w), w, z, labels };
  });
}

/** A population with its arrays allocated and nothing recorded yet. */
export function emptyPopulation(models: AnalysisModels, spec: PopulationSpec, keepLatents = false): Population {
  checkPopulationSpec(spec, models.generator.arch.numClasses);
  const g = models.generator;
  const S = g.styleSize;
  const pop: Population = {
    schema: POPULATION_SCHEMA,
    spec,
    specHash: populationSpecHash(models, spec),
    generatorId: models.generatorId,
    classifierId: models.classifierId,
    count: spec.count,
    styleSize: S,
    labels: new Uint8Array(spec.count),
    predicted: new Uint8Array(spec.count),
    pTrue: new Float32Array(spec.count),
    correct: new Uint8Array(spec.count),
    styles: new Float32Array(spec.count * S),
    backend: tf.getBackend(),
    seconds: 0,
  };
  if (keepLatents) {
    pop.z = new Float32Array(spec.count * g.arch.zDim);
    pop.w = new Float32Array(spec.count * g.arch.wDim);
  }
  return pop;
}

/** Records samples [start, start + labels.length): their styles and the classifier's verdict. */
export function recordBatch(
  pop: Population,
  start: number,
  labels: ArrayLike<number>,
  styles: Float32Array,
  ev: StyleEvaluation,
): void {
  pop.styles.set(styles, start * pop.styleSize);
  for (let k = 0; k < labels.length; k++) {
    const i = start + k;
    pop.labels[i] = labels[k];
    pop.predicted[i] = ev.predicted[k];
    pop.pTrue[i] = ev.pTrue[k];
    pop.correct[i] = ev.predicted[k] === labels[k] ? 1 : 0;
  }
}

/**
 * @example
 * const pop = await samplePopulation(models, { seed: 1, count: 10_000, classIndex: null });
 * console.log(pop.correct.reduce((a, b) => a + b, 0) / pop.count);
 */
export async function samplePopulation(models: AnalysisModels, opts: PopulationOptions): Promise<Population> {
  const spec: PopulationSpec = { seed: opts.seed, count: opts.count, classIndex: opts.classIndex };
  checkPopulationSpec(spec, models.generator.arch.numClasses);
  const batch = opts.batchSize ?? 64;
  const g = models.generator;
  const pop = emptyPopulation(models, spec, opts.keepLatents ?? false);
  const t0 = Date.now();
  for (let start = 0; start < spec.count; start += batch) {
    const n = Math.min(batch, spec.count - start);
    const { s, w, z, labels } = populationStyles(models, spec, start, n);
    const sHost = (await s.data()) as Float32Array;
    if (pop.w) pop.w.set((await w.data()) as Float32Array, start * g.arch.wDim);
    if (pop.z) pop.z.set(z, start * g.arch.zDim);
    tf.dispose([s, w]);
    const ev = await evaluateStyles(models, sHost, labels, sampleNoiseStreams(start, n));
    recordBatch(pop, start, labels, sHost, ev);
    const done = start + n;
    await opts.onProgress?.({
      done,
      total: spec.count,
      samplesPerSecond: done / Math.max(1e-3, (Date.now() - t0) / 1000),
    });
  }
  pop.seconds = (Date.now() - t0) / 1000;
  return pop;
}

/** Share of well-classified samples. */
export function populationAccuracy(pop: Pick<Population, 'correct' | 'count'>): number {
  let c = 0;
  for (let i = 0; i < pop.count; i++) c += pop.correct[i];
  return c / pop.count;
}

/**
 * Correctness of another classifier on the same population (same styles, so the same images): for
 * comparing classifiers on identical samples.
 */
export async function classifyPopulation(
  models: AnalysisModels,
  pop: Population,
  batchSize = 256,
): Promise<{ correct: Uint8Array; predicted: Uint8Array; pTrue: Float32Array }> {
  const S = pop.styleSize;
  const out = {
    correct: new Uint8Array(pop.count),
    predicted: new Uint8Array(pop.count),
    pTrue: new Float32Array(pop.count),
  };
  for (let start = 0; start < pop.count; start += batchSize) {
    const n = Math.min(batchSize, pop.count - start);
    const ev = await evaluateStyles(
      models,
      pop.styles.subarray(start * S, (start + n) * S),
      pop.labels.subarray(start, start + n),
      sampleNoiseStreams(start, n),
    );
    for (let k = 0; k < n; k++) {
      out.predicted[start + k] = ev.predicted[k];
      out.pTrue[start + k] = ev.pTrue[k];
      out.correct[start + k] = ev.predicted[k] === pop.labels[start + k] ? 1 : 0;
    }
  }
  return out;
}
