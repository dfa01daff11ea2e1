/**
 * Builds the Node entry points into self-contained ES modules under dist/.
 * Bundling is required: tfjs-core's gradient registrations are only importable as ESM with
 * extensionless paths, which plain Node cannot resolve.
 */
import { build, type BuildOptions } from 'esbuild';

/** CommonJS shims for the emscripten glue of tfjs-backend-wasm inside an ES module bundle. */
const nodeShims = [
  "import { createRequire as __faultlinesCreateRequire } from 'node:module';",
  "import { fileURLToPath as __faultlinesFileURLToPath } from 'node:url';",
  "import { dirname as __faultlinesDirname } from 'node:path';",
  'const require = __faultlinesCreateRequire(import.meta.url);',
  'const __filename = __faultlinesFileURLToPath(import.meta.url);',
  'const __dirname = __faultlinesDirname(__filename);',
].join('\n');

export const nodeBuild: BuildOptions = {
  entryPoints: { cli: 'src/node/cli.ts' },
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
