/**
 * A direct 3x3 convolution for the wasm backend's Conv2D (conv3x3.c, compiled to WebAssembly SIMD128
 * by scripts/build-conv3x3-wasm.sh into conv3x3-wasm-bytes.ts). Every 3x3 conv of the built-in
 * models (the generator's synthesis convs, their input-gradient convs, the classifiers' and the
 * discriminator's convs) is a stride-1 'same' NHWC float32 conv; tfjs-backend-wasm runs them through
 * XNNPACK, which is 1.3-1.6x slower here than this register-blocked loop (4 pixels x 8 channels).
 *
 * Bit-identical to XNNPACK: each output is the same chain of float32 products and sums in the same
 * order (taps row by row, input channels in order, from +0, padding read as zeros), and SIMD128 has
 * no fused multiply-add to change a rounding (test/conv3x3-kernel.test.ts compares every shape the
 * models run, with the kernel on and off).
 *
 * `registerWasmConv3x3` wraps the registered wasm `Conv2D` kernel: calls this kernel handles go to
 * it, every other call to XNNPACK's kernel as before. It shares the backend's heap (the module
 * imports `env.memory`), so it reads and writes the tensors in place. `setConv3x3Kernel(false)`
 * sends every call back to XNNPACK (A/B tests and benchmarks; the edge's `CONV3X3` "0").
 *
 * The same module also pools 2x2 for the wasm `Mean` kernel (`mean2x2`, the classifiers' and the
 * discriminator's `avgPool2`), with the stock kernel's bits and without its transpose; the same
 * switch covers it.
 */
import * as tf from '../../tf.js';
import { conv3x3Wasm } from './conv3x3-wasm.js';

let enabled = true;

/** How the kernel computes a 3x3 conv: 'direct' (XNNPACK's bits, default) or 'winograd' (opt-in). */
export type Conv3x3Algorithm = 'direct' | 'winograd';
export const CONV3X3_ALGORITHMS: readonly Conv3x3Algorithm[] = ['direct', 'winograd'];

let algorithm: Conv3x3Algorithm = 'direct';

/**
 * The algorithm of the kernel's 3x3 convs. 'direct' (default): the direct loop, XNNPACK's bits.
 * 'winograd': Winograd F(2x2,3x3) (conv3x3.c `wino2`) for the convs whose channel counts are multiples
 * of 4 (every conv of the sweep; the others stay direct), 1.4-2x faster per conv than the direct loop with
 * about half XNNPACK's error against the exact conv, but different last bits: opt-in only (the
 * cached results, the edge's answers and the bit-identity tests assume 'direct'). Process-wide; the
 * sweep pool's workers take the main thread's (src/node/parallel-sweep.ts). Switching back to
 * 'direct' frees the cached transformed filters, unless `keepFilters` (A/B benchmarks that switch
 * every call, bench/sweep-profile.ts).
 */
export function setConv3x3Algorithm(a: Conv3x3Algorithm, opts: { keepFilters?: boolean } = {}): void {
  if (!CONV3X3_ALGORITHMS.includes(a)) throw new Error(`conv3x3: unknown algorithm ${JSON.stringify(a)}`);
  algorithm = a;
  if (a === 'direct' && !opts.keepFilters) clearWinogradFilters();
}

/** The algorithm set by `setConv3x3Algorithm` ('direct' unless switched). */
export function conv3x3Algorithm(): Conv3x3Algorithm {
  return algorithm;
}

/**
 * Whether the wasm backend's 3x3 convs run this kernel (default) or XNNPACK's (the results are the
 * same bits; for A/B tests and benchmarks). Process-wide; no effect where the kernel is not registered.
 */
export function setConv3x3Kernel(on: boolean): void {
  enabled = on;
}

/** Whether the kernel is registered on the wasm backend and switched on. */
export function conv3x3KernelActive(): boolean {
  return enabled && registered && tf.getBackend() === 'wasm';
}

