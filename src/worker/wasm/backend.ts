/**
 * The tfjs backend of the worker: tfjs-backend-wasm (SIMD, single thread), instantiated from the
 * precompiled module that the esbuild shim imports (see scripts/edge/wasm-plugin.ts).
 * Initialised once per isolate.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '../../core/tf.js';
import { registerWasmSynthesisEpilogue } from '../../core/generator/synthesis-epilogue.js';
// The fused epilogue's module, compiled by workerd when it loads the script (wrangler's CompiledWasm
// rule): workerd forbids compiling wasm at run time. The build writes the file from the core's
// encoder (scripts/edge/wasm-plugin.ts), so the two cannot drift.
import synthesisEpilogueModule from './synthesis-epilogue.wasm';
import { registerWasmConv3x3 } from '../../core/nn/conv3x3/conv3x3-kernel.js';
// The direct 3x3 conv's module, precompiled the same way (written from the core's committed bytes).
import conv3x3Module from './conv3x3.wasm';

let ready: Promise<number> | null = null;
let initialised = false;
let fusedEpilogue = false;
let conv3x3 = false;

/** Initialises the wasm backend once; resolves to the milliseconds it took (0 after the first call). */
export function ensureBackend(): Promise<number> {
  if (ready === null) {
    ready = (async () => {
      const t0 = Date.now();
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('tfjs wasm backend failed to initialise');
      await tf.ready();
      // The synthesis layers' fused epilogue, from the precompiled module (bit-identical to the stock
      // ops; test/worker/edge-fused-epilogue.test.ts).
      fusedEpilogue = registerWasmSynthesisEpilogue(tf.backend(), synthesisEpilogueModule);
      // The direct 3x3 conv for the models' convs, also precompiled (bit-identical to XNNPACK's;
      // test/worker/edge-fused-epilogue.test.ts). CONV3X3 "0" switches it off (live-models.ts).
      conv3x3 = registerWasmConv3x3(tf.backend(), conv3x3Module);
      initialised = true;
      return Date.now() - t0;
    })();
    ready.catch(() => (ready = null));
  }
  return ready;
}

export function backendName(): string {
  return initialised ? tf.getBackend() : 'none';
}

/** Whether the synthesis layers run the fused epilogue (false before the backend starts). */
export function fusedEpilogueActive(): boolean {
  return fusedEpilogue;
}

/** Whether Conv2D's 3x3 convs can run the direct kernel (false before the backend starts). */
export function conv3x3Registered(): boolean {
  return conv3x3;
}

/** Live tensors of the isolate (a leak check: stable across requests); null before the backend starts. */
export function liveTensors(): number | null {
  return initialised ? tf.memory().numTensors : null;
}
