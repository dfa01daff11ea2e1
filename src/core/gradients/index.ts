import { registerConv2DGradient } from './conv2d.js';
import { registerMatMulGradient } from './matmul.js';
import { registerComparisonGradients } from './comparisons.js';

let registered = false;

/**
 * Replaces a few stock gradients with formulations that use only forward kernels.
 *
 * Why: the wasm backend lacks `Conv2DBackpropFilter`, its `Conv2DBackpropInput` is ~10x slower than
 * its forward conv, transposed matMuls take a slow path, and comparison ops have no gradient (needed
 * by the second backward pass of R1 through leakyRelu). The replacements are built from
 * differentiable ops, so higher-order gradients keep working, and they fall back to the stock
 * gradient for any configuration they do not cover. Idempotent.
 */
export function registerPortableGradients(): void {
  if (registered) return;
  registered = true;
  registerConv2DGradient();
  registerMatMulGradient();
  registerComparisonGradients();
}
