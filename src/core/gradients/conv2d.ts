import {
  Conv2D,
  conv2d,
  getGradient,
  registerGradient,
  reverse,
  transpose,
  type Conv2DAttrs,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';

/**
 * Input-gradient filters computed once per model (weight-terms cache): the filter's dataId ->
 * `flipFilter(filter)`. The gradient's saved filter is a clone that shares the dataId, so a conv
 * whose filter is a cached tensor finds its flipped filter here instead of flipping it per call.
 */
const flippedFilters = new WeakMap<object, Tensor4D>();

/** The input gradient's filter: W flipped spatially with in/out channels swapped. */
export function flipFilter(w: Tensor4D): Tensor4D {
  return transpose(reverse(w, [0, 1]), [0, 1, 3, 2]);
}

/**
 * Records `flipped` (= flipFilter(filter), kept by the caller) for the conv gradient; returns the
 * function that forgets it (call it before disposing either tensor).
 */
export function registerFlippedFilter(filter: Tensor4D, flipped: Tensor4D): () => void {
  const key = filter.dataId;
  flippedFilters.set(key, flipped);
  return () => {
    if (flippedFilters.get(key) === flipped) flippedFilters.delete(key);
  };
}

/** True when a 2-vector attribute (strides, dilations) is 1 in both directions. */
function isUnit(v: number | [number, number] | undefined): boolean {
  if (v === undefined) return true;
  return typeof v === 'number' ? v === 1 : v[0] === 1 && v[1] === 1;
}

/**
 * Padding p (same on every side) when the conv is a stride-1 'same' conv with an odd square kernel,
 * else null. Only that case is reformulated; it is the only conv our models use.
 */
function samePadding(attrs: Conv2DAttrs, kh: number, kw: number): number | null {
  if (!isUnit(attrs.strides) || !isUnit(attrs.dilations)) return null;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  if (kh !== kw || kh % 2 !== 1) return null;
  const p = (kh - 1) / 2;
  if (attrs.pad === 'same') return p;
  if (typeof attrs.pad === 'number' && attrs.pad === p) return p;
  return null;
}

/**
 * Conv2D gradient with forward convolutions only:
 * - input gradient: dx = conv2d(dy, W flipped spatially with in/out channels swapped), 'same';
 * - filter gradient: dW = conv2d(x with batch and channels swapped, dy as an HxW kernel whose input
 *   channels are the batch), padded so the output is kh x kw; the batch is summed by the conv.
 */
export function registerConv2DGradient(): void {
  const stock = getGradient(Conv2D);
  const config: GradConfig = {
    kernelName: Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x4, w4] = saved as [Tensor4D, Tensor4D];
      const convAttrs = attrs as unknown as Conv2DAttrs;
      const p = samePadding(convAttrs, w4.shape[0], w4.shape[1]);
      if (p === null) {
        if (stock === undefined) throw new Error('Conv2D: no stock gradient to fall back to');
        return stock.gradFunc(dy, saved, attrs);
      }
      const dy4 = dy as Tensor4D;
      return {
        x: () => {
          const cached = flippedFilters.get(w4.dataId);
          const flipped = cached !== undefined && !cached.isDisposed ? cached : flipFilter(w4);
          return conv2d(dy4, flipped, 1, 'same');
        },
        filter: () => transpose(conv2d(transpose(x4, [3, 1, 2, 0]), transpose(dy4, [1, 2, 0, 3]), 1, p), [1, 2, 0, 3]),
      };
    },
  };
  registerGradient(config);
}
