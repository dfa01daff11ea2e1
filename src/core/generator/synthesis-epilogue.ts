/**
 * The synthesis layer's epilogue after its conv, fused: out = lrelu(y * d + noise + bias) * sqrt(2),
 * with y the conv output [N,H,W,C], d the demodulation [N,C], noise the scaled noise [N|1,H,W,1] and
 * bias [C]. Unfused, that is five full passes over the activations forward (Multiply, Add, Add,
 * LeakyRelu, Multiply, three of them broadcasting) and five backward (Multiply, Step, Multiply and
 * the two products of the demodulation's gradient); at batch 64 they are about a fifth of the
 * sweep's kernel time on wasm.
 *
 * Backends that register the kernels below (`registerWasmSynthesisEpilogue`, for the wasm backend)
 * run one pass each way; every other backend runs the stock ops. The fused kernels compute the same
 * float32 operations in the same order (each product and sum rounded to float32, as the stock
 * kernels do), so results are bit-identical to the stock ops (test/synthesis-epilogue.test.ts).
 *
 * The gradient is registered for the kernel name, so the engine asks only for the inputs on the
 * path to what is differentiated (the sweep needs y and d; generator training also bias and noise).
 * First-order only: the fused kernels have no gradients of their own. Only the synthesis network
 * uses this, never inside a second-order gradient.
 */
import * as tf from '../tf.js';
import { SQRT2, lreluFused } from './layers.js';
import { channelSums, scaleChannels } from '../nn/ops.js';

export const SYNTHESIS_EPILOGUE = 'FaultlinesSynthesisEpilogue';
/** Backward of the epilogue: (dy, out, y, d) -> [g * d, g * y], g = dy * sqrt(2) * step(out, 0.2). */
export const SYNTHESIS_EPILOGUE_GRAD = 'FaultlinesSynthesisEpilogueGrad';
const ALPHA = 0.2;

const hasKernel = (name: string) => tf.getKernel(name, tf.getBackend()) !== undefined;

/**
 * The unfused ops (the layer's code before the fusion), in the order the fused kernel reproduces;
 * their gradients are the ones the registered gradient below reproduces.
 */
function composite(y: tf.Tensor4D, d: tf.Tensor2D, noise: tf.Tensor4D | null, bias: tf.Tensor): tf.Tensor4D {
  let z: tf.Tensor = scaleChannels(y, d);
  if (noise !== null) z = tf.add(z, noise);
  return lreluFused(tf.add(z, bias)) as tf.Tensor4D;
}

/**
 * lrelu(y * d + noise + bias) * sqrt(2). `fused` false forces the stock ops (tests compare both).
 */
export function synthesisEpilogue(
  y: tf.Tensor4D,
  d: tf.Tensor2D,
  noise: tf.Tensor4D | null,
  bias: tf.Tensor,
  fused = true,
): tf.Tensor4D {
  // The kernels take channels 4 at a time (every layer of the built-in architectures has 16 to 64).
  const fusable = fused && noise !== null && y.shape[3] % 4 === 0 && hasKernel(SYNTHESIS_EPILOGUE);
  if (!fusable) return composite(y, d, noise, bias);
  return tf.engine().runKernel(SYNTHESIS_EPILOGUE, { y, d, noise, bias }, {}) as tf.Tensor4D;
}

/** Sums dy over the axes along which `shape` was broadcast to dy's shape (the stock Add gradient). */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return axes.length > 0 ? tf.reshape(tf.sum(dy, axes), shape) : dy;
}

let gradientRegistered = false;

/** The epilogue's gradient (idempotent; the core's tf.ts need not know the kernel). */
function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: SYNTHESIS_EPILOGUE,
    inputsToSave: ['y', 'd', 'noise', 'bias'],
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [y, d, noise, bias, out] = saved as [tf.Tensor4D, tf.Tensor2D, tf.Tensor4D, tf.Tensor, tf.Tensor4D];
      const [n, h, w, c] = y.shape;
      const dy4 = dy as tf.Tensor4D;
      // sign(out) = sign(y * d + noise + bias): lrelu and the gain keep it, so step(out) is the stock step.
      const g = () => tf.mul(tf.mul(dy4, SQRT2), tf.step(out, ALPHA));
      // g * d and g * y in one pass, here and not in the inputs' thunks: the engine runs each thunk
      // in its own scope, so a product made in the first would be gone in the second. Both are
      // always needed (y and d both depend on the styles, and on the weights in training).
      const [gd, gy] = hasKernel(SYNTHESIS_EPILOGUE_GRAD)
        ? (tf.engine().runKernel(SYNTHESIS_EPILOGUE_GRAD, { dy: dy4, out, y, d }, {}) as tf.Tensor[])
        : [tf.mul(g(), tf.reshape(d, [n, 1, 1, c])), tf.mul(g(), y)];
      return {
        y: () => gd,
        d: () => tf.reshape(channelSums(gy as tf.Tensor4D, h, w), [n, c]),
        noise: () => unbroadcast(g(), noise.shape),
        bias: () => unbroadcast(g(), bias.shape),
      };
    },
  });
}
registerGradient();

