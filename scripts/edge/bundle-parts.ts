/**
 * The worker bundle's parts (esbuild metafile of `workerBuild`): the modules workerd evaluates at
 * start-up (the entry and every chunk it imports statically) and the ones only dynamic imports
 * reach (the live-compute chunk and its shared chunks: tfjs, loaded on the first live call).
 * `npm run build:edge` prints both; the split test checks what start-up holds.
 */
import type { Metafile } from 'esbuild';

/** The bundle's sizes: what workerd evaluates at start-up, what loads with the first live call, the wasm. */
export interface BundleSize {
  startupBytes: number;
  startupGzipBytes: number;
  /** Chunks reached only through dynamic imports (tfjs, its wasm backend, the registered classifiers' loader). */
  lazyBytes: number;
  lazyGzipBytes: number;
  wasmBytes: number;
  wasmGzipBytes: number;
  startupModules: string[];
  lazyModules: string[];
}

/** Where `buildEdge` writes the sizes (outside dist/worker, which wrangler uploads): `npm run bench:edge` reads it. */
export const BUNDLE_SIZE_FILE = 'dist/worker-bundle.json';

export interface BundleParts {
  /** Output paths evaluated at start-up, the entry first. */
  startup: string[];
  /** Output paths reached only through a dynamic import. */
  lazy: string[];
  startupBytes: number;
  lazyBytes: number;
}

export function startupModules(metafile: Metafile, entry = 'src/worker/index.ts'): BundleParts {
  const outputs = metafile.outputs;
  const main = Object.keys(outputs).find((o) => outputs[o].entryPoint === entry);
  if (main === undefined) throw new Error(`no output for ${entry}`);
  const startup = [main];
  for (let i = 0; i < startup.length; i++)
    for (const imp of outputs[startup[i]].imports)
      if (imp.kind === 'import-statement' && !imp.external && !startup.includes(imp.path)) startup.push(imp.path);
  const lazy = Object.keys(outputs).filter((o) => o.endsWith('.mjs') && !startup.includes(o));
  const bytes = (os: string[]) => os.reduce((a, o) => a + outputs[o].bytes, 0);
  return { startup, lazy, startupBytes: bytes(startup), lazyBytes: bytes(lazy) };
}
