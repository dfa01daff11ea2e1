/**
 * The live endpoints' model calls: render style vectors and classify the images, classify given
 * images, and re-evaluate one sample of a sweep exactly as the sweep did. Tensors are disposed here;
 * what leaves is plain arrays, so the routes only shape replies.
 */
import * as tf from '../../core/tf.js';
import {
  classNoiseStream,
  readEvaluation,
  sampleNoiseStreams,
  synthesizeImages,
} from '../../core/analysis/analysis-models.js';
import { populationStyles } from '../../core/analysis/population.js';
import type { getModels } from '../live-models.js';
import { timed } from '../server-timing.js';

export type LiveModels = Awaited<ReturnType<typeof getModels>>;

/** The shape of one generated image as a PNG tile (`gridPng`): the domain's size and channels. */
export function imageTile(models: LiveModels): { size: number; channels: 1 | 3 } {
  const { resolutions, imageChannels } = models.generator.arch;
  return { size: resolutions.at(-1)!, channels: imageChannels === 3 ? 3 : 1 };
}

/**
 * Image [32*32] and class probabilities of each style row. Noise (per-sample mode): the reserved
 * stream of `classIndex`, as the live traversals from the same style; of no class when none is given.
 */
export async function renderStyles(
  models: LiveModels,
  styles: Float32Array,
  n: number,
  classIndex?: number,
): Promise<{ images: Float32Array[]; probs: Float32Array[] }> {
  const S = models.generator.styleSize;
  const streams = classIndex === undefined ? undefined : new Uint32Array(n).fill(classNoiseStream(classIndex));
  const [img, pr] = tf.tidy(() => {
    // wasm kernels run when called, so each phase's clock covers its computation.
    const image = timed('render', () => synthesizeImages(models, tf.tensor2d(styles, [n, S]), streams));
    return [image, timed('classify', () => tf.softmax(models.classifier.logits(image)))];
  });
  const [iv, pv] = (await Promise.all([img.data(), pr.data()])) as [Float32Array, Float32Array];
  tf.dispose([img, pr]);
  const px = iv.length / n;
  const K = pv.length / n;
  return {
    images: Array.from({ length: n }, (_, i) => iv.slice(i * px, (i + 1) * px)),
    probs: Array.from({ length: n }, (_, i) => pv.slice(i * K, (i + 1) * K)),
  };
}

/** The verdict of one probability vector: argmax, its confidence, p_true when the class is known, rounded probabilities. */
export function classification(p: Float32Array, trueClass?: number) {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return {
    predicted: best,
    confidence: p[best],
    ...(trueClass === undefined ? {} : { pTrue: p[trueClass] }),
    probabilities: Array.from(p, (v) => Math.round(v * 1e6) / 1e6),
  };
}

/** Class probabilities of 32x32 grey images (1024 values in [0, 1] each, row-major), one vector per image. */
export async function classifyImages(
  models: LiveModels,
  images: readonly (readonly number[])[],
): Promise<Float32Array[]> {
  const n = images.length;
  const flat = new Float32Array(n * 1024);
  images.forEach((im, i) => flat.set(im, i * 1024));
  const p = timed('classify', () =>
    tf.tidy(() => tf.softmax(models.classifier.logits(tf.tensor4d(flat, [n, 32, 32, 1])))),
  );
  const pv = (await p.data()) as Float32Array;
  p.dispose();
  const K = pv.length / n;
  return Array.from({ length: n }, (_, i) => pv.slice(i * K, (i + 1) * K));
}

/**
 * Sample `index` of the population (seed, count) rendered and classified as the sweep did (its
 * latent stream, class and noise stream, the sweep's evaluation), so the verdict is the one the
 * sweep's results recorded; with the image it classified.
 */
export async function evaluateSweepSample(models: LiveModels, sweep: { seed: number; count: number }, index: number) {
  const { s, w, labels } = populationStyles(models, { ...sweep, classIndex: null }, index, 1);
  const streams = sampleNoiseStreams(index, 1);
  const [img, probs] = tf.tidy(() => {
    const image = synthesizeImages(models, s, streams);
    return [image, tf.softmax(models.classifier.logits(image)) as tf.Tensor2D];
  });
  const [pixels, ev] = await Promise.all([img.data() as Promise<Float32Array>, readEvaluation(probs, labels)]);
  tf.dispose([s, w, img, probs]);
  return {
    pixels,
    label: labels[0],
    predicted: ev.predicted[0],
    pTrue: ev.pTrue[0],
    runnerUp: ev.runnerUp[0],
    pRunnerUp: ev.pRunnerUp[0],
  };
}