/** What the wasm backend offers a kernel (BackendWasm's public parts), without importing it. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  /** The Emscripten module; its `asm.memory` is the heap every tensor lives in. */
  wasm: { asm?: { memory?: unknown } };
}

// A minimal WebAssembly encoder for the two loops below (no assembler ships with the project).
/** n as unsigned LEB128, WebAssembly's integer encoding (also used by bench/sweep-profile.ts). */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (t: string): number[] => vec([...t].map((ch) => [ch.charCodeAt(0)]));
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32 = (v: number) => [0x41, ...uleb(v)]; // only small non-negative constants (< 64) are used
const f32 = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 4, 0]; // v128.load align=16 offset=0
const store = [...simd(0x0b), 4, 0];
const f32load = [0x2a, 2, 0];
const [ADD, MUL, SPLAT, EQ, LT, GT, BITSELECT] = [0xe4, 0xe6, 0x13, 0x41, 0x43, 0x44, 0x52].map(simd);
const i32add = [0x6a];
const i32ltu = [0x49];
/** do { body; i += step } while (i < end): every trip count here is at least 1. */
const loop = (i: number, step: number[], end: number[], body: number[]): number[] => [
  0x03,
  0x40,
  ...body,
  ...get(i),
  ...step,
  ...i32add,
  0x22,
  ...uleb(i), // local.tee
  ...end,
  ...i32ltu,
  0x0d,
  0, // br_if to the loop's start
  0x0b,
];

/**
 * The module: forward(y, d, noise, bias, out, n, hw4, c4, noiseStride4) and backward(dy, out, y, d,
 * gd, gy, n, hw4, c4), pointers and sizes in bytes, channels 4 at a time (f32x4). Each f32x4 op
 * rounds to float32 like the stock kernels' scalar ops.
 */
function epilogueModule(): Uint8Array<ArrayBuffer> {
  const alpha = f32(ALPHA);
  const sqrt2 = f32(SQRT2);
  // forward: params 0..8; locals 9 s, 10 p, 11 k, 12 yp, 13 op, 14 dRow, 15 nRow (i32); 16 nz, 17 v (v128)
  const [y, d, noise, bias, out, n, hw4, c4, nStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [s, p, k, yp, op, dRow, nRow, nz, v] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const at = (base: number, off: number) => [...get(base), ...get(off), ...i32add];
  const forward = [
    ...vec([
      [...uleb(7), I32],
      [...uleb(2), V128],
    ]),
    ...get(y),
    ...set(yp),
    ...get(out),
    ...set(op),
    ...get(d),
    ...set(dRow),
    ...get(noise),
    ...set(nRow),
    ...i32(0),
    ...set(s),
    ...loop(s, i32(1), get(n), [
      ...i32(0),
      ...set(p),
      ...loop(p, i32(4), get(hw4), [
        ...at(nRow, p),
        ...f32load,
        ...SPLAT,
        ...set(nz),
        ...i32(0),
        ...set(k),
        ...loop(k, i32(16), get(c4), [
          ...at(yp, k),
          ...load,
          ...at(dRow, k),
          ...load,
          ...MUL,
          ...get(nz),
          ...ADD,
          ...at(bias, k),
          ...load,
          ...ADD,
          ...set(v),
          ...at(op, k),
          ...get(v),
          ...alpha,
          ...SPLAT,
          ...MUL,
          ...get(v),
          ...get(v),
          ...f32(0),
          ...SPLAT,
          ...LT,
          ...BITSELECT,
          ...sqrt2,
          ...SPLAT,
          ...MUL,
          ...store,
        ]),
        ...get(yp),
        ...get(c4),
        ...i32add,
        ...set(yp),
        ...get(op),
        ...get(c4),
        ...i32add,
        ...set(op),
      ]),
      ...get(dRow),
      ...get(c4),
      ...i32add,
      ...set(dRow),
      ...get(nRow),
      ...get(nStride),
      ...i32add,
      ...set(nRow),
    ]),
    0x0b,
  ];
  // backward: params 0..8 (dy, out, y, d, gd, gy, n, hw4, c4); locals 9 s, 10 p, 11 k, 12 off, 13 dRow,
  // 14 a (i32); 15 o, 16 g (v128)
  const [bdy, bout, by, bd, bgd, bgy, bn, bhw4, bc4] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [bs, bp, bk, off, bdRow, a, o, g] = [9, 10, 11, 12, 13, 14, 15, 16];
  const backward = [
    ...vec([
      [...uleb(6), I32],
      [...uleb(2), V128],
    ]),
    ...get(bd),
    ...set(bdRow),
    ...i32(0),
    ...set(off),
    ...i32(0),
    ...set(bs),
    ...loop(bs, i32(1), get(bn), [
      ...i32(0),
      ...set(bp),
      ...loop(bp, i32(4), get(bhw4), [
        ...i32(0),
        ...set(bk),
        ...loop(bk, i32(16), get(bc4), [
          ...get(off),
          ...get(bk),
          ...i32add,
          ...set(a),
          ...at(bout, a),
          ...load,
          ...set(o),
          // step(out, alpha): 1 above zero, NaN for NaN, else alpha (tfjs's Step).
          ...at(bdy, a),
          ...load,
          ...sqrt2,
          ...SPLAT,
          ...MUL,
          ...f32(1),
          ...SPLAT,
          ...alpha,
          ...SPLAT,
          ...get(o),
          ...get(o),
          ...get(o),
          ...EQ,
          ...BITSELECT,
          ...get(o),
          ...f32(0),
          ...SPLAT,
          ...GT,
          ...BITSELECT,
          ...MUL,
          ...set(g),
          ...at(bgd, a),
          ...get(g),
          ...at(bdRow, bk),
          ...load,
          ...MUL,
          ...store,
          ...at(bgy, a),
          ...get(g),
          ...at(by, a),
          ...load,
          ...MUL,
          ...store,
        ]),
        ...get(off),
        ...get(bc4),
        ...i32add,
        ...set(off),
      ]),
      ...get(bdRow),
      ...get(bc4),
      ...i32add,
      ...set(bdRow),
    ]),
    0x0b,
  ];
  const params9 = [0x60, ...vec(Array.from({ length: 9 }, () => [I32])), 0];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([params9])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 1]])),
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...str('forward'), 0x00, 0],
        [...str('backward'), 0x00, 1],
      ]),
    ),
    ...section(
      10,
      vec([
        [...uleb(forward.length), ...forward],
        [...uleb(backward.length), ...backward],
      ]),
    ),
  ]);
}

