/**
 * Mapping network: (z, class) -> w. z (normal) and a class embedding (one-hot matMul, never a
 * gather) are each normalised to unit second moment, concatenated and sent through `mappingLayers`
 * leaky-ReLU FC layers with a learning-rate multiplier. A running average of w (`w_avg`, updated
 * during training, not trained) serves truncation. With a paint layer (paint.ts) the last entry of z
 * draws a colour pair, appended to the MLP's output: w = [MLP(z[:-1], class), pair].
 */
import * as tf from '../tf.js';
import type { ParameterSet } from '../nn/params.js';
import { oneHotFloat } from '../nn/ops.js';
import { mappingWDim, mappingZDim, type GeneratorArchitecture } from './architecture.js';
import type { PaintLayer } from './paint.js';
import { EqualizedFc, normalize2ndMoment } from './layers.js';
import type { WeightTermsCache } from '../nn/weight-terms.js';

/** Class labels as numbers, or an already one-hot [N, numClasses] float tensor. */
export type ClassInput = ArrayLike<number> | tf.Tensor2D;

export function classOneHot(classes: ClassInput, numClasses: number): tf.Tensor2D {
  if (classes instanceof tf.Tensor) {
    if (classes.rank !== 2 || classes.shape[1] !== numClasses) {
      throw new RangeError(`class tensor must be [N, ${numClasses}], got [${classes.shape}]`);
    }
    return classes;
  }
  return oneHotFloat(classes, numClasses);
}

export interface MappingOptions {
  /** Truncation: w = w_avg + psi (w - w_avg); 1 (default) = none. */
  truncationPsi?: number;
}

export class MappingNetwork {
  readonly embed: EqualizedFc;
  readonly layers: EqualizedFc[] = [];
  /** Running average of w (non-trainable). */
  readonly wAvg: tf.Variable;

  /** paint: the generator's paint layer, which draws the colour pair (null without one). */
  constructor(
    params: ParameterSet,
    private readonly arch: GeneratorArchitecture,
    cache?: WeightTermsCache,
    private readonly paint: PaintLayer | null = null,
  ) {
    const width = mappingWDim(arch);
    this.embed = new EqualizedFc(params, 'mapping/embed', arch.numClasses, width, { cache });
    let inF = mappingZDim(arch) + width;
    for (let i = 0; i < arch.mappingLayers; i++) {
      this.layers.push(
        new EqualizedFc(params, `mapping/fc${i}`, inF, width, {
          lrMul: arch.mappingLrMul,
          activation: 'lrelu',
          cache,
        }),
      );
      inF = width;
    }
    this.wAvg = params.create('mapping/w_avg', [arch.wDim], 'zeros');
  }

  /** z [N, zDim], classes -> w [N, wDim]. */
  apply(z: tf.Tensor2D, classes: ClassInput, opts: MappingOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      if (z.rank !== 2 || z.shape[1] !== this.arch.zDim)
        throw new RangeError(`z must be [N, ${this.arch.zDim}], got [${z.shape}]`);
      const c = classOneHot(classes, this.arch.numClasses);
      if (c.shape[0] !== z.shape[0]) throw new RangeError(`${z.shape[0]} latents but ${c.shape[0]} classes`);
      const n = z.shape[0];
      const zMlp = mappingZDim(this.arch);
      const x = normalize2ndMoment(this.paint ? tf.slice(z, [0, 0], [n, zMlp]) : z);
      const y = normalize2ndMoment(this.embed.apply(c));
      let w = tf.concat([x, y], 1) as tf.Tensor2D;
      for (const l of this.layers) w = l.apply(w);
      if (this.paint) w = tf.concat([w, this.paint.draw(tf.slice(z, [0, zMlp], [n, this.arch.zDim - zMlp]))], 1);
      const psi = opts.truncationPsi ?? 1;
      if (psi !== 1) w = tf.add(this.wAvg, tf.mul(tf.sub(w, this.wAvg), psi)) as tf.Tensor2D;
      return w;
    });
  }

  /** Training: w_avg <- lerp(mean w, w_avg, beta). */
  updateWAvg(w: tf.Tensor2D, beta = 0.995): void {
    tf.tidy(() => {
      this.wAvg.assign(tf.add(tf.mul(tf.mean(w, 0), 1 - beta), tf.mul(this.wAvg, beta)) as tf.Tensor1D);
    });
  }
}
