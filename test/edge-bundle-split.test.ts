/**
 * The worker bundle's split (esbuild.config.ts `splitting`, src/worker/live-compute.ts): the modules
 * workerd evaluates at start-up (index.mjs and what it imports statically) hold no tfjs, no PNG
 * codec and no analysis code; tfjs-core and the wasm backend are only in chunks reached through a
 * dynamic import. A static import of any of them from a route would put them back into every
 * cold start (and fail here).
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { workerBuild } from '../esbuild.config.js';
import { startupModules } from '../scripts/edge/bundle-parts.js';

describe('edge bundle split', () => {
  it('starts without tfjs; tfjs loads with the live-compute chunk', async () => {
    const { metafile } = await build({ ...workerBuild, write: false, logLevel: 'silent' });
    const parts = startupModules(metafile!);
    const startInputs = parts.startup.flatMap((o) => Object.keys(metafile!.outputs[o].inputs));
    const heavy = /@tensorflow\/|fast-png|ml-matrix|umap-js|src\/core\/tf\.ts|src\/worker\/live-models\.ts/;
    expect(startInputs.filter((p) => heavy.test(p))).toEqual([]);
    // Still in the upload, behind the dynamic import: tfjs-core and its wasm backend.
    const lazyInputs = parts.lazy.flatMap((o) => Object.keys(metafile!.outputs[o].inputs));
    expect(lazyInputs.some((p) => p.includes('@tensorflow/tfjs-core/'))).toBe(true);
    expect(lazyInputs.some((p) => p.includes('@tensorflow/tfjs-backend-wasm/'))).toBe(true);
    expect(parts.startupBytes).toBeLessThan(parts.lazyBytes);
  });
});
