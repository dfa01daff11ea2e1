import {
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  registerGradient,
  zerosLike,
  type Tensor,
} from '@tensorflow/tfjs-core';

/**
 * Comparisons are piecewise constant: their gradient is zero. tfjs-core registers none, which breaks
 * second-order gradients (R1 regularisation) through ops whose gradient uses a comparison mask,
 * such as leakyRelu.
 */
export function registerComparisonGradients(): void {
  for (const kernelName of [Greater, GreaterEqual, Less, LessEqual]) {
    registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [a, b] = saved;
        return { a: () => zerosLike(a), b: () => zerosLike(b) };
      },
    });
  }
}
