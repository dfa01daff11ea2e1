/**
 * Equalized-learning-rate building blocks shared by the mapping network, the synthesis network and
 * the discriminator (as in NVlabs stylegan2-ada-pytorch training/networks.py). Weights are stored
 * as N(0, 1/lrMul^2) and scaled by lrMul/sqrt(fanIn) at run time; biases are stored divided by lrMul.
 */
import * as tf from '../tf.js';
import type { ParameterSet } from '../nn/params.js';
import type { WeightTermsCache } from '../nn/weight-terms.js';

export const SQRT2 = Math.SQRT2;

/** Leaky ReLU (slope 0.2) times gain sqrt(2), which keeps the activations' second moment. */
export function lrelu(x: tf.Tensor, gain = SQRT2): tf.Tensor {
  return tf.mul(tf.leakyRelu(x, 0.2), gain);
}

/**
 * `lrelu(x)` (gain sqrt(2)) with one fused gradient, dx = (dy * gain) * step(x, 0.2): a Step and two
 * Multiplies, and x the only tensor kept for the backward pass, where the stock gradients of
 * Multiply then LeakyRelu run Cast, Multiply, Greater, Multiply, Select and three broadcast copies
 * and keep three tensors. Values and gradients are bit-identical to `lrelu`'s: for x > 0 the
 * gradient is (dy * gain) * 1, else (dy * gain) * 0.2 in float32, the stock gradient's products.
 * Its own gradient is that of the formula (Step's is zero), so higher-order gradients work, but it
 * is used where only first-order gradients are taken (the synthesis network: the sweep's gradient,
 * generator training); the discriminator's R1 penalty keeps the stock `lrelu`.
 */
export const lreluFused: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(tf.leakyRelu(x, 0.2), SQRT2),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.mul(dy, SQRT2), tf.step(saved[0], 0.2)),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** Scales each row to unit second moment. */
export function normalize2ndMoment(x: tf.Tensor2D, eps = 1e-8): tf.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), 1, true), eps))) as tf.Tensor2D;
}

export interface FcOptions {
  lrMul?: number;
  biasInit?: number;
  activation?: 'linear' | 'lrelu';
  bias?: boolean;
  /**
   * The model's weight-terms cache: the scaled weight (and bias) are then computed once per weight
   * value. Without one they are computed per call (the discriminator, trained every step).
   */
  cache?: WeightTermsCache;
}

/** A fully connected layer with equalized learning rate. */
export class EqualizedFc {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly gain: number;
  private readonly lrMul: number;
  private readonly activation: 'linear' | 'lrelu';
  private readonly cache: WeightTermsCache | undefined;

  constructor(params: ParameterSet, name: string, inFeatures: number, outFeatures: number, opts: FcOptions = {}) {
    this.cache = opts.cache;
    this.lrMul = opts.lrMul ?? 1;
    this.gain = this.lrMul / Math.sqrt(inFeatures);
    this.activation = opts.activation ?? 'linear';
    this.weight = params.create(`${name}/weight`, [inFeatures, outFeatures], { normalStd: 1 / this.lrMul });
    this.bias =
      opts.bias === false
        ? null
        : params.create(`${name}/bias`, [outFeatures], { constant: (opts.biasInit ?? 0) / this.lrMul });
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    let y: tf.Tensor = tf.matMul(x, this.scaledWeight());
    const bias = this.scaledBias();
    if (bias !== null) y = tf.add(y, bias);
    if (this.activation === 'lrelu') y = lrelu(y);
    return y as tf.Tensor2D;
  }

  /** weight * lrMul / sqrt(fanIn): per call without a cache (or with it off), else once per weight value. */
  scaledWeight(): tf.Tensor2D {
    const compute = () => [tf.mul(this.weight, this.gain) as tf.Tensor2D];
    return (this.cache === undefined ? compute() : this.cache.terms(this.weight, compute))[0];
  }

  /** bias * lrMul (the stored bias itself when lrMul is 1), or null for a layer without bias. */
  scaledBias(): tf.Tensor | null {
    const bias = this.bias;
    if (bias === null || this.lrMul === 1) return bias;
    const compute = () => [tf.mul(bias, this.lrMul)];
    return (this.cache === undefined ? compute() : this.cache.terms(bias, compute))[0];
  }
}

/** A plain (unmodulated) stride-1 'same' convolution with equalized learning rate. */
export class EqualizedConv {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  private readonly gain: number;

  constructor(
    params: ParameterSet,
    name: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    private readonly activation: 'linear' | 'lrelu' = 'lrelu',
    bias = true,
  ) {
    this.gain = 1 / Math.sqrt(inChannels * kernel * kernel);
    this.weight = params.create(`${name}/weight`, [kernel, kernel, inChannels, outChannels], 'normal');
    this.bias = bias ? params.create(`${name}/bias`, [outChannels], 'zeros') : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    let y: tf.Tensor = tf.conv2d(x, tf.mul(this.weight, this.gain) as tf.Tensor4D, 1, 'same');
    if (this.bias !== null) y = tf.add(y, this.bias);
    if (this.activation === 'lrelu') y = lrelu(y);
    return y as tf.Tensor4D;
  }
}
