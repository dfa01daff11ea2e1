/**
 * The paper's "simple CNN" for 32x32 images (grey, or RGB with `inputChannels: 3`): three 3x3 conv + ReLU + 2x2 average-pool stages, then
 * a hidden dense layer and the class logits. All convs are stride-1 'same' and pooling is
 * reshape + mean, so forward and backward passes use kernels that exist and agree on cpu, wasm and
 * webgpu.
 */
import * as tf from '../tf.js';
import { ParameterSet } from '../nn/params.js';
import { avgPool2BroadcastGrad } from '../nn/ops.js';
import { WeightTermsCache } from '../nn/weight-terms.js';
import { flipFilter, registerFlippedFilter } from '../gradients/conv2d.js';
import { registerTransposed } from '../gradients/matmul.js';
import { createRng } from '../random.js';
import type { HostTensorMap } from '../weights/codec.js';
import type { Classifier } from './classifier.js';

export interface SimpleCnnConfig {
  /** Output channels of the three conv stages. */
  channels: [number, number, number];
  /** Width of the hidden dense layer. */
  hidden: number;
  numClasses: number;
  /** Image side; must be divisible by 8. */
  imageSize: number;
  /** Channels of the input image: absent or 1 = grey (every manifest before RGB domains), 3 = RGB. */
  inputChannels?: number;
}

export const DEFAULT_CNN_CONFIG: SimpleCnnConfig = {
  channels: [16, 32, 64],
  hidden: 128,
  numClasses: 10,
  imageSize: 32,
};

export class SimpleCnn implements Classifier {
  readonly params: ParameterSet;
  readonly numClasses: number;
  /**
   * What the gradient w.r.t. the images needs from the weights alone, computed once per weight
   * value (nn/weight-terms.ts) instead of in every backward pass: each conv kernel flipped for its
   * input gradient, each dense kernel transposed. They enter only the input gradient, never the
   * forward pass or the weights' own gradient, so training is unaffected; values are bit-identical
   * (the same ops on the same values).
   */
  private readonly weightCache = new WeightTermsCache();

  /**
   * `seed` drives the (He-normal) initialisation; loaded weights replace it. `warmCache` false skips
   * the gradient terms of those initial weights, and `seed` null drawing them (zeros), for
   * `fromWeights`, which replaces them at once.
   */
  constructor(
    readonly name: string,
    readonly config: SimpleCnnConfig = DEFAULT_CNN_CONFIG,
    seed: number | null = 0,
    warmCache = true,
  ) {
    if (config.imageSize % 8 !== 0) throw new Error(`imageSize ${config.imageSize} is not divisible by 8`);
    this.numClasses = config.numClasses;
    this.params = new ParameterSet(seed === null ? null : createRng(seed));
    let cin = config.inputChannels ?? 1;
    config.channels.forEach((cout, i) => {
      this.params.create(`conv${i + 1}/kernel`, [3, 3, cin, cout], { normalStd: Math.sqrt(2 / (9 * cin)) });
      this.params.create(`conv${i + 1}/bias`, [cout], 'zeros');
      cin = cout;
    });
    const flat = (config.imageSize / 8) ** 2 * cin;
    this.params.create('dense1/kernel', [flat, config.hidden], { normalStd: Math.sqrt(2 / flat) });
    this.params.create('dense1/bias', [config.hidden], 'zeros');
    this.params.create('logits/kernel', [config.hidden, config.numClasses], {
      normalStd: Math.sqrt(1 / config.hidden),
    });
    this.params.create('logits/bias', [config.numClasses], 'zeros');
    if (warmCache) this.gradientTerms();
  }

  /** Builds the model from decoded weights (names and shapes checked). */
  static fromWeights(name: string, config: SimpleCnnConfig, tensors: HostTensorMap, file: string): SimpleCnn {
    const cnn = new SimpleCnn(name, config, null, false);
    cnn.params.load(tensors, file);
    cnn.gradientTerms();
    return cnn;
  }

  /**
   * Switches the gradient-terms cache on (default) or off (every backward pass flips and transposes
   * the kernels itself, as without a cache: the reference the cache is checked and timed against).
   */
  setWeightCache(on: boolean): void {
    this.weightCache.enabled = on;
    this.gradientTerms();
  }

  get weightCacheEnabled(): boolean {
    return this.weightCache.enabled;
  }

  /**
   * Makes the cached terms current: a no-op while no kernel has been assigned since; after an
   * assignment (loading, a training step) the terms of the new values replace the old ones.
   */
  private gradientTerms(): void {
    if (!this.weightCache.enabled) return;
    for (let i = 1; i <= this.config.channels.length; i++) {
      const k = this.params.get(`conv${i}/kernel`);
      this.weightCache.terms(
        k,
        () => [flipFilter(k as tf.Tensor as tf.Tensor4D)],
        ([flipped]) => registerFlippedFilter(k as tf.Tensor as tf.Tensor4D, flipped as tf.Tensor4D),
      );
    }
    for (const name of ['dense1/kernel', 'logits/kernel']) {
      const k = this.params.get(name);
      this.weightCache.terms(
        k,
        () => [tf.transpose(k)],
        ([t]) => registerTransposed(k as tf.Tensor as tf.Tensor2D, t as tf.Tensor2D),
      );
    }
  }

  /** Penultimate activations [N, hidden] (after ReLU): the feature space of the evaluation network. */
  features(images: tf.Tensor4D): tf.Tensor2D {
    this.gradientTerms();
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      for (let i = 1; i <= this.config.channels.length; i++) {
        const k = this.params.get(`conv${i}/kernel`) as tf.Tensor4D;
        const b = this.params.get(`conv${i}/bias`);
        x = avgPool2BroadcastGrad(tf.relu(tf.add(tf.conv2d(x, k, 1, 'same'), b)) as tf.Tensor4D);
      }
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      return tf.relu(
        tf.add(tf.matMul(flat, this.params.get('dense1/kernel') as tf.Tensor2D), this.params.get('dense1/bias')),
      ) as tf.Tensor2D;
    });
  }

  logits(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(
      () =>
        tf.add(
          tf.matMul(this.features(images), this.params.get('logits/kernel') as tf.Tensor2D),
          this.params.get('logits/bias'),
        ) as tf.Tensor2D,
    );
  }

  dispose(): void {
    this.weightCache.clear();
    this.params.dispose();
  }
}

/** Validates `architecture` from a manifest as a SimpleCnnConfig. */
export function parseCnnConfig(arch: Record<string, unknown>, file: string): SimpleCnnConfig {
  const c = arch as Partial<SimpleCnnConfig> & { type?: unknown };
  const ok =
    c.type === 'simple-cnn' &&
    Array.isArray(c.channels) &&
    c.channels.length === 3 &&
    c.channels.every((v) => Number.isInteger(v) && v > 0) &&
    Number.isInteger(c.hidden) &&
    Number.isInteger(c.numClasses) &&
    Number.isInteger(c.imageSize) &&
    (c.inputChannels === undefined || (Number.isInteger(c.inputChannels) && c.inputChannels > 0));
  if (!ok) throw new Error(`${file}: architecture is not a valid simple-cnn description`);
  return {
    channels: c.channels as [number, number, number],
    hidden: c.hidden!,
    numClasses: c.numClasses!,
    imageSize: c.imageSize!,
    ...(c.inputChannels === undefined ? {} : { inputChannels: c.inputChannels }),
  };
}
