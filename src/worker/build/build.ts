/**
 * `npm run build:edge`: bundles the worker (esbuild.config.ts `workerBuild`) into dist/worker/ and
 * writes its static assets (models, catalog, precomputed results) into dist/edge-assets/.
 * Prints the bundle size (raw and gzip; the weights are assets, not part of it).
 */
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { WORKER_OUTDIR, workerBuild } from '../../../esbuild.config.js';
import { writeEdgeAssets } from './assets.js';
import { WASM_BINARY } from './wasm-plugin.js';

export interface BundleSize {
  scriptBytes: number;
  scriptGzipBytes: number;
  wasmBytes: number;
  wasmGzipBytes: number;
}

export async function buildEdge(opts: { quiet?: boolean } = {}): Promise<BundleSize> {
  rmSync(WORKER_OUTDIR, { recursive: true, force: true });
  await build(workerBuild);
  const script = readFileSync(path.join(WORKER_OUTDIR, 'index.mjs'));
  const wasm = readFileSync(path.join(WORKER_OUTDIR, WASM_BINARY));
  const size = { scriptBytes: script.length, scriptGzipBytes: gzipSync(script).length, wasmBytes: wasm.length, wasmGzipBytes: gzipSync(wasm).length };
  const catalog = writeEdgeAssets();
  if (!opts.quiet) {
    const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(`worker: ${WORKER_OUTDIR}/index.mjs ${kib(size.scriptBytes)} (${kib(size.scriptGzipBytes)} gzip) + ${WASM_BINARY} ${kib(size.wasmBytes)} (${kib(size.wasmGzipBytes)} gzip)`);
    console.log(`assets: generator ${catalog.generator ? `${catalog.generator.name} (${catalog.generator.source})` : 'none: random-init placeholder'}; classifiers ${catalog.classifiers.map((m) => m.name).join(', ') || 'none'}`);
  }
  return size;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildEdge();
}
