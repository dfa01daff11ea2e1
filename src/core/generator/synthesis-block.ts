/**
 * One synthesis block (skip architecture): [upsample +] modulated 3x3 conv(s), then a toRGB whose
 * output is added to the upsampled running image. The 4x4 block starts from a learned constant.
 */
import * as tf from '../tf.js';
import type { ParameterSet } from '../nn/params.js';
import { upsample2PooledGrad } from '../nn/ops.js';
import { ModulatedConvLayer, ToRgbLayer } from './synthesis-layer.js';
import type { StyleLayer } from './style-layout.js';
import { WeightTermsCache } from '../nn/weight-terms.js';

/** Noise for each conv layer of a block ([N,R,R,1] or null). */
export type BlockNoise = Array<tf.Tensor4D | null>;

export class SynthesisBlock {
  readonly const: tf.Variable | null;
  readonly convs: ModulatedConvLayer[];
  readonly torgb: ToRgbLayer;

  constructor(
    params: ParameterSet,
    readonly resolution: number,
    convLayers: Array<{ layer: StyleLayer; index: number }>,
    torgbLayer: StyleLayer,
    constNoiseSeed: number,
    cache: WeightTermsCache = new WeightTermsCache(),
  ) {
    this.const =
      resolution === 4 ? params.create(`synthesis/b4.const`, [1, 4, 4, convLayers[0].layer.channels], 'normal') : null;
    this.convs = convLayers.map(
      ({ layer, index }) => new ModulatedConvLayer(params, layer, constNoiseSeed, index, cache),
    );
    this.torgb = new ToRgbLayer(params, torgbLayer, cache);
  }

  /**
   * x: features of the previous block (ignored at 4x4), img: running image or null; styles: one per
   * conv then the toRGB style. Returns the new features and image.
   */
  apply(
    x: tf.Tensor4D | null,
    img: tf.Tensor4D | null,
    styles: tf.Tensor2D[],
    noise: BlockNoise,
  ): { x: tf.Tensor4D; img: tf.Tensor4D } {
    const n = styles[0].shape[0];
    let h: tf.Tensor4D;
    if (this.const !== null) h = tf.tile(this.const, [n, 1, 1, 1]) as tf.Tensor4D;
    else if (x !== null) h = x;
    else throw new Error(`block ${this.resolution}: no input features`);
    this.convs.forEach((conv, i) => {
      h = conv.apply(h, styles[i], noise[i] ?? null);
    });
    const y = this.torgb.apply(h, styles[this.convs.length]);
    const out = img === null ? y : (tf.add(upsample2PooledGrad(img), y) as tf.Tensor4D);
    return { x: h, img: out };
  }
}