/** Output pixels (N x H x W) from which the kernel packs the filter first (bench/conv3x3-ab.ts, batch 1 vs 16). */
const PACK_PIXELS = 256;

let calls = 0;
let winogradCalls = 0;

/** How many convs the kernel has computed in this process (tests check it ran; benches report it). */
export function conv3x3Calls(): number {
  return calls;
}

/** How many of them ran Winograd F(2x2,3x3). */
export function conv3x3WinogradCalls(): number {
  return winogradCalls;
}

/** Whether Winograd takes a conv the kernel handles: channel counts multiples of 4 (f32x4 lanes). */
function winogradHandles(cin: number, cout: number): boolean {
  return cin > 0 && cout > 0 && cin % 4 === 0 && cout % 4 === 0;
}

/** What the wasm backend offers a kernel (BackendWasm's public parts), without importing it. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined; has(dataId: object): boolean };
  wasm: { asm?: { memory?: unknown } };
}

interface Conv3x3 {
  conv3x3(x: number, w: number, y: number, zero: number, packed: number, ...dims: number[]): void;
  wino2_filter(w: number, u: number, cin: number, cout: number): void;
  wino2(x: number, u: number, y: number, scratch: number, ...dims: number[]): void;
  mean2x2(x: number, y: number, ...dims: number[]): void;
}

/** Tiles per block in conv3x3.c's `wino2` (TB): its scratch is 16 x TB x (Cin + Cout8) floats. */
const WINO_TILES = 4;

/**
 * Transformed filters (G g G^T, conv3x3.c `wino2_filter`) kept on the backend's heap, keyed on the
 * filter's dataId: a tensor's values never change under one dataId (`Variable.assign` gives the
 * variable a new one, as nn/weight-terms.ts relies on), so an entry is valid while its dataId lives.
 * An entry whose filter the backend no longer holds is freed at the next Winograd call (and all of
 * them by `setConv3x3Algorithm('direct')`); at most WINO_FILTERS entries, least recently used first
 * out, so filters computed per call (a cache switched off) cannot pile up.
 */
interface WinoFilter {
  backend: WasmHeapBackend;
  u: tf.TensorInfo;
}
const winoFilters = new Map<object, WinoFilter>();
const WINO_FILTERS = 64;

/** Frees the transformed filters (the backend's heap) and empties the cache. */
function clearWinogradFilters(): void {
  for (const e of winoFilters.values()) e.backend.disposeData(e.u.dataId);
  winoFilters.clear();
}

/** Number of cached transformed filters (tests). */
export function winogradFilterCount(): number {
  return winoFilters.size;
}

/**
 * Whether the kernel computes this conv: a 3x3 filter, stride 1, dilation 1, one pixel of zero
 * padding on every side ('same', or an explicit 1), NHWC, float32, and an output the input's size.
 * Any channel counts (8 output channels at a time, then 4, then one by one).
 */
export function conv3x3Handles(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): boolean {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return false;
  if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[0] !== 3 || filter.shape[1] !== 3) return false;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return false;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const p = info.padInfo;
  return (
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    p.top === 1 &&
    p.bottom === 1 &&
    p.left === 1 &&
    p.right === 1 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth &&
    info.inChannels === filter.shape[2]
  );
}

/** The wrappers this module registered (idempotence: a wrapper is never wrapped again). */
const wrapped = new WeakSet<tf.KernelFunc>();
let registered = false;
const instances = new WeakMap<object, Conv3x3>();

/**
 * Registers the kernel for the wasm backend `backend` (call after `setBackend('wasm')` is ready), by
 * wrapping the registered `Conv2D` kernel. `compiled`: the module already compiled from
 * `conv3x3Wasm()`'s bytes, for an embedder that forbids compiling wasm at run time (workerd imports
 * `conv3x3.wasm`); without it the bytes are compiled here. Returns false and changes nothing when
 * the backend's heap is not reachable, the engine lacks WebAssembly SIMD or the module cannot be
 * compiled or instantiated: XNNPACK runs every conv then. Idempotent.
 */
