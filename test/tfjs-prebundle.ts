/**
 * The tfjs packages the tests import, bundled by esbuild into plain ES modules that Node loads
 * itself (`vitest.config.ts` aliases each package to its file here). Why: inlined in the test
 * runner, tfjs is several hundred ESM files that Vite transforms and evaluates one by one in every
 * test process (about half of the unit tier's transform and import time); pre-built, each process
 * reads a few files natively. One build with code splitting: every package's entry shares one
 * tfjs-core (and one `register_all_gradients`, evaluated once, before `src/core/tf.ts` installs
 * the portable gradients over it), and importing one package runs only that package's side effects
 * (a backend registers itself only when imported). Built with the Node CLI's esbuild options, so
 * the tests run tfjs as `dist/cli.mjs` does.
 *
 * The bundle lives in node_modules/.cache/, keyed by a hash of everything it is built from (esbuild
 * version, options, the lockfile that pins tfjs and its dependencies): a run reuses a bundle
 * another run built. Built in a private folder and renamed into place, so processes running at
 * once never read a half-written bundle.
 */
import { type BuildOptions, build, version as esbuildVersion } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { nodeBuild, nodeCommonJsShims } from '../esbuild.config.js';

/** Import specifier -> bundle entry name: the packages (and the one deep import) under src/ and test/. */
const TFJS_ENTRIES: Record<string, string> = {
  '@tensorflow/tfjs-core': 'tfjs-core',
  '@tensorflow/tfjs-core/dist/register_all_gradients': 'tfjs-core-register-all-gradients',
  '@tensorflow/tfjs-backend-cpu': 'tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm': 'tfjs-backend-wasm',
  '@tensorflow/tfjs-layers': 'tfjs-layers',
  '@tensorflow/tfjs-converter': 'tfjs-converter',
};

export interface TfjsAlias {
  find: RegExp;
  replacement: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Builds the bundle unless an identical one exists; returns a Vite alias per import specifier. */
export async function prebundleTfjs(root: string): Promise<TfjsAlias[]> {
  const options: BuildOptions = {
    ...nodeBuild,
    entryPoints: Object.fromEntries(Object.entries(TFJS_ENTRIES).map(([specifier, name]) => [name, specifier])),
    splitting: true,
    // No shebang (not an executable) and no source maps (Node would not read them).
    banner: { js: nodeCommonJsShims },
    sourcemap: false,
  };
  const key = createHash('sha256')
    .update(esbuildVersion)
    .update(JSON.stringify(options))
    .update(readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex')
    .slice(0, 16);
  const cache = path.join(root, 'node_modules/.cache/faultlines-tfjs');
  const dir = path.join(cache, key);
  if (!existsSync(dir)) {
    mkdirSync(cache, { recursive: true });
    const tmp = mkdtempSync(path.join(cache, `${key}-building-`));
    try {
      await build({ ...options, absWorkingDir: root, outdir: tmp });
      renameSync(tmp, dir);
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      // Another process renamed its identical bundle into place first.
      if (!existsSync(dir)) throw error;
    }
  }
  return Object.entries(TFJS_ENTRIES).map(([specifier, name]) => ({
    find: new RegExp(`^${escapeRegExp(specifier)}$`),
    replacement: path.join(dir, `${name}.mjs`),
  }));
}
