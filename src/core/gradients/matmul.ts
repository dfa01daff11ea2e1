import {
  BatchMatMul,
  getGradient,
  matMul,
  registerGradient,
  transpose,
  type BatchMatMulAttrs,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor2D,
} from '@tensorflow/tfjs-core';

/**
 * Transposes computed once per model (weight-terms cache): a matrix's dataId -> its transpose. The
 * gradient's saved operands are clones sharing the dataId, so a cached operand's transpose is
 * found here instead of being recomputed per call.
 */
const transposed = new WeakMap<object, Tensor2D>();

/** Records `t` (= transpose(m), kept by the caller); returns the function that forgets it. */
export function registerTransposed(m: Tensor2D, t: Tensor2D): () => void {
  const key = m.dataId;
  transposed.set(key, t);
  return () => {
    if (transposed.get(key) === t) transposed.delete(key);
  };
}

/**
 * MatMul gradient with explicit transposes instead of transpose flags (the wasm backend's
 * transposed matMul takes a slow path). Rank-2 only; batched matMuls use the stock gradient.
 */
export function registerMatMulGradient(): void {
  const stock = getGradient(BatchMatMul);
  const config: GradConfig = {
    kernelName: BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [a, b] = saved as [Tensor2D, Tensor2D];
      const d = dy as Tensor2D;
      if (a.rank !== 2 || b.rank !== 2) {
        if (stock === undefined) throw new Error('BatchMatMul: no stock gradient to fall back to');
        return stock.gradFunc(dy, saved, attrs);
      }
      const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
      const t = (m: Tensor2D) => {
        const cached = transposed.get(m.dataId);
        return cached !== undefined && !cached.isDisposed ? cached : (transpose(m) as Tensor2D);
      };
      if (!transposeA && !transposeB) return { a: () => matMul(d, t(b)), b: () => matMul(t(a), d) };
      if (transposeA && !transposeB) return { a: () => matMul(b, t(d)), b: () => matMul(a, d) };
      if (!transposeA && transposeB) return { a: () => matMul(d, b), b: () => matMul(t(d), a) };
      return { a: () => matMul(t(b), t(d)), b: () => matMul(t(d), t(a)) };
    },
  };
  registerGradient(config);
}
