/**
 * Projection of real images into the generator's style space S (issue 20): for each image and its
 * label, a style s whose rendering matches the image, found by optimisation.
 *
 * The optimisation runs in two phases within one step budget:
 *   1. in W (the mapping's output), from the class's mean w: few dims, so it lands on the
 *      generator's manifold and finds the digit's shape;
 *   2. in S, from styles(w) of phase 1: S has more freedom than W (each layer's style is free), so
 *      it fits what W cannot reach (a real image's stroke texture and noise).
 * Both phases optimise a normalised variable (w = centre + std * u, per dim over seeded samples of
 * the class), so one learning rate fits every dim, with Adam written out here (deterministic, the
 * same arithmetic on every backend).
 *
 * Loss per image: pixel MSE of the unclipped rendering against the image (clipping would stop the
 * gradient of a pixel that should be ink but renders below black) plus `featureWeight` times the
 * squared relative feature distance ||f(x) - f(t)||^2 / ||f(t)||^2 in the feature extractor's
 * penultimate layer — an evaluation CNN, never the classifier under test, so the projection is not
 * fitted to the decision it is then asked to explain. The loss is summed over the batch and Adam is
 * elementwise, so images never interact: a batch gives each image what it would get alone (up to
 * float rounding of batched kernels).
 *
 * Noise: the generator's per-pixel noise is not optimised. Every rendering uses the models' noise
 * (`AnalysisModels.noise`) with the reserved stream of the image's label, the stream every later
 * rendering of that style uses (traversals, counterfactuals), so the projection is rendered the
 * same way wherever it is used. The built-in generator learned noise strengths of ~1e-3
 * (docs/analysis/noise-modes.md): optimising the noise would only overfit pixels.
 *
 * Pure core code (tfjs-core), deterministic for a given seed.
 */
import * as tf from '../tf.js';
import type { Generator } from '../generator/generator.js';
import { toUnitRange } from '../generator/generator.js';
import { latentBatch } from '../random.js';
import { analysisSynthesisOptions, classNoiseStreams, type AnalysisNoise } from './analysis-models.js';
import { PROJECTION_SCHEMA } from './schema-versions.js';
// The defaults need no tfjs (the edge's explain route documents them): explain-defaults.ts.
import { DEFAULT_PROJECTION } from './explain-defaults.js';
export { DEFAULT_PROJECTION };

/** What the projection needs: the generator, its noise, and a feature extractor that is not the classifier under test. */
export interface ProjectionModels {
  generator: Generator;
  /** Penultimate activations [N, F] of an evaluation network (weights/feature-extractor). */
  featureExtractor: { features(images: tf.Tensor4D): tf.Tensor2D };
  noise?: AnalysisNoise;
}

export interface ProjectionOptions {
  /** Optimisation steps in all (both phases). Default 100 (docs/explain.md: PSNR per budget). */
  steps?: number;
  /** Share of the steps spent in W (the rest in S). Default 0.5. */
  wShare?: number;
  /** Adam learning rate of the normalised variables (in stds per step). Default 0.1 in W, 0.05 in S. */
  learningRateW?: number;
  learningRateS?: number;
  /** Weight of the relative feature distance in the loss. Default 0.05. */
  featureWeight?: number;
  /**
   * Weight of the prior: the mean square of the normalised variable (stds from the start). Adam moves
   * every element about one learning rate per step however small its gradient, so without a pull back
   * the dims that barely change the image would drift as far as those that do, and the deviations
   * the explanation ranks would be noise. Default 0.01.
   */
  priorWeight?: number;
  /** Seed of the latents whose mean and std (per class) start and scale the optimisation. Default 1. */
  seed?: number;
  /** Latents per class drawn for that mean and std. Default 64. */
  initSamples?: number;
  /** Called after every step with the mean loss of the batch. */
  onStep?: (p: { step: number; steps: number; phase: 'w' | 's'; loss: number }) => void;
}

interface ProjectedImage {
  label: number;
  /** The projection's style [S]. */
  style: Float32Array;
  /** Its rendering [R*R*C] in [0, 1] (the models' noise, the label's stream). */
  image: Float32Array;
  /** Peak signal-to-noise ratio of the rendering against the image, dB (peak 1). */
  psnr: number;
  /** ||f(rendering) - f(image)|| / ||f(image)|| in the feature extractor's penultimate layer. */
  featureDistance: number;
}

export interface ProjectionResult {
  schema: typeof PROJECTION_SCHEMA;
  options: Required<Omit<ProjectionOptions, 'onStep'>>;
  images: ProjectedImage[];
}

