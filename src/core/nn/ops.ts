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
 * Nearest-neighbour 2x upsampling: [N,H,W,C] -> [N,2H,2W,C], by broadcasting against ones (its
 * gradient is a sum; tfjs has no Tile gradient above rank 4).
 */
export function upsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const y = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(y, [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
}

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