export function registerWasmConv3x3(backend: unknown, compiled?: WebAssembly.Module): boolean {
  const stock = tf.getKernel('Conv2D', 'wasm');
  if (stock === undefined) return false;
  if (wrapped.has(stock.kernelFunc)) return true;
  const memory = (backend as WasmHeapBackend).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return false;
  let module: WebAssembly.Module;
  try {
    if (compiled === undefined && !WebAssembly.validate(conv3x3Wasm())) return false;
    module = compiled ?? new WebAssembly.Module(conv3x3Wasm());
    instanceOn(memory, module);
  } catch {
    // An embedder that forbids compiling wasm at run time (workerd without `compiled`, a strict CSP).
    return false;
  }
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    if (!enabled || !conv3x3Handles(x, filter, args.attrs as unknown as tf.Conv2DAttrs)) return stock.kernelFunc(args);
    const be = args.backend as unknown as WasmHeapBackend;
    const mem = be.wasm.asm?.memory;
    if (!(mem instanceof WebAssembly.Memory)) return stock.kernelFunc(args);
    const run = instanceOn(mem, module);
    const [n, h, w, cin] = x.shape;
    const cout = filter.shape[3];
    const ptr = (t: tf.TensorInfo) => {
      const entry = be.dataIdMap.get(t.dataId);
      if (entry === undefined) throw new Error('conv3x3: a tensor is not on the wasm backend');
      return entry.memoryOffset;
    };
    if (algorithm === 'winograd' && winogradHandles(cin, cout)) {
      const u = winogradFilter(be, run, filter, ptr);
      const out = be.makeOutput([n, h, w, cout], 'float32');
      // Scratch from the backend's heap: a block's transformed inputs and GEMM outputs.
      const scratch = be.makeOutput([16 * WINO_TILES * (cin + cout8(cout))], 'float32');
      run.wino2(ptr(x), ptr(u), ptr(out), ptr(scratch), n, h, w, cin, cout);
      be.disposeData(scratch.dataId);
      calls++;
      winogradCalls++;
      return out;
    }
    const out = be.makeOutput([n, h, w, cout], 'float32');
    // Scratch from the backend's heap: the padding's zeros (what XNNPACK's indirection buffer
    // points at) and, for outputs of PACK_PIXELS pixels or more, the filter's 8-channel blocks
    // packed contiguously (the kernel writes them; below that, packing costs more than it saves).
    const zero = be.makeOutput([cin], 'float32');
    const pack = n * h * w >= PACK_PIXELS && cout >= 8;
    const packed = pack ? be.makeOutput([9 * cin * (cout - (cout % 8))], 'float32') : null;
    new Float32Array(mem.buffer, ptr(zero), cin).fill(0);
    run.conv3x3(ptr(x), ptr(filter), ptr(out), ptr(zero), packed === null ? 0 : ptr(packed), n, h, w, cin, cout);
    be.disposeData(zero.dataId);
    if (packed !== null) be.disposeData(packed.dataId);
    calls++;
    return out;
  };
  wrapped.add(kernelFunc);
  registered = true;
  tf.unregisterKernel('Conv2D', 'wasm');
  tf.registerKernel({ ...stock, kernelFunc });
  registerMean2x2(module);
  return true;
}

let mean2x2Calls = 0;

/** How many 2x2 poolings the module's `mean2x2` has computed in this process (tests). */
export function conv3x3Mean2x2Calls(): number {
  return mean2x2Calls;
}

/**
 * Whether the module's `mean2x2` computes this Mean: float32 x [N, H/2, 2, W/2, 2, C] reduced over
 * axes 2 and 4 without keepDims (`avgPool2`, nn/ops.ts), which the stock kernel transposes first.
 */
