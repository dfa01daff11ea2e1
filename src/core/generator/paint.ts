/**
 * The paint layer: a generator's last step for images that are a grey shape painted in two colours,
 * pixel = background + (foreground - background) * ink, the way the coloured-MNIST domain is made
 * (data/colour.ts). The synthesis network draws the ink (one channel); the paint layer colours it.
 *
 * Its style is the colour pair itself, 6 StyleSpace dims (foreground r, g, b, background r, g, b, in
 * [0, 1]), so the method can rank, traverse and name colour like any other style channel. The pair
 * is drawn in the mapping stage from the last entry of z (`PAINT_Z_DIMS`): a categorical
 * distribution over `components` colour pairs, sampled by comparing that standard normal with the
 * normal quantiles of the cumulative component weights (`z_edges`, computed on the host in float64
 * when the model is fitted). Comparisons, unlike an erf on the device, are exact on every backend,
 * so a seeded sample gets the same colours on cpu, wasm and webgpu.
 *
 * Why not adversarial: five end-to-end StyleGAN runs on the coloured data (docs/colored-mnist/
 * training.md) never learned the palette's discrete pairs together with the digits on CPU. The
 * domain's colour is independent of shape by construction, so the pair distribution is fitted on
 * its own (maximum likelihood: the share of each pair in the training images, `paint-generator`).
 */
import * as tf from '../tf.js';
import type { ParameterSet } from '../nn/params.js';

import { PAINT_STYLE_DIMS, PAINT_Z_DIMS } from './paint-dims.js';

export { PAINT_STYLE_DIMS, PAINT_Z_DIMS };

export class PaintLayer {
  /** Colour pairs [K, 6]: foreground rgb then background rgb, in [0, 1]. */
  readonly colours: tf.Variable;
  /** Standard-normal quantiles of the cumulative weights of components 0..K-2 [K - 1], increasing. */
  readonly zEdges: tf.Variable;

  /** components: K >= 2 colour pairs. */
  constructor(
    params: ParameterSet,
    readonly components: number,
  ) {
    this.colours = params.create('paint/colours', [components, PAINT_STYLE_DIMS], { constant: 0.5 });
    this.zEdges = params.create('paint/z_edges', [components - 1], 'zeros');
  }

  /**
   * zPaint [N, 1] (standard normal) -> colour pair [N, 6]: component k when
   * edge[k-1] <= z < edge[k] (edge[-1] = -inf, edge[K-1] = +inf). A one-hot matMul, never a gather.
   */
  draw(zPaint: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const n = zPaint.shape[0];
      // below[i, k] = 1 when z_i < edge_k: [N, K-1]; with 1 (below +inf) appended and 0 (below -inf) prepended.
      const below = tf.cast(tf.less(zPaint, tf.reshape(this.zEdges, [1, this.components - 1])), 'float32');
      const upper = tf.concat([below, tf.ones([n, 1])], 1);
      const lower = tf.concat([tf.zeros([n, 1]), below], 1);
      const oneHot = tf.sub(upper, lower) as tf.Tensor2D;
      return tf.matMul(oneHot, this.colours as tf.Tensor2D);
    });
  }

  /**
   * ink [N, R, R, 1] in the GAN range, style [N, 6] -> painted image [N, R, R, 3] in the GAN range:
   * ink is taken to [0, 1] (clipped, as `toUnitRange` would), painted, and mapped back, so
   * `toUnitRange` of the result is the painted image.
   */
  apply(ink: tf.Tensor4D, style: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const n = style.shape[0];
      const ink01 = tf.clipByValue(tf.mul(tf.add(ink, 1), 0.5), 0, 1);
      const fg = tf.reshape(tf.slice(style, [0, 0], [n, 3]), [n, 1, 1, 3]);
      const bg = tf.reshape(tf.slice(style, [0, 3], [n, 3]), [n, 1, 1, 3]);
      const painted = tf.add(bg, tf.mul(tf.sub(fg, bg), ink01));
      return tf.sub(tf.mul(painted, 2), 1) as tf.Tensor4D;
    });
  }
}
