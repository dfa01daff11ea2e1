/**
 * StyleGAN2 losses: non-saturating logistic loss for G and D, and the R1 penalty on real images
 * (a second-order gradient: the penalty's gradient w.r.t. D's weights differentiates through D's
 * input gradient).
 */
import * as tf from '../tf.js';
import type { Discriminator } from './discriminator.js';
import type { ClassInput } from './mapping.js';

/** G: mean softplus(-D(fake)). */
export function generatorLoss(fakeLogits: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.softplus(tf.neg(fakeLogits))) as tf.Scalar;
}

/** D: mean softplus(D(fake)) + mean softplus(-D(real)). */
export function discriminatorLoss(
  fakeLogits: tf.Tensor1D,
  realLogits: tf.Tensor1D,
): { fake: tf.Scalar; real: tf.Scalar } {
  return {
    fake: tf.mean(tf.softplus(fakeLogits)) as tf.Scalar,
    real: tf.mean(tf.softplus(tf.neg(realLogits))) as tf.Scalar,
  };
}

/**
 * R1: mean over the batch of |d sum(D(x)) / dx|^2 (times gamma / 2 by the caller). Differentiable
 * w.r.t. D's weights when called inside an outer gradient computation.
 */
export function r1Penalty(d: Discriminator, reals: tf.Tensor4D, classes: ClassInput): tf.Scalar {
  const g = tf.grad((x: tf.Tensor) => tf.sum(d.apply(x as tf.Tensor4D, classes)))(reals);
  return tf.mean(tf.sum(tf.square(g), [1, 2, 3])) as tf.Scalar;
}
