/**
 * Quality of a conditional generator against the real (corrupted) digits it was trained on:
 * class consistency, Fréchet distance in the feature space of a separately trained evaluation CNN
 * (not Inception: its weights cannot be fetched here, so figures are not comparable to the paper's
 * FID 1.63), and corruption coverage (blur and noise measures of generated vs real digits).
 */
import * as tf from '../tf.js';
import type { SimpleCnn } from '../classifier/simple-cnn.js';
import type { Classifier } from '../classifier/classifier.js';
import { blurLevel, noiseLevel } from '../data/measures.js';
import { IMAGE_SIZE, imageLength, type DigitSet } from '../data/digits.js';
import type { Generator } from '../generator/generator.js';
import { latentBatch } from '../random.js';
import { featureMoments, frechetDistance } from './frechet.js';

const GENERATOR_QUALITY_SCHEMA = 'faultlines.generator-quality/1';
const PX = IMAGE_SIZE * IMAGE_SIZE;

export interface GeneratedSet {
  count: number;
  /** Image channels (absent = 1): 3 for an RGB generator, channels last as in a DigitSet. */
  channels?: number;
  images: Float32Array;
  labels: Uint8Array;
}

/**
 * Unfiltered, untruncated samples: z ~ N(0, I) from stream (seed, i), class i mod K, fresh seeded
 * per-pixel noise (the generator's training distribution).
 */
export async function generateSamples(
  generator: Generator,
  count: number,
  seed: number,
  batch = 250,
  onProgress?: (done: number) => void,
): Promise<GeneratedSet> {
  const K = generator.arch.numClasses;
  const channels = generator.arch.imageChannels;
  const px = PX * channels;
  const out: GeneratedSet = {
    count,
    ...(channels === 1 ? {} : { channels }),
    images: new Float32Array(count * px),
    labels: new Uint8Array(count),
  };
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const labels = Array.from({ length: n }, (_, k) => (start + k) % K);
    // Noise streams are (noiseSeed, index in batch): a seed per batch gives every sample its own.
    const noiseSeed = (seed + 1 + start) % 0x100000000;
    const img = tf.tidy(() =>
      generator.generate(
        tf.tensor2d(latentBatch(seed, start, n, generator.arch.zDim), [n, generator.arch.zDim]),
        labels,
        { noiseMode: 'random', noiseSeed },
      ),
    );
    out.images.set((await img.data()) as Float32Array, start * px);
    img.dispose();
    labels.forEach((l, k) => (out.labels[start + k] = l));
    onProgress?.(start + n);
  }
  return out;
}

/** A set of images: generated or real, grey or RGB. */
type ImageSet = Pick<DigitSet, 'count' | 'images' | 'channels'>;

async function batched<T extends tf.Tensor>(
  set: ImageSet,
  fn: (x: tf.Tensor4D) => T,
  batch = 500,
): Promise<Float32Array[]> {
  const parts: Float32Array[] = [];
  const px = imageLength(set);
  const channels = set.channels ?? 1;
  for (let start = 0; start < set.count; start += batch) {
    const n = Math.min(batch, set.count - start);
    const y = tf.tidy(() =>
      fn(tf.tensor4d(set.images.subarray(start * px, (start + n) * px), [n, IMAGE_SIZE, IMAGE_SIZE, channels])),
    );
    parts.push((await y.data()) as Float32Array);
    y.dispose();
  }
  return parts;
}

async function features(extractor: SimpleCnn, set: ImageSet): Promise<{ values: Float32Array; dims: number }> {
  const parts = await batched(set, (x) => extractor.features(x));
  const values = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    values.set(p, o);
    o += p.length;
  }
  return { values, dims: values.length / set.count };
}

async function accuracy(classifier: Classifier, set: ImageSet & { labels: Uint8Array }): Promise<number> {
  const parts = await batched(set, (x) => tf.argMax(classifier.logits(x), 1));
  let hits = 0;
  let i = 0;
  for (const p of parts) for (const v of p) hits += v === set.labels[i++] ? 1 : 0;
  return hits / set.labels.length;
}

