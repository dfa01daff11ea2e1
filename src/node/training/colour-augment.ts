/**
 * Colour augmentation of what the discriminator sees, for RGB domains: each image, independently
 * with probability p, has its channels permuted by one of the five non-identity permutations.
 *
 * Why: on coloured digits D separates real from fake by colour statistics (exact palette values,
 * flat backgrounds) long before it reads shape or class, and G follows it (docs/colored-mnist/
 * training.md). Permuting channels of reals and fakes alike takes the exact palette away from D
 * while keeping shape, class and "one flat colour per region". Applied to every image D gets (reals,
 * fakes, the R1 reals), as ADA (Karras et al. 2020, "Training generative adversarial networks with
 * limited data") does; with the identity kept more likely than any other permutation (p < 5/6 here),
 * matching the augmented distributions still means matching the real one, so the augmentation does
 * not leak into G's images.
 */
import * as tf from '../../core/tf.js';
import { uniform, uniformInteger, type Rng } from '../../core/random.js';

/** Channel orders: index 0 is the identity; output channel d reads input channel ORDERS[k][d]. */
export const CHANNEL_ORDERS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
] as const;

/** Per image of a batch of n: 0 (unchanged) with probability 1 - p, else a non-identity order 1..5. */
export function drawChannelOrders(rng: Rng, n: number, p: number): Int32Array {
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const u = uniform(rng);
    const k = uniformInteger(rng, 1, CHANNEL_ORDERS.length - 1);
    out[j] = u < p ? k : 0;
  }
  return out;
}

/** images [N,H,W,3], orders [N] (indices into CHANNEL_ORDERS) -> [N,H,W,3]; differentiable. */
export function permuteChannels(images: tf.Tensor4D, orders: Int32Array): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (c !== 3) throw new Error(`channel permutation needs 3 channels, got ${c}`);
  if (orders.length !== n) throw new Error(`${orders.length} channel orders for ${n} images`);
  return tf.tidy(() => {
    // One 3x3 permutation matrix per image: out[..., d] = in[..., order[d]].
    const m = new Float32Array(n * 9);
    orders.forEach((k, j) => {
      CHANNEL_ORDERS[k].forEach((src, d) => {
        m[j * 9 + src * 3 + d] = 1;
      });
    });
    const flat = tf.reshape(images, [n, h * w, c]) as tf.Tensor3D;
    return tf.reshape(tf.matMul(flat, tf.tensor3d(m, [n, 3, 3])), [n, h, w, c]) as tf.Tensor4D;
  });
}
