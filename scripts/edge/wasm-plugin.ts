/**
 * esbuild plugin that makes @tensorflow/tfjs-backend-wasm run inside workerd.
 *
 * workerd refuses to compile WebAssembly from bytes at run time ("Wasm code generation disallowed
 * by embedder"), and tfjs-backend-wasm 4.22 has no hook for a precompiled module. So:
 * - `wasm-out/tfjs-backend-wasm.js` (the emscripten factory) is swapped for a shim that calls the
 *   real factory with an `instantiateWasm(imports, receive)` hook instantiating a
 *   `WebAssembly.Module` imported from the `.wasm` file (wrangler's `CompiledWasm` module rule);
 * - the threaded variant and its worker source are stubbed (workerd has no threads);
 * - the `.wasm` import stays external and is copied next to the bundle.
 * The fused synthesis epilogue's module (src/core/generator/synthesis-epilogue-wasm.ts) ships the
 * same way: src/worker/wasm/backend.ts imports `synthesis-epilogue.wasm`, written here from the
 * encoder on every build (test/worker/edge-fused-epilogue.test.ts checks the file against it), and
 * so does the direct 3x3 conv's (`conv3x3.wasm`, from src/core/nn/conv3x3's committed bytes).
 */
import type { Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { synthesisEpilogueWasm } from '../../src/core/generator/synthesis-epilogue-wasm.js';
import { conv3x3Wasm } from '../../src/core/nn/conv3x3/conv3x3-wasm.js';

/** File name of the SIMD binary, imported by the bundle and copied beside it. */
export const WASM_BINARY = 'tfjs-backend-wasm-simd.wasm';
/** File name of the fused synthesis epilogue's module, imported by src/worker/wasm/backend.ts. */
export const EPILOGUE_WASM = 'synthesis-epilogue.wasm';
/** File name of the direct 3x3 conv's module (src/core/nn/conv3x3), imported by src/worker/wasm/backend.ts. */
export const CONV3X3_WASM = 'conv3x3.wasm';

const SHIM = `
import realFactory from 'faultlines-real-wasm-factory';
import wasmModule from './${WASM_BINARY}';
export default function WasmBackendModule(config) {
  return realFactory({
    ...config,
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(wasmModule, imports).then(
        (instance) => receive(instance, wasmModule),
        (error) => (config.onAbort ? config.onAbort(error) : undefined),
      );
      return {};
    },
  });
}
`;

const THREADED_STUB = `
export default function WasmBackendModuleThreadedSimd() {
  throw new Error('the threaded tfjs wasm backend is not available in workerd');
}
`;

export function tfjsWasmWorkerdPlugin(outdir: string): Plugin {
  const require = createRequire(import.meta.url);
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  return {
    name: 'tfjs-wasm-workerd',
    setup(build) {
      build.onResolve({ filter: /wasm-out\/tfjs-backend-wasm-threaded-simd(\.worker)?\.js$/ }, (args) => ({
        path: args.path.endsWith('.worker.js') ? 'threaded-worker' : 'threaded',
        namespace: 'tfjs-wasm-stub',
      }));
      build.onResolve({ filter: /wasm-out\/tfjs-backend-wasm\.js$/ }, () => ({
        path: 'shim',
        namespace: 'tfjs-wasm-shim',
      }));
      build.onResolve({ filter: /^faultlines-real-wasm-factory$/ }, () => ({
        path: path.join(wasmOut, 'tfjs-backend-wasm.js'),
      }));
      build.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: args.path, external: true }));
      build.onLoad({ filter: /.*/, namespace: 'tfjs-wasm-shim' }, () => ({
        contents: SHIM,
        loader: 'js',
        resolveDir: wasmOut,
      }));
      build.onLoad({ filter: /.*/, namespace: 'tfjs-wasm-stub' }, (args) => ({
        contents: args.path === 'threaded-worker' ? "export const wasmWorkerContents = '';" : THREADED_STUB,
        loader: 'js',
      }));
      build.onEnd(() => {
        mkdirSync(outdir, { recursive: true });
        copyFileSync(path.join(wasmOut, WASM_BINARY), path.join(outdir, WASM_BINARY));
        writeFileSync(path.join(outdir, EPILOGUE_WASM), synthesisEpilogueWasm());
        writeFileSync(path.join(outdir, CONV3X3_WASM), conv3x3Wasm());
      });
    },
  };
}
