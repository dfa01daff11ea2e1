/**
 * The pair every analysis runs on: a generator (z -> w -> s -> image) and a classifier (image ->
 * logits), plus the functions of s that the method needs: p_true and its gradient with respect to s.
 */
import * as tf from '../tf.js';
import type { Classifier } from '../classifier/classifier.js';
import type { Generator, SynthesisOptions } from '../generator/generator.js';
import { oneHotFloat } from '../nn/ops.js';
import { analysisNoise, classNoiseStreams, SHARED_NOISE_STREAM, type AnalysisNoise } from './noise.js';

export interface AnalysisModels {
  generator: Generator;
  classifier: Classifier;
  /** Identity of the models for content hashes (e.g. the sha256 of their weights). */
  generatorId: string;
  classifierId: string;
  /**
   * Per-pixel noise of every image the analysis renders; default DEFAULT_ANALYSIS_NOISE. Part of the
   * population spec hash (and so of every result keyed on it).
   */
  noise?: AnalysisNoise;
}

export * from './noise.js';

/**
 * Images [N, R, R, C] in [0, 1] of styles s [N, S] with the models' noise; row i uses noise stream
 * streams[i] (per-sample mode; default SHARED_NOISE_STREAM for every row). `sharedStyleDims`: the
 * rows are equal in their first that many dims and share one stream (SynthesisOptions).
 */
export function synthesizeImages(
  models: Pick<AnalysisModels, 'generator' | 'noise'>,
  s: tf.Tensor2D,
  streams?: ArrayLike<number>,
  sharedStyleDims = 0,
): tf.Tensor4D {
  return models.generator.synthesis(s, analysisSynthesisOptions(models, s.shape[0], streams, sharedStyleDims));
}

/** The synthesis options that render n rows with the models' noise (see `synthesizeImages`). */
export function analysisSynthesisOptions(
  models: Pick<AnalysisModels, 'noise'>,
  n: number,
  streams?: ArrayLike<number>,
  sharedStyleDims = 0,
): SynthesisOptions {
  const noise = analysisNoise(models);
  if (noise.mode === 'const') return { noiseMode: 'const', sharedStyleDims };
  const noiseStreams = streams ?? new Uint32Array(n).fill(SHARED_NOISE_STREAM);
  return { noiseMode: 'random', noiseSeed: noise.seed, noiseStreams, sharedStyleDims };
}

export interface StyleEvaluation {
  /** Softmax of the true class, [N]. */
  pTrue: Float32Array;
  /** Arg-max class, [N]. */
  predicted: Int32Array;
  /** Most likely class other than the true one, [N]. */
  runnerUp: Int32Array;
}

/** A StyleEvaluation with the runner-up's probability: p_true - pRunnerUp is the decision margin (< 0: misclassified). */
export interface MarginEvaluation extends StyleEvaluation {
  /** Softmax of the runner-up class, [N]. */
  pRunnerUp: Float32Array;
}

/** Class probabilities of the images generated from styles s [N, S]; row i with noise stream streams[i] (see `synthesizeImages`). */
export function probabilities(
  models: AnalysisModels,
  s: tf.Tensor2D,
  streams?: ArrayLike<number>,
  sharedStyleDims = 0,
): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(models.classifier.logits(synthesizeImages(models, s, streams, sharedStyleDims))));
}

/** Reads p_true, the predicted class and the runner-up class from probabilities [N, K]. */
export async function readEvaluation(probs: tf.Tensor2D, labels: ArrayLike<number>): Promise<MarginEvaluation> {
  const [n, k] = probs.shape;
  const p = (await probs.data()) as Float32Array;
  const out: MarginEvaluation = {
    pTrue: new Float32Array(n),
    predicted: new Int32Array(n),
    runnerUp: new Int32Array(n),
    pRunnerUp: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let best = -1;
    let other = -1;
    for (let c = 0; c < k; c++) {
      const v = p[i * k + c];
      if (best < 0 || v > p[i * k + best]) best = c;
      if (c !== y && (other < 0 || v > p[i * k + other])) other = c;
    }
    out.pTrue[i] = p[i * k + y];
    out.predicted[i] = best;
    out.runnerUp[i] = other;
    out.pRunnerUp[i] = other < 0 ? 0 : p[i * k + other];
  }
  return out;
}

/**
 * Evaluates styles [N, S] (host values) against their true classes; row i with noise stream
 * streams[i] (a sample's global index; default: the reserved stream of the row's class).
 */
export async function evaluateStyles(
  models: AnalysisModels,
  s: Float32Array,
  labels: ArrayLike<number>,
  streams?: ArrayLike<number>,
): Promise<MarginEvaluation> {
  const n = labels.length;
  const probs = tf.tidy(() =>
    probabilities(models, tf.tensor2d(s, [n, s.length / n]), streams ?? classNoiseStreams(labels)),
  );
  try {
    return await readEvaluation(probs, labels);
  } finally {
    probs.dispose();
  }
}

/**
 * Class probabilities [N, K] and d p_true / d s [N, S], per sample. Samples are independent (no batch
 * statistics anywhere), so the gradient of the summed p_true is the per-sample gradient. Row i uses
 * noise stream streams[i] (a sample's global index; default: the reserved stream of its class).
 */
export function pTrueGradient(
  models: AnalysisModels,
  s: tf.Tensor2D,
  labels: ArrayLike<number>,
  streams?: ArrayLike<number>,
): { probs: tf.Tensor2D; grad: tf.Tensor2D } {
  const onehot = oneHotFloat(labels, models.classifier.numClasses);
  const rows = streams ?? classNoiseStreams(labels);
  let probs: tf.Tensor2D | null = null;
  const f = (x: tf.Tensor) => {
    const p = probabilities(models, x as tf.Tensor2D, rows);
    probs = tf.keep(p);
    return tf.sum(tf.mul(p, onehot));
  };
  const grad = tf.grad(f)(s) as tf.Tensor2D;
  onehot.dispose();
  return { probs: probs!, grad };
}
