/** Central finite differences of a scalar function of one style vector, at chosen dims (gradient checks). */
import * as tf from '../src/core/tf.js';

export function centralDifferences(
  f: (s: tf.Tensor) => tf.Tensor,
  at: ArrayLike<number>,
  dims: number[],
  eps = 1e-3,
): number[] {
  return dims.map((d) => {
    const value = (delta: number) => {
      const v = Float32Array.from(at);
      v[d] += delta;
      return tf.tidy(() => f(tf.tensor2d(v, [1, at.length])).dataSync()[0]);
    };
    return (value(eps) - value(-eps)) / (2 * eps);
  });
}
