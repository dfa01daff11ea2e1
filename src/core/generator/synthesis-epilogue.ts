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
import { ALPHA, synthesisEpilogueWasm } from './synthesis-epilogue-wasm.js';

export const SYNTHESIS_EPILOGUE = 'FaultlinesSynthesisEpilogue';
/** Backward of the epilogue: (dy, out, y, d) -> [g * d, g * y], g = dy * sqrt(2) * step(out, 0.2). */
export const SYNTHESIS_EPILOGUE_GRAD = 'FaultlinesSynthesisEpilogueGrad';

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

type EpilogueExports = { forward: (...args: number[]) => void; backward: (...args: number[]) => void };
const instances = new WeakMap<object, EpilogueExports>();

/** The loops instantiated on `memory` (one instance per heap), from `compiled` or compiled here. */
function epilogueOn(memory: WebAssembly.Memory, compiled?: WebAssembly.Module): EpilogueExports {
  let inst = instances.get(memory);
  if (inst === undefined) {
    const module = compiled ?? new WebAssembly.Module(synthesisEpilogueWasm());
    inst = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as EpilogueExports;
    instances.set(memory, inst);
  }
  return inst;
}

/**
 * Registers the fused forward and backward kernels for the wasm backend `backend` (call after
 * `setBackend('wasm')` is ready): two f32x4 loops in a small WebAssembly module that shares the
 * backend's heap, so they read and write the tensors in place. `compiled`: the module already
 * compiled from `synthesisEpilogueWasm()`'s bytes, for an embedder that forbids compiling wasm at
 * run time but compiles the script's own `.wasm` modules at load (workerd: the worker imports
 * `synthesis-epilogue.wasm`). Without it the bytes are compiled here. Returns false and registers
 * nothing when the backend's heap is not reachable, the engine lacks WebAssembly SIMD, or the
 * module cannot be compiled or instantiated: the stock ops run then. Idempotent.
 */
export function registerWasmSynthesisEpilogue(backend: unknown, compiled?: WebAssembly.Module): boolean {
  if (tf.getKernel(SYNTHESIS_EPILOGUE, 'wasm') !== undefined) return true;
  const memory = (backend as WasmHeapBackend).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return false;
  if (compiled === undefined && !WebAssembly.validate(synthesisEpilogueWasm())) return false;
  let loops: EpilogueExports;
  try {
    loops = epilogueOn(memory, compiled);
  } catch {
    // An embedder that forbids compiling wasm at run time (workerd without `compiled`, a strict
    // CSP): stock ops.
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