interface MeasureSummary {
  /** Share of samples flagged noisy / blurred / clean (neither) by thresholds fitted on real data. */
  noisy: number;
  blurred: number;
  clean: number;
  /** Histograms over shared bins. */
  noiseHistogram: number[];
  blurHistogram: number[];
}

export interface GeneratorQuality {
  schema: typeof GENERATOR_QUALITY_SCHEMA;
  samples: number;
  classConsistency: { generated: number; realAccuracy: number; gap: number; classifier: string; perClass: number[] };
  frechet: { generatedVsReal: number; realVsReal: number; ratio: number; featureSpace: string };
  /**
   * Corruption coverage; null when the reference data carry no corruption (coloured MNIST's
   * generator learns clean painted digits) or are not grey (the blur and noise measures are grey).
   */
  coverage: {
    thresholds: { noise: number; blur: number };
    bins: { noise: number[]; blur: number[] };
    real: MeasureSummary;
    generated: MeasureSummary;
    /** Share of corrupted samples in the real data by its metadata. */
    realCorruptedByMetadata: number;
    /**
     * How far each detector can be trusted: its balanced accuracy on the real data against the
     * metadata (0.5 = chance). The corrupted half is blurred and noised together, and noise hides
     * blur, so the blur detector is the weaker one.
     */
    detectorBalancedAccuracy: { noise: number; blur: number };
  } | null;
}

/** Balanced accuracy of `value > threshold` as a detector of `positive`. */
function balancedAccuracy(values: number[], positive: boolean[], threshold: number): number {
  let tp = 0;
  let tn = 0;
  let p = 0;
  values.forEach((v, i) => {
    if (positive[i]) {
      p++;
      if (v > threshold) tp++;
    } else if (v <= threshold) tn++;
  });
  return (tp / p + tn / (values.length - p)) / 2;
}

/** The threshold on `values` that best separates `positive` samples (max balanced accuracy). */
export function bestThreshold(values: number[], positive: boolean[]): number {
  const order = values.map((v, i) => [v, positive[i]] as const).sort((a, b) => a[0] - b[0]);
  const P = positive.filter(Boolean).length;
  const N = positive.length - P;
  let tn = 0;
  let fn = 0;
  let best = { score: -1, t: order[0][0] };
  for (let i = 0; i < order.length - 1; i++) {
    if (order[i][1]) fn++;
    else tn++;
    const score = (P - fn) / P + tn / N;
    if (score > best.score && order[i][0] !== order[i + 1][0]) best = { score, t: (order[i][0] + order[i + 1][0]) / 2 };
  }
  return best.t;
}

function summarise(
  noise: number[],
  blur: number[],
  t: { noise: number; blur: number },
  bins: { noise: number[]; blur: number[] },
): MeasureSummary {
  const n = noise.length;
  let noisy = 0;
  let blurred = 0;
  let clean = 0;
  for (let i = 0; i < n; i++) {
    const a = noise[i] > t.noise;
    const b = blur[i] > t.blur;
    if (a) noisy++;
    if (b) blurred++;
    if (!a && !b) clean++;
  }
  const hist = (xs: number[], edges: number[]) => {
    const h = new Array<number>(edges.length - 1).fill(0);
    for (const x of xs) {
      let k = edges.findIndex((e, i) => i > 0 && x < e) - 1;
      if (k < 0) k = x < edges[0] ? 0 : edges.length - 2;
      h[k]++;
    }
    return h.map((c) => c / xs.length);
  };
  return {
    noisy: noisy / n,
    blurred: blurred / n,
    clean: clean / n,
    noiseHistogram: hist(noise, bins.noise),
    blurHistogram: hist(blur, bins.blur),
  };
}

/**
 * @param real real corrupted digits with metadata (e.g. the corrupted test split)
 * @param realFloor a second real corrupted set (e.g. part of the training split) for the real-vs-real floor
 */