type EpilogueExports = { forward: (...args: number[]) => void; backward: (...args: number[]) => void };
const instances = new WeakMap<object, EpilogueExports>();

/** The loops instantiated on `memory` (one instance per heap). */
function epilogueOn(memory: WebAssembly.Memory): EpilogueExports {
  let inst = instances.get(memory);
  if (inst === undefined) {
    const module = new WebAssembly.Module(epilogueModule());
    inst = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as EpilogueExports;
    instances.set(memory, inst);
  }
  return inst;
}

/**
 * Registers the fused forward and backward kernels for the wasm backend `backend` (call after
 * `setBackend('wasm')` is ready): two f32x4 loops in a small WebAssembly module that shares the
 * backend's heap, so they read and write the tensors in place. Returns false and registers nothing
 * when the backend's heap is not reachable, the engine lacks WebAssembly SIMD, or the embedder
 * forbids compiling wasm at run time (workerd does): the stock ops run then. Idempotent.
 */
export function registerWasmSynthesisEpilogue(backend: unknown): boolean {
  if (tf.getKernel(SYNTHESIS_EPILOGUE, 'wasm') !== undefined) return true;
  const memory = (backend as WasmHeapBackend).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !WebAssembly.validate(epilogueModule())) return false;
  let loops: EpilogueExports;
  try {
    loops = epilogueOn(memory);
  } catch {
    // An embedder that forbids compiling wasm at run time (workerd, a strict CSP): stock ops.
    return false;
  }
  const ptr = (be: WasmHeapBackend, t: tf.TensorInfo) => {
    const entry = be.dataIdMap.get(t.dataId);
    if (entry === undefined) throw new Error(`${SYNTHESIS_EPILOGUE}: a tensor is not on the wasm backend`);
    return entry.memoryOffset;
  };
  const check = (y: tf.TensorInfo) => {
    if (y.shape[3] % 4 !== 0) throw new Error(`${SYNTHESIS_EPILOGUE}: channels ${y.shape[3]}, not a multiple of 4`);
  };
  tf.registerKernel({
    kernelName: SYNTHESIS_EPILOGUE,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b }) => {
      const be = b as unknown as WasmHeapBackend;
      const { y, d, noise, bias } = inputs as Record<string, tf.TensorInfo>;
      check(y);
      const [n, h, w, c] = y.shape;
      const out = be.makeOutput(y.shape, 'float32');
      const nStride = noise.shape[0] === 1 ? 0 : 4 * h * w;
      const args = [y, d, noise, bias, out].map((t) => ptr(be, t));
      loops.forward(...args, n, 4 * h * w, 4 * c, nStride);
      return out;
    },
  });
  tf.registerKernel({
    kernelName: SYNTHESIS_EPILOGUE_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b }) => {
      const be = b as unknown as WasmHeapBackend;
      const { dy, out, y, d } = inputs as Record<string, tf.TensorInfo>;
      check(y);
      const [n, h, w, c] = y.shape;
      const gd = be.makeOutput(y.shape, 'float32');
      const gy = be.makeOutput(y.shape, 'float32');
      const args = [dy, out, y, d, gd, gy].map((t) => ptr(be, t));
      loops.backward(...args, n, 4 * h * w, 4 * c);
      return [gd, gy];
    },
  });
  return true;
}
