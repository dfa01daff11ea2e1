/**
 * Builds the Node entry points into self-contained ES modules under dist/.
 * Bundling is required: tfjs-core's gradient registrations are only importable as ESM with
 * extensionless paths, which plain Node cannot resolve.
 */
import { build, type BuildOptions } from 'esbuild';
import { tfjsWasmWorkerdPlugin } from './scripts/edge/wasm-plugin.js';
import { zodEnglishOnlyPlugin } from './scripts/edge/zod-locales-plugin.js';

/** CommonJS shims for the emscripten glue of tfjs-backend-wasm inside an ES module bundle. */
export const nodeCommonJsShims = [
  "import { createRequire as __faultlinesCreateRequire } from 'node:module';",
  "import { fileURLToPath as __faultlinesFileURLToPath } from 'node:url';",
  "import { dirname as __faultlinesDirname } from 'node:path';",
  'const require = __faultlinesCreateRequire(import.meta.url);',
  'const __filename = __faultlinesFileURLToPath(import.meta.url);',
  'const __dirname = __faultlinesDirname(__filename);',
].join('\n');
// dist/cli.mjs is the package's `faultlines` bin (npx faultlines).
const nodeShims = `#!/usr/bin/env node\n${nodeCommonJsShims}`;

export const nodeBuild: BuildOptions = {
  // The CLI, the parallel sweep's worker thread (dist/sweep-worker.mjs, found beside dist/cli.mjs)
  // and the benchmarks (each benchmark is a standalone script under dist/bench/).
  entryPoints: {
    cli: 'src/node/cli.ts',
    'sweep-worker': 'src/node/sweep-worker.ts',
    'bench/core': 'bench/core.ts',
    'bench/peer': 'bench/peer.ts',
    'fixtures/build-user-classifiers': 'test/fixtures/build-user-classifiers.ts',
    'fixtures/build-normalised-classifier': 'test/fixtures/build-normalised-classifier.ts',
    'fixtures/build-planted-classifiers': 'test/fixtures/build-planted-classifiers.ts',
    'fixtures/measure-planted': 'test/fixtures/measure-planted.ts',
    'fixtures/measure-population-factors': 'test/fixtures/measure-population-factors.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  mainFields: ['module', 'main'],
  sourcemap: 'linked',
  banner: { js: nodeShims },
  logLevel: 'warning',
  // Node built-ins only; the tfjs wasm binaries are located at run time from node_modules.
  external: [],
};

if (import.meta.url === `file://${process.argv[1]}`) {
  await build(nodeBuild);
}

/**
 * The edge worker (src/worker/): one ES module for workerd, browser-flavoured resolution (the
 * `browser` fields drop tfjs's Node-only imports), tfjs-backend-wasm made loadable by the shim
 * plugin, the `.wasm` binary copied beside the bundle (wrangler's CompiledWasm rule). Built by
 * `npm run build:edge` (scripts/edge/build.ts), which also writes the static assets.
 */
export const WORKER_OUTDIR = 'dist/worker';

export const workerBuild: BuildOptions = {
  entryPoints: { index: 'src/worker/index.ts' },
  outdir: WORKER_OUTDIR,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  // Dynamic imports become chunks beside index.mjs (wrangler's ESModule rule uploads every .mjs):
  // the live-compute chunk (src/worker/live-compute.ts: tfjs and its wasm backend) and the registered
  // classifiers' loader are parsed on first use, not at start-up.
  splitting: true,
  chunkNames: '[name]-[hash]',
  mainFields: ['module', 'main'],
  conditions: ['workerd', 'worker', 'browser'],
  // node:async_hooks: workerd's own (wrangler.toml's nodejs_als flag), for Server-Timing.
  external: ['cloudflare:*', 'node:async_hooks'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [tfjsWasmWorkerdPlugin(WORKER_OUTDIR), zodEnglishOnlyPlugin()],
};