function checkOptions(o: Required<Omit<ProjectionOptions, 'onStep'>>): void {
  if (!Number.isInteger(o.steps) || o.steps < 0 || o.steps > 100_000)
    throw new RangeError(`steps must be an integer in [0, 100000], got ${o.steps}`);
  if (!(o.wShare >= 0 && o.wShare <= 1)) throw new RangeError(`wShare must be in [0, 1], got ${o.wShare}`);
  for (const k of ['learningRateW', 'learningRateS'] as const)
    if (!(o[k] > 0 && Number.isFinite(o[k]))) throw new RangeError(`${k} must be a positive number, got ${o[k]}`);
  for (const k of ['featureWeight', 'priorWeight'] as const)
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new RangeError(`${k} must be a non-negative number, got ${o[k]}`);
  if (!Number.isInteger(o.initSamples) || o.initSamples < 2 || o.initSamples > 10_000)
    throw new RangeError(`initSamples must be an integer in [2, 10000], got ${o.initSamples}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${o.seed}`);
}

/**
 * Per class: mean and std of w and of s over `initSamples` seeded latents of the class (latent
 * stream (seed, class * initSamples + k)), as [numClasses, dim] host arrays.
 */
export function classLatentMoments(
  g: Generator,
  seed: number,
  initSamples: number,
): { wMean: Float32Array; wStd: Float32Array; sMean: Float32Array; sStd: Float32Array } {
  const K = g.arch.numClasses;
  const W = g.arch.wDim;
  const S = g.styleSize;
  const out = {
    wMean: new Float32Array(K * W),
    wStd: new Float32Array(K * W),
    sMean: new Float32Array(K * S),
    sStd: new Float32Array(K * S),
  };
  for (let c = 0; c < K; c++) {
    const [w, s] = tf.tidy(() => {
      const z = latentBatch(seed, c * initSamples, initSamples, g.arch.zDim);
      const wt = g.mapping(tf.tensor2d(z, [initSamples, g.arch.zDim]), new Array(initSamples).fill(c));
      const moments = (x: tf.Tensor2D) => {
        const m = tf.moments(x, 0);
        return [m.mean, tf.sqrt(tf.add(m.variance, 1e-12))];
      };
      return [moments(wt), moments(g.styles(wt))];
    });
    out.wMean.set(w[0].dataSync() as Float32Array, c * W);
    out.wStd.set(w[1].dataSync() as Float32Array, c * W);
    out.sMean.set(s[0].dataSync() as Float32Array, c * S);
    out.sStd.set(s[1].dataSync() as Float32Array, c * S);
    tf.dispose([...w, ...s]);
  }
  return out;
}

/** Rows `labels` of a [K, D] host table, as an [N, D] tensor. */
function rowsOf(table: Float32Array, dim: number, labels: readonly number[]): tf.Tensor2D {
  const out = new Float32Array(labels.length * dim);
  labels.forEach((c, i) => out.set(table.subarray(c * dim, (c + 1) * dim), i * dim));
  return tf.tensor2d(out, [labels.length, dim]);
}

/** Adam on one tensor variable, written out (bias-corrected, elementwise). */
class Adam {
  private m: tf.Tensor;
  private v: tf.Tensor;
  private t = 0;
  constructor(
    shape: number[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = tf.zeros(shape);
    this.v = tf.zeros(shape);
  }
  /** Returns x - lr * mhat / (sqrt(vhat) + eps); disposes nothing of the caller's. */
  step(x: tf.Tensor, g: tf.Tensor): tf.Tensor {
    this.t++;
    const { beta1: b1, beta2: b2 } = this;
    const [m, v, next] = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), 1 - b2));
      const mHat = tf.div(m, 1 - b1 ** this.t);
      const vHat = tf.div(v, 1 - b2 ** this.t);
      return [m, v, tf.sub(x, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps)), this.lr))];
    });
    tf.dispose([this.m, this.v]);
    this.m = m;
    this.v = v;
    return next;
  }
  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}

/**
 * Projects images [N, R*R*C] in [0, 1] with their labels into S, all in one batch.
 * @example
 * const r = await projectImages({ generator, featureExtractor }, pixels, [7], { steps: 200 });
 * console.log(r.images[0].psnr, r.images[0].featureDistance);
 */
