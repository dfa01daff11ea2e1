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

/**
 * t with its batch of 1 repeated to n rows (t itself when it has n): the features or image of layers
 * run once for rows that share them (SynthesisOptions.sharedStyleDims), widened where they meet a
 * layer run at the full batch.
 */
export function broadcastRows(t: tf.Tensor4D, n: number): tf.Tensor4D {
  if (t.shape[0] === n) return t;
  if (t.shape[0] !== 1) throw new RangeError(`cannot broadcast ${t.shape[0]} rows to ${n}`);
  // n copies concatenated: block copies on wasm, where Tile walks the output element by element
  // (several ms per traversal at batch 9, more than the shared layers save).
  return tf.concat(new Array<tf.Tensor4D>(n).fill(t), 0);
}

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
   * conv then the toRGB style. Returns the new features and image. Each layer runs at its style's
   * rows: a style of one row (a layer shared by every row) keeps features and image at one row;
   * the first layer with more widens them (broadcastRows).
   */
  apply(
    x: tf.Tensor4D | null,
    img: tf.Tensor4D | null,
    styles: tf.Tensor2D[],
    noise: BlockNoise,
  ): { x: tf.Tensor4D; img: tf.Tensor4D } {
    const n = styles[0].shape[0];
    let h: tf.Tensor4D;
    // const times ones [n,1,1,1] (exact) rather than Tile, which wasm runs element by element
    // (~3 ms for 64 rows, 2% of a batch-64 sweep call); its gradient is one Sum over rows.
    if (this.const !== null) h = tf.mul(this.const, tf.ones([n, 1, 1, 1])) as tf.Tensor4D;
    else if (x !== null) h = x;
    else throw new Error(`block ${this.resolution}: no input features`);
    this.convs.forEach((conv, i) => {
      h = conv.apply(broadcastRows(h, styles[i].shape[0]), styles[i], noise[i] ?? null);
    });
    const rgbStyle = styles[this.convs.length];
    const y = this.torgb.apply(broadcastRows(h, rgbStyle.shape[0]), rgbStyle);
    const out = img === null ? y : (tf.add(broadcastRows(upsample2PooledGrad(img), y.shape[0]), y) as tf.Tensor4D);
    return { x: h, img: out };
  }
}
