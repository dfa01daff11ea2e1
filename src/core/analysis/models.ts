/**
 * The pair every analysis runs on: a generator (z -> w -> s -> image) and a classifier (image ->
 * logits), plus the functions of s that the method needs: p_true and its gradient with respect to s.
 */
import * as tf from '../tf.js';
import type { Classifier } from '../classifier/classifier.js';
import type { Generator, NoiseMode } from '../generator/generator.js';
import { oneHotFloat } from '../nn/ops.js';

export interface AnalysisModels {
  generator: Generator;
  classifier: Classifier;
  /** Identity of the models for content hashes (e.g. the sha256 of their weights). */
  generatorId: string;
  classifierId: string;
}

/**
 * Noise used by every analysis: the generator's stored constant noise, so an image is a function of
 * its style vector alone and a traversal changes nothing but the dimension it moves.
 */
export const ANALYSIS_NOISE: NoiseMode = 'const';

export interface StyleEvaluation {
  /** Softmax of the true class, [N]. */
  pTrue: Float32Array;
  /** Arg-max class, [N]. */
  predicted: Int32Array;
  /** Most likely class other than the true one, [N]. */
  runnerUp: Int32Array;
}

/** Class probabilities of the images generated from styles s [N, S]. */
export function probabilities(models: AnalysisModels, s: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(models.classifier.logits(models.generator.synthesis(s, { noiseMode: ANALYSIS_NOISE }))));
}

/** Reads p_true, the predicted class and the runner-up class from probabilities [N, K]. */
export async function readEvaluation(probs: tf.Tensor2D, labels: ArrayLike<number>): Promise<StyleEvaluation> {
  const [n, k] = probs.shape;
  const p = (await probs.data()) as Float32Array;
  const out: StyleEvaluation = { pTrue: new Float32Array(n), predicted: new Int32Array(n), runnerUp: new Int32Array(n) };
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
  }
  return out;
}

/** Evaluates styles [N, S] (host values) against their true classes. */
export async function evaluateStyles(models: AnalysisModels, s: Float32Array, labels: ArrayLike<number>): Promise<StyleEvaluation> {
  const n = labels.length;
  const probs = tf.tidy(() => probabilities(models, tf.tensor2d(s, [n, s.length / n])));
  try {
    return await readEvaluation(probs, labels);
  } finally {
    probs.dispose();
  }
}

/**
 * Class probabilities [N, K] and d p_true / d s [N, S], per sample. Samples are independent (no batch
 * statistics anywhere), so the gradient of the summed p_true is the per-sample gradient.
 */
export function pTrueGradient(models: AnalysisModels, s: tf.Tensor2D, labels: ArrayLike<number>): { probs: tf.Tensor2D; grad: tf.Tensor2D } {
  const onehot = oneHotFloat(labels, models.classifier.numClasses);
  let probs: tf.Tensor2D | null = null;
  const f = (x: tf.Tensor) => {
    const p = probabilities(models, x as tf.Tensor2D);
    probs = tf.keep(p);
    return tf.sum(tf.mul(p, onehot));
  };
  const grad = tf.grad(f)(s) as tf.Tensor2D;
  onehot.dispose();
  return { probs: probs!, grad };
}