export async function projectImages(
  models: ProjectionModels,
  targets: Float32Array,
  labels: readonly number[],
  opts: ProjectionOptions = {},
): Promise<ProjectionResult> {
  const o = { ...DEFAULT_PROJECTION, ...Object.fromEntries(Object.entries(opts).filter(([k]) => k !== 'onStep')) };
  checkOptions(o);
  const g = models.generator;
  const n = labels.length;
  const R = g.resolution;
  const C = g.arch.imageChannels;
  if (n < 1) throw new RangeError('no images to project');
  if (targets.length !== n * R * R * C)
    throw new RangeError(`images must be [${n}, ${R}x${R}x${C}] (${n * R * R * C} values), got ${targets.length}`);
  labels.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= g.arch.numClasses)
      throw new RangeError(`labels.${i} must be an integer in [0, ${g.arch.numClasses}), got ${c}`);
  });
  const synth = analysisSynthesisOptions(models, n, classNoiseStreams(labels));
  const moments = classLatentMoments(g, o.seed, o.initSamples);
  const target = tf.tensor4d(targets, [n, R, R, C]);
  const targetFeatures = tf.tidy(() => models.featureExtractor.features(target));
  const targetFeatureNorm2 = tf.tidy(() => tf.add(tf.sum(tf.square(targetFeatures), 1), 1e-8));

  /** Loss per image of styles s [N, S]: pixel MSE (unclipped) + featureWeight * relative feature distance^2. */
  const lossOf = (s: tf.Tensor2D) =>
    tf.tidy(() => {
      const raw = g.synthesisRaw(s, synth);
      const pixel = tf.mean(tf.square(tf.sub(tf.mul(tf.add(raw, 1), 0.5), target)), [1, 2, 3]);
      if (o.featureWeight === 0) return pixel;
      const f = models.featureExtractor.features(toUnitRange(raw));
      const feat = tf.div(tf.sum(tf.square(tf.sub(f, targetFeatures)), 1), targetFeatureNorm2);
      return tf.add(pixel, tf.mul(feat, o.featureWeight));
    });

  const wSteps = Math.round(o.steps * o.wShare);
  const phases: Array<{ phase: 'w' | 's'; steps: number }> = [
    { phase: 'w', steps: wSteps },
    { phase: 's', steps: o.steps - wSteps },
  ];
  const wCentre = rowsOf(moments.wMean, g.arch.wDim, labels);
  const wScale = rowsOf(moments.wStd, g.arch.wDim, labels);
  // Phase 1 starts at the class's mean w (u = 0); phase 2 at that phase's styles (v = 0).
  let u: tf.Tensor = tf.zeros([n, g.arch.wDim]);
  let sCentre: tf.Tensor2D | null = null;
  const sScale = rowsOf(moments.sStd, g.styleSize, labels);
  let step = 0;
  try {
    for (const { phase, steps } of phases) {
      if (phase === 's') {
        sCentre = tf.tidy(() => g.styles(tf.add(wCentre, tf.mul(wScale, u)) as tf.Tensor2D));
        u.dispose();
        u = tf.zeros([n, g.styleSize]);
      }
      const toStyle = (x: tf.Tensor) =>
        phase === 'w'
          ? g.styles(tf.add(wCentre, tf.mul(wScale, x)) as tf.Tensor2D)
          : (tf.add(sCentre!, tf.mul(sScale, x)) as tf.Tensor2D);
      const adam = new Adam(u.shape, phase === 'w' ? o.learningRateW : o.learningRateS);
      try {
        for (let k = 0; k < steps; k++) {
          const { value, grad } = tf.tidy(() => {
            const r = tf.valueAndGrad((x: tf.Tensor) =>
              tf.add(tf.sum(lossOf(toStyle(x))), tf.mul(tf.sum(tf.mean(tf.square(x), 1)), o.priorWeight)),
            )(u);
            return { value: r.value, grad: r.grad };
          });
          const next = adam.step(u, grad);
          const loss = (await value.data())[0] / n;
          tf.dispose([value, grad, u]);
          u = next;
          opts.onStep?.({ step: ++step, steps: o.steps, phase, loss });
        }
      } finally {
        adam.dispose();
      }
    }
    const s = tf.tidy(() =>
      sCentre === null
        ? g.styles(tf.add(wCentre, tf.mul(wScale, u)) as tf.Tensor2D)
        : (tf.add(sCentre, tf.mul(sScale, u)) as tf.Tensor2D),
    );
    const [img, psnr, featDist] = tf.tidy(() => {
      const img = g.synthesis(s, synth);
      const mse = tf.mean(tf.square(tf.sub(img, target)), [1, 2, 3]);
      const psnr = tf.mul(tf.log(tf.maximum(mse, 1e-10)), -10 / Math.LN10);
      const f = models.featureExtractor.features(img);
      const fd = tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(f, targetFeatures)), 1), targetFeatureNorm2));
      return [img, psnr, fd];
    });
    const [sv, iv, pv, fv] = await Promise.all([s.data(), img.data(), psnr.data(), featDist.data()]);
    tf.dispose([s, img, psnr, featDist]);
    const S = g.styleSize;
    const px = R * R * C;
    return {
      schema: PROJECTION_SCHEMA,
      options: o,
      images: labels.map((label, i) => ({
        label,
        style: (sv as Float32Array).slice(i * S, (i + 1) * S),
        image: (iv as Float32Array).slice(i * px, (i + 1) * px),
        psnr: pv[i],
        featureDistance: fv[i],
      })),
    };
  } finally {
    tf.dispose([u, target, targetFeatures, targetFeatureNorm2, wCentre, wScale, sScale]);
    if (sCentre) sCentre.dispose();
  }
}
