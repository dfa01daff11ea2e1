/**
 * `npm run build:edge`: bundles the worker (esbuild.config.ts `workerBuild`) into dist/worker/ and
 * writes its static assets (models, catalog, precomputed results) into dist/edge-assets/.
 * Prints the bundle size (raw and gzip; the weights are assets, not part of it). With
 * --seed-if-stale, runs `npm run seed:edge [-- --domain NAME]` for each domain whose precomputed results are
 * not for the packaged models (a fresh machine, new weights). With --dev-vars (npm run dev:edge), writes the
 * local secrets file .dev.vars (random SUBMIT_TOKEN and RUNNER_TOKEN) when missing and says where.
 */
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { WORKER_OUTDIR, workerBuild } from '../../esbuild.config.js';
import { spawnSync } from 'node:child_process';
import { ASSETS_DIR, classifiersWithoutResults, seedCommand, writeEdgeAssets } from './assets.js';
import { buildWidgets } from './widgets-bundle.js';
import { WASM_BINARY } from './wasm-plugin.js';
import { BUNDLE_SIZE_FILE, startupModules, type BundleSize } from './bundle-parts.js';

export type { BundleSize };
import { describeDevVars, ensureDevVars } from './dev-vars.js';
import { parseOptions } from '../../src/node/args.js';

export async function buildEdge(opts: { quiet?: boolean } = {}): Promise<BundleSize> {
  rmSync(WORKER_OUTDIR, { recursive: true, force: true });
  const { metafile } = await build(workerBuild);
  const parts = startupModules(metafile!);
  const sizes = (outs: string[]) => {
    const bytes = outs.map((o) => readFileSync(o));
    return [bytes.reduce((a, b) => a + b.length, 0), bytes.reduce((a, b) => a + gzipSync(b).length, 0)];
  };
  const [startupBytes, startupGzipBytes] = sizes(parts.startup);
  const [lazyBytes, lazyGzipBytes] = sizes(parts.lazy);
  const wasm = readFileSync(path.join(WORKER_OUTDIR, WASM_BINARY));
  const size: BundleSize = {
    startupBytes,
    startupGzipBytes,
    lazyBytes,
    lazyGzipBytes,
    wasmBytes: wasm.length,
    wasmGzipBytes: gzipSync(wasm).length,
    startupModules: parts.startup.map((o) => path.basename(o)),
    lazyModules: parts.lazy.map((o) => path.basename(o)),
  };
  writeFileSync(BUNDLE_SIZE_FILE, `${JSON.stringify(size, null, 2)}\n`);
  const catalog = writeEdgeAssets();
  const widgets = await buildWidgets(ASSETS_DIR);
  if (!opts.quiet) {
    const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    console.log(
      `worker: ${WORKER_OUTDIR}/ start-up ${kib(size.startupBytes)} (${kib(size.startupGzipBytes)} gzip; ` +
        `${size.startupModules.join(', ')}) + on the first live call ${kib(size.lazyBytes)} ` +
        `(${kib(size.lazyGzipBytes)} gzip) + ${WASM_BINARY} ${kib(size.wasmBytes)} (${kib(size.wasmGzipBytes)} gzip)`,
    );
    console.log(
      `widgets: ${widgets.widgets.stable} ${kib(widgets.widgets.bytes)} (${kib(widgets.widgets.gzipBytes)} gzip); ` +
        `dashboard ${kib(widgets.dashboard.bytes)} (${kib(widgets.dashboard.gzipBytes)} gzip)`,
    );
    console.log(
      `assets: generator ${catalog.generator ? `${catalog.generator.name} (${catalog.generator.source})` : 'none: random-init placeholder'}; ` +
        `classifiers ${catalog.classifiers.map((m) => m.name).join(', ') || 'none'}`,
    );
  }
  return size;
}

/**
 * Run as the build (`npm run build:edge` runs its bundle dist/edge-build.mjs; `tsx
 * scripts/edge/build.ts` the source), not when bundled into another script that imports buildEdge
 * (bench:dashboard, through test/worker/harness.ts): there `import.meta.url` is that bundle's own
 * URL, equal to argv[1], so the usual check ran this block and refused the bench's own options.
 */
const BUILD_ENTRIES = ['/dist/edge-build.mjs', '/scripts/edge/build.ts'];
if (BUILD_ENTRIES.some((entry) => process.argv[1]?.endsWith(entry))) {
  const args = parseOptions(
    process.argv.slice(2),
    { 'seed-if-stale': { type: 'boolean' }, 'dev-vars': { type: 'boolean' } },
    'usage: tsx scripts/edge/build.ts [--seed-if-stale] [--dev-vars]',
  );
  await buildEdge();
  // --seed-if-stale (npm run dev:edge): compute the built-in results when the models changed.
  const missing = args['seed-if-stale'] ? classifiersWithoutResults() : [];
  for (const { domain, classifiers } of missing) {
    const command = seedCommand(domain);
    console.log(
      `no current precomputed results for ${classifiers.join(', ')} (${domain}): running ${command} ` +
        '(a few minutes on 2 cores)',
    );
    const r = spawnSync('npm', command.split(' ').slice(1), { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  if (missing.length > 0) {
    writeEdgeAssets();
    await buildWidgets(ASSETS_DIR);
  }
  // --dev-vars (npm run dev:edge): the local secrets wrangler dev reads, never in the repository.
  if (args['dev-vars']) console.log(describeDevVars(ensureDevVars()));
}
