/**
 * Modulated layers of the synthesis network.
 *
 * Modulation is applied to the ACTIVATIONS, not the weights: y = conv(x * s, W) * d with
 * d[n, o] = rsqrt(sum_i s[n,i]^2 sum_k W[k,i,o]^2 + 1e-8). This equals StyleGAN2's weight
 * modulation/demodulation (conv is linear per input channel), but needs only a shared-weight conv and
 * its input gradient, so gradients w.r.t. the styles s flow on every backend.
 */
import * as tf from '../tf.js';
import type { ParameterSet } from '../nn/params.js';
import { createRng, normals } from '../random.js';
import { EqualizedFc } from './layers.js';
import { synthesisEpilogue } from './synthesis-epilogue.js';
import { scaleChannels, upsample2PooledGrad } from '../nn/ops.js';
import type { StyleLayer } from './style-layout.js';
import { WeightTermsCache } from '../nn/weight-terms.js';
import { flipFilter, registerFlippedFilter } from '../gradients/conv2d.js';
import { registerTransposed } from '../gradients/matmul.js';

/** Affine w -> style of a layer (bias init 1, so styles start around 1). */
export function createAffine(
  params: ParameterSet,
  layer: StyleLayer,
  wDim: number,
  cache?: WeightTermsCache,
): EqualizedFc {
  return new EqualizedFc(params, `synthesis/${layer.name}/affine`, wDim, layer.channels, { biasInit: 1, cache });
}

/** x * s per sample and channel (the activations' modulation). */
function modulate(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  return scaleChannels(x, s);
}

/** 3x3 modulated, demodulated conv + noise + bias + leaky ReLU (optionally upsampling first). */
export class ModulatedConvLayer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly noiseStrength: tf.Variable;
  /** Fixed noise [1, R, R, 1] used in 'const' noise mode (part of the model, not trained). */
  readonly noiseConst: tf.Variable;
  private readonly gain: number;
  /**
   * Whether the epilogue after the conv runs as one fused kernel where the backend has one
   * (synthesis-epilogue.ts; bit-identical either way). Off: the stock ops, for comparisons.
   */
  fusedEpilogue = true;

  constructor(
    params: ParameterSet,
    readonly layer: StyleLayer,
    constNoiseSeed: number,
    layerIndex: number,
    private readonly cache: WeightTermsCache = new WeightTermsCache(),
  ) {
    const p = `synthesis/${layer.name}`;
    this.gain = 1 / Math.sqrt(layer.channels * 9);
    this.weight = params.create(`${p}/weight`, [3, 3, layer.channels, layer.outChannels], 'normal');
    this.bias = params.create(`${p}/bias`, [layer.outChannels], 'zeros');
    this.noiseStrength = params.create(`${p}/noise_strength`, [1], 'zeros');
    this.noiseConst = params.create(`${p}/noise_const`, [1, layer.resolution, layer.resolution, 1], 'zeros');
    const r = layer.resolution;
    const values = normals(createRng(constNoiseSeed, layerIndex), r * r);
    tf.tidy(() => this.noiseConst.assign(tf.tensor4d(values, [1, r, r, 1])));
  }

  /** x [N,H,W,Cin] (H = resolution/2 when upsampling), s [N,Cin], noise [N,R,R,1] or null. */
  apply(x: tf.Tensor4D, s: tf.Tensor2D, noise: tf.Tensor4D | null): tf.Tensor4D {
    if (this.layer.up) x = upsample2PooledGrad(x);
    const [w, wsq] = this.weightTerms();
    const y = tf.conv2d(modulate(x, s), w, 1, 'same');
    const d = tf.rsqrt(tf.add(tf.matMul(tf.square(s), wsq), 1e-8)) as tf.Tensor2D;
    const scaledNoise = noise === null ? null : (tf.mul(noise, this.noiseStrength) as tf.Tensor4D);
    return synthesisEpilogue(y, d, scaledNoise, this.bias, this.fusedEpilogue);
  }

  /**
   * The scaled weight w [3,3,Cin,Cout] and the demodulation's sum of squares wsq [Cin,Cout]: per
   * call when the cache is off; else once per weight value, with the conv gradient's flipped w and
   * wsq's transpose (the matMul gradient's) recorded for the gradient w.r.t. s.
   */
  weightTerms(): [tf.Tensor4D, tf.Tensor2D] {
    if (!this.cache.enabled) {
      const w = tf.mul(this.weight, this.gain) as tf.Tensor4D;
      return [w, tf.sum(tf.square(w), [0, 1]) as tf.Tensor2D];
    }
    const [w, wsq] = this.cache.terms(
      this.weight,
      () => {
        const w = tf.mul(this.weight, this.gain) as tf.Tensor4D;
        const wsq = tf.sum(tf.square(w), [0, 1]) as tf.Tensor2D;
        return [w, wsq, flipFilter(w), tf.transpose(wsq) as tf.Tensor2D];
      },
      ([w, wsq, flipped, wsqT]) => {
        const forgetFlipped = registerFlippedFilter(w as tf.Tensor4D, flipped as tf.Tensor4D);
        const forgetT = registerTransposed(wsq as tf.Tensor2D, wsqT as tf.Tensor2D);
        return () => {
          forgetFlipped();
          forgetT();
        };
      },
    );
    return [w as tf.Tensor4D, wsq as tf.Tensor2D];
  }
}

/** 1x1 modulated conv to the image channels, without demodulation, plus bias. */
export class ToRgbLayer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  private readonly gain: number;

  constructor(
    params: ParameterSet,
    readonly layer: StyleLayer,
    private readonly cache: WeightTermsCache = new WeightTermsCache(),
  ) {
    const p = `synthesis/${layer.name}`;
    this.gain = 1 / Math.sqrt(layer.channels);
    this.weight = params.create(`${p}/weight`, [1, 1, layer.channels, layer.outChannels], 'normal');
    this.bias = params.create(`${p}/bias`, [layer.outChannels], 'zeros');
  }

  apply(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
    const y = tf.conv2d(modulate(x, s), this.scaledWeight(), 1, 'same');
    return tf.add(y, this.bias) as tf.Tensor4D;
  }

  /** The scaled weight [1,1,Cin,C]: per call when the cache is off, else once per weight value. */
  scaledWeight(): tf.Tensor4D {
    if (!this.cache.enabled) return tf.mul(this.weight, this.gain) as tf.Tensor4D;
    const [w] = this.cache.terms(
      this.weight,
      () => {
        const w = tf.mul(this.weight, this.gain) as tf.Tensor4D;
        return [w, flipFilter(w)];
      },
      ([w, flipped]) => registerFlippedFilter(w as tf.Tensor4D, flipped as tf.Tensor4D),
    );
    return w as tf.Tensor4D;
  }
}
