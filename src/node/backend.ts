/**
 * Backend selection for Node processes (CLI, training, benchmarks). The core never picks a backend;
 * the process that runs it does.
 */
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '../core/tf.js';
import { registerWasmSynthesisEpilogue } from '../core/generator/synthesis-epilogue.js';
import { registerWasmConv3x3 } from '../core/nn/conv3x3/conv3x3-kernel.js';

export const NODE_BACKENDS = ['cpu', 'wasm'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export function isNodeBackend(name: string): name is NodeBackend {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

// Point the wasm backend at its binaries in node_modules before anything can initialise it (the
// first tensor created initialises the highest-priority registered backend).
const require = createRequire(import.meta.url);
setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);

/**
 * wasm's Identity kernel copies its input, and tfjs runs it for every tensor an op keeps for its
 * gradient (the engine's clone): a few hundred copies of activations per batch of the gradient
 * sweep. The cpu backend's Identity shares the input's buffer instead, reference-counted like
 * Reshape on both backends (tensors are immutable); this gives wasm the same, and the same for a
 * Cast to the tensor's own dtype (the Multiply gradient casts its float32 operands). Same values,
 * no copies. Returns a function that restores tfjs's own kernels.
 */
function shareBuffersOnWasm(): () => void {
  type Backend = { incRef(dataId: unknown): void };
  const original = [tf.getKernel('Identity', 'wasm'), tf.getKernel('Cast', 'wasm')];
  const [identity, cast] = original;
  if (identity === undefined || cast === undefined) return () => {};
  const share = (x: tf.TensorInfo, backend: unknown): tf.TensorInfo => {
    (backend as Backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const replace = (config: tf.KernelConfig) => {
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  };
  replace({
    ...identity,
    kernelFunc: (args) => {
      const x = args.inputs.x!;
      return x.dtype === 'string' ? identity.kernelFunc(args) : share(x, args.backend);
    },
  });
  replace({
    ...cast,
    kernelFunc: (args) => {
      const x = args.inputs.x!;
      return x.dtype !== 'string' && x.dtype === (args.attrs as { dtype?: unknown }).dtype
        ? share(x, args.backend)
        : cast.kernelFunc(args);
    },
  });
  return () => original.forEach((k) => replace(k!));
}
shareBuffersOnWasm();

/**
 * Switches tfjs to `name` and waits until it is ready. wasm (SIMD) is 5-30x faster than cpu here;
 * in Node it runs single-threaded (its threaded build starts workers from blob: URLs).
 */
export async function useBackend(name: NodeBackend): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  // The synthesis layers' fused epilogue (one pass instead of five each way; bit-identical).
  if (name === 'wasm') registerWasmSynthesisEpilogue(tf.backend());
  // The direct 3x3 conv for Conv2D's 3x3 stride-1 'same' calls (bit-identical to XNNPACK's; faster).
  if (name === 'wasm') registerWasmConv3x3(tf.backend());
}