export async function generatorQuality(
  generated: GeneratedSet,
  real: DigitSet,
  realFloor: DigitSet,
  classifier: Classifier,
  extractor: SimpleCnn,
): Promise<GeneratorQuality> {
  const K = classifier.numClasses;
  // Class consistency.
  if ((generated.channels ?? 1) !== (real.channels ?? 1))
    throw new Error(`generated images have ${generated.channels ?? 1} channel(s), the real ones ${real.channels ?? 1}`);
  const genParts = await batched(generated, (x) => tf.argMax(classifier.logits(x), 1));
  const perHit = new Array<number>(K).fill(0);
  const perTotal = new Array<number>(K).fill(0);
  let i = 0;
  for (const p of genParts) {
    for (const v of p) {
      const y = generated.labels[i++];
      perTotal[y]++;
      if (v === y) perHit[y]++;
    }
  }
  const consistency = perHit.reduce((a, b) => a + b, 0) / generated.count;
  const realAccuracy = await accuracy(classifier, real);

  // Fréchet distances in the evaluation network's feature space.
  const fGen = await features(extractor, generated);
  const fReal = await features(extractor, real);
  const fFloor = await features(extractor, realFloor);
  const mReal = featureMoments(fReal.values, real.count, fReal.dims);
  const generatedVsReal = frechetDistance(featureMoments(fGen.values, generated.count, fGen.dims), mReal);
  const realVsReal = frechetDistance(featureMoments(fFloor.values, realFloor.count, fFloor.dims), mReal);

  return {
    schema: GENERATOR_QUALITY_SCHEMA,
    samples: generated.count,
    classConsistency: {
      generated: consistency,
      realAccuracy,
      gap: realAccuracy - consistency,
      classifier: classifier.name,
      perClass: perHit.map((h, c) => h / perTotal[c]),
    },
    frechet: {
      generatedVsReal,
      realVsReal,
      ratio: generatedVsReal / realVsReal,
      featureSpace:
        `penultimate layer (${fReal.dims} units) of ${extractor.name}, ` +
        "a CNN trained only for evaluation on this domain's real images (not Inception)",
    },
    coverage: corruptionCoverage(generated, real),
  };
}

/** Blur and noise of generated vs real images, detectors fitted on the real data's metadata. */
function corruptionCoverage(generated: GeneratedSet, real: DigitSet): GeneratorQuality['coverage'] {
  if ((real.channels ?? 1) !== 1 || !real.noise.some((v) => v > 0) || !real.blur.some((v) => v > 0)) return null;
  const measure = (images: Float32Array, count: number) => {
    const noise: number[] = [];
    const blur: number[] = [];
    for (let k = 0; k < count; k++) {
      const img = images.subarray(k * PX, (k + 1) * PX);
      noise.push(noiseLevel(img, IMAGE_SIZE));
      blur.push(blurLevel(img, IMAGE_SIZE));
    }
    return { noise, blur };
  };
  const r = measure(real.images, real.count);
  const g = measure(generated.images, generated.count);
  const isNoisy = Array.from(real.noise, (v) => v > 0);
  const isBlurred = Array.from(real.blur, (v) => v > 0);
  const thresholds = { noise: bestThreshold(r.noise, isNoisy), blur: bestThreshold(r.blur, isBlurred) };
  const detectorBalancedAccuracy = {
    noise: balancedAccuracy(r.noise, isNoisy, thresholds.noise),
    blur: balancedAccuracy(r.blur, isBlurred, thresholds.blur),
  };
  const edges = (xs: number[]) => {
    // A loop, not Math.min(...xs): a spread of more than ~125k values overflows the stack.
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of xs) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return Array.from({ length: 31 }, (_, k) => lo + ((hi - lo) * k) / 30);
  };
  const bins = { noise: edges([...r.noise, ...g.noise]), blur: edges([...r.blur, ...g.blur]) };
  let corrupted = 0;
  for (let k = 0; k < real.count; k++) corrupted += real.noise[k] > 0 || real.blur[k] > 0 ? 1 : 0;

  return {
    thresholds,
    bins,
    real: summarise(r.noise, r.blur, thresholds, bins),
    generated: summarise(g.noise, g.blur, thresholds, bins),
    realCorruptedByMetadata: corrupted / real.count,
    detectorBalancedAccuracy,
  };
}
