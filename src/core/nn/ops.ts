/**
 * Small building blocks written with ops whose gradients exist and are correct on every backend
 * (cpu, wasm, webgpu). Pooling and upsampling avoid the pool/resize kernels on purpose:
 * tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad is wrong for batch > 1, and wasm lacks several
 * pooling gradients.
 */
import * as tf from '../tf.js';

/** 2x2 average pooling: [N,H,W,C] -> [N,H/2,W/2,C]. */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D;
}

/**
 * `avgPool2` with a gradient that builds no host array: dx = upsample2(dy) / 4, where the stock
 * Mean gradient multiplies dy by a ones tensor of x's full shape, made in JavaScript and uploaded on
 * every call (about 8 ms of the sweep's 180 ms at batch 64 on wasm). Same values and the same
 * gradient bit for bit (dy * 1 / 4 either way). First-order only, like `upsample2PooledGrad`: the
 * discriminator, whose R1 penalty differentiates twice, keeps `avgPool2`.
 */
export const avgPool2BroadcastGrad: (x: tf.Tensor4D) => tf.Tensor4D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor4D;
    return { value: avgPool2(x), gradFunc: (dy: tf.Tensor) => tf.div(upsample2(dy as tf.Tensor4D), 4) };
  },
) as (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * Nearest-neighbour 2x upsampling: [N,H,W,C] -> [N,2H,2W,C], by broadcasting against ones (its
 * gradient is a sum; tfjs has no Tile gradient above rank 4).
 */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const y = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(y, [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
}

/**
 * `upsample2` with a faster gradient: dx = 4 * avgPool2x2(dy) with tfjs's AvgPool forward kernel
 * (XNNPACK on wasm), where the stock gradient of the broadcast is a Sum over two inner axes that
 * wasm runs as a 6-D transpose then a reduction (about 6x slower at [64, 32, 32, 32]). Same values;
 * the gradient equals the stock one up to float32 summation order (the 2x2 sums add in another
 * order; the scaling by 1/4 and 4 is exact). First-order only: a gradient of this gradient would
 * need AvgPoolGrad, which the wasm backend lacks. Used in the synthesis network (the sweep's
 * gradient, generator training), never inside a second-order gradient.
 */
export const upsample2PooledGrad: (x: tf.Tensor4D) => tf.Tensor4D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor4D;
    return {
      value: upsample2(x),
      gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4),
    };
  },
) as (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * Sum over H,W of x [N,H,W,C] -> [N,1,1,C], as H*W times a global AvgPool (XNNPACK on wasm; a Sum
 * over the inner axes is a transpose then a reduction there). Exact scaling when H*W is a power of
 * two, as in this model.
 */
export function channelSums(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  return tf.mul(tf.avgPool(x, [h, w], [h, w], 'valid'), h * w) as tf.Tensor4D;
}

/**
 * x [N,H,W,C] times one scale per sample and channel s [N,C] (StyleGAN2's modulation and
 * demodulation), with a faster gradient for s: sum over H,W of dy * x computed as H*W times a
 * global AvgPool (XNNPACK on wasm) instead of a Sum over the inner axes (a transpose then a
 * reduction on wasm). Same values; the gradient for x is the stock one bit for bit, the one for s
 * equals it up to float32 summation order (H*W is a power of two in this model, so the scaling is
 * exact). First-order only, like `upsample2PooledGrad`.
 */
export const scaleChannels: (x: tf.Tensor4D, s: tf.Tensor2D) => tf.Tensor4D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, s, save] = args as [tf.Tensor4D, tf.Tensor2D, tf.GradSaveFunc];
    const [n, h, w, c] = x.shape;
    save([x, s]);
    return {
      value: tf.mul(x, tf.reshape(s, [n, 1, 1, c])),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ss] = saved as [tf.Tensor4D, tf.Tensor2D];
        const dx = tf.mul(dy, tf.reshape(ss, [n, 1, 1, c]));
        const ds = tf.reshape(channelSums(tf.mul(dy, xs) as tf.Tensor4D, h, w), [n, c]);
        return [dx, ds];
      },
    };
  },
) as (x: tf.Tensor4D, s: tf.Tensor2D) => tf.Tensor4D;

/** Row-wise one-hot as float32 (matMul with it replaces gathers, whose gradient wasm lacks). */
export function oneHotFloat(labels: ArrayLike<number>, depth: number): tf.Tensor2D {
  const out = new Float32Array(labels.length * depth);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= depth) {
      throw new RangeError(`class label ${c} at row ${i} is outside [0, ${depth})`);
    }
    out[i * depth + c] = 1;
  }
  return tf.tensor2d(out, [labels.length, depth]);
}