export function mean2x2Handles(x: tf.TensorInfo, attrs: { axis: number | number[]; keepDims: boolean }): boolean {
  if (x.dtype !== 'float32' || x.shape.length !== 6 || x.shape[2] !== 2 || x.shape[4] !== 2 || attrs.keepDims)
    return false;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
  return axes.length === 2 && axes.includes(2) && axes.includes(4);
}

/**
 * Wraps the wasm `Mean` kernel: the 2x2 poolings go to the module's `mean2x2` (the stock kernel's
 * bits without its 6-D transpose: 3.7 ms of a batch-64 sweep call's 3 Means of 6.5 ms at [64, 32, 32,
 * 16]), every other Mean to the stock kernel. Switched with the conv (`setConv3x3Kernel`).
 */
function registerMean2x2(module: WebAssembly.Module): void {
  const stock = tf.getKernel('Mean', 'wasm');
  if (stock === undefined || wrapped.has(stock.kernelFunc)) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const attrs = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const be = args.backend as unknown as WasmHeapBackend;
    const mem = be.wasm.asm?.memory;
    if (!enabled || !mean2x2Handles(x, attrs) || !(mem instanceof WebAssembly.Memory)) return stock.kernelFunc(args);
    const [n, h2, , w2, , c] = x.shape;
    const out = be.makeOutput([n, h2, w2, c], 'float32');
    const at = (t: tf.TensorInfo) => be.dataIdMap.get(t.dataId)?.memoryOffset;
    const [xp, yp] = [at(x), at(out)];
    if (xp === undefined || yp === undefined) throw new Error('mean2x2: a tensor is not on the wasm backend');
    if (n * h2 * w2 * c > 0) instanceOn(mem, module).mean2x2(xp, yp, n, 2 * h2, 2 * w2, c);
    mean2x2Calls++;
    return out;
  };
  wrapped.add(kernelFunc);
  tf.unregisterKernel('Mean', 'wasm');
  tf.registerKernel({ ...stock, kernelFunc });
}

/** The kernel instantiated on `memory` (one instance per heap). */
function instanceOn(memory: WebAssembly.Memory, module: WebAssembly.Module): Conv3x3 {
  let run = instances.get(memory);
  if (run === undefined) {
    run = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Conv3x3;
    instances.set(memory, run);
  }
  return run;
}

/** Cout rounded up to 8: the transformed filter's and the GEMM outputs' columns. */
const cout8 = (cout: number) => (cout + 7) & ~7;

/**
 * The transformed filter of `filter` (cached, see `winoFilters`), computed on first use. Frees the
 * entries whose filters are gone first.
 */
function winogradFilter(
  be: WasmHeapBackend,
  run: Conv3x3,
  filter: tf.TensorInfo,
  ptr: (t: tf.TensorInfo) => number,
): tf.TensorInfo {
  const hit = winoFilters.get(filter.dataId);
  if (hit !== undefined && hit.backend === be) {
    // Most recently used last (the Map's order is the eviction order).
    winoFilters.delete(filter.dataId);
    winoFilters.set(filter.dataId, hit);
    return hit.u;
  }
  // Entries whose filter the backend holding them has freed (or this one, on another backend).
  for (const [id, e] of winoFilters)
    if (id === filter.dataId || !e.backend.dataIdMap.has(id)) {
      e.backend.disposeData(e.u.dataId);
      winoFilters.delete(id);
    }
  while (winoFilters.size >= WINO_FILTERS) {
    const [id, e] = winoFilters.entries().next().value!;
    e.backend.disposeData(e.u.dataId);
    winoFilters.delete(id);
  }
  const [, , cin, cout] = filter.shape;
  const u = be.makeOutput([16 * cin * cout8(cout)], 'float32');
  run.wino2_filter(ptr(filter), ptr(u), cin, cout);
  winoFilters.set(filter.dataId, { backend: be, u });
  return u;
}
