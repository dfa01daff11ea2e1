/**
 * Bundles the runner (src/gpu-runner/main.ts) into dist/gpu-runner/runner.mjs: one ES module that
 * runs in Node (cpu, wasm) and in Deno (webgpu, wasm), tfjs included, the wasm binaries located at
 * run time in node_modules; and its compute thread (src/gpu-runner/compute-worker.ts) beside it, in
 * dist/gpu-runner/compute-worker.mjs, where runner.mjs looks for it. Same options as the Node CLI
 * bundle (esbuild.config.ts).
 */
import { build } from 'esbuild';
import { nodeBuild } from '../../esbuild.config.js';

export const RUNNER_BUNDLE = 'dist/gpu-runner/runner.mjs';

export async function buildRunner(): Promise<string> {
  await build({
    ...nodeBuild,
    entryPoints: {
      'gpu-runner/runner': 'src/gpu-runner/main.ts',
      'gpu-runner/compute-worker': 'src/gpu-runner/compute-worker.ts',
    },
    outdir: 'dist',
    sourcemap: false,
  });
  return RUNNER_BUNDLE;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildRunner();
}
