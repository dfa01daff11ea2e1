/**
 * `npm run bench:edge` — the edge API against local workerd (Miniflare, configured from
 * wrangler.toml, the built bundle and dist/edge-assets): start-up, the first request of a fresh
 * isolate (cold start: a cached ranking, then the first live render, which loads the live-compute
 * chunk, initialises tfjs-wasm and loads + verifies the weights), and p50/p99 of warm requests: a
 * cached ranking, a 9-frame traversal, a single render (plus a crossing-mode traversal and a
 * corner-case search). Client-side wall times over loopback HTTP. Cold starts run with
 * SERVER_TIMING=1, and each first request's phases (src/worker/server-timing.ts) are recorded; a
 * trivial worker started on the same Miniflare alternates with them (the start-up floor no bundle
 * can go under).
 * `npm run bench:edge -- --baseline DIR` alternates cold starts of a saved earlier build (DIR, a copy of
 * dist/worker) with this one's, for a before/after under the same load. Writes
 * bench/results/edge.json. Not a test: this machine is shared and noisy.
 * Start-up is broken down (issue #19) into what the local simulator costs whatever the script (an
 * empty script with the same configuration; a worker without bindings), what the worker adds above
 * that, the start-up modules' evaluation alone (imported in a fresh Node process: the same V8
 * parse, compile and top-level run workerd does) and, for comparison, a start where Miniflare
 * discovers the modules itself (the harness before #19; scripts/edge/local-workerd.ts says why).
 * `npm run bench:edge -- --quick`: 2 cold rounds (EDGE_COLD_RUNS overrides) and a fifth of each warm
 * series, written to the OS temporary folder instead of bench/results/edge.json.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { startLocalWorkerd } from '../scripts/edge/local-workerd.js';
import { parseOptions } from '../src/node/args.js';
import { BUNDLE_SIZE_FILE, type BundleSize } from '../scripts/edge/bundle-parts.js';

const ASSETS = 'dist/edge-assets';
const N_FULL = { ranking: 300, traversal: 60, render: 100, search: 20 };

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const r2 = (v: number) => Math.round(v * 100) / 100;

async function start(
  workerDir?: string,
  bindings: Record<string, string> = {},
  discoverModules = false,
): Promise<{ mf: Miniflare; url: URL; startupMs: number }> {
  const t0 = performance.now();
  const { mf, url } = await startLocalWorkerd(path.resolve(ASSETS), bindings, { workerDir, discoverModules });
  return { mf, url, startupMs: performance.now() - t0 };
}

/** Median start-up and first-request times of a start-up floor's cold runs. */
function medianFloor(runs: Array<{ startupMs: number; firstRequestMs: number }>) {
  return {
    startupMs: quantile(
      runs.map((r) => r.startupMs),
      0.5,
    ),
    firstRequestMs: quantile(
      runs.map((r) => r.firstRequestMs),
      0.5,
    ),
  };
}

/**
 * Parse, compile and top-level evaluation of the worker's start-up modules (dist/worker/index.mjs and
 * its static imports, which build the Hono app and its schemas), timed around a dynamic import in a
 * fresh Node process: the part of start-up that is the worker's own code, without the simulator.
 * Node runs the same V8 as workerd. The bundle is imported from a copy whose one import of
 * `cloudflare:workers` (the Durable Object base class) points at a stub; nothing else is changed.
 */
function moduleEvaluationMs(workerDir: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faultlines-module-eval-'));
  cpSync(workerDir, dir, { recursive: true });
  const entry = path.join(dir, 'index.mjs');
  const source = readFileSync(entry, 'utf8');
  const stubbed = source.replaceAll('"cloudflare:workers"', '"./cloudflare-workers-stub.mjs"');
  if (stubbed === source) throw new Error(`${entry}: no import of cloudflare:workers to stub`);
  writeFileSync(entry, stubbed);
  writeFileSync(path.join(dir, 'cloudflare-workers-stub.mjs'), 'export class DurableObject {}\n');
  const script = 'const t0 = performance.now(); await import(process.argv[1]); console.log(performance.now() - t0);';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(entry).href], {
    encoding: 'utf8',
  });
  rmSync(dir, { recursive: true, force: true });
  return r2(Number(out.trim()));
}

async function trivialColdStart(): Promise<{ startupMs: number; firstRequestMs: number }> {
  const t0 = performance.now();
  const mf = new Miniflare({
    modules: true,
    compatibilityDate: '2025-09-01',
    script: "export default { fetch() { return new Response('ok'); } };",
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  const startupMs = performance.now() - t0;
  const firstRequestMs = await timed(url, '/');
  await mf.dispose();
  return { startupMs: r2(startupMs), firstRequestMs: r2(firstRequestMs) };
}

/**
 * A worker with the same configuration (wrangler.toml: Durable Objects, KV, R2, rate limiter,
 * assets) and an empty script: what start-up costs before any of the bundle is parsed.
 */
function emptyWorkerDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faultlines-empty-worker-'));
  writeFileSync(
    path.join(dir, 'index.mjs'),
    "import { DurableObject } from 'cloudflare:workers';\n" +
      'export class JobBoard extends DurableObject {}\nexport class JobIndex extends DurableObject {}\n' +
      "export default { fetch() { return new Response('ok'); } };\n",
  );
  return dir;
}

/** A Server-Timing header as phase -> ms (durations of a repeated phase summed). */
function phases(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of (header ?? '').split(',').filter(Boolean)) {
    const [name, ...params] = entry.trim().split(';');
    const dur = Number(params.find((p) => p.startsWith('dur='))?.slice(4));
    if (Number.isFinite(dur)) out[name] = r2((out[name] ?? 0) + dur);
  }
  return out;
}

/** Wall time and Server-Timing phases of one request. */
async function timedPhases(url: URL, p: string): Promise<{ ms: number; phases: Record<string, number> }> {
  const t0 = performance.now();
  const res = await fetch(new URL(p, url));
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status}`);
  return { ms, phases: phases(res.headers.get('server-timing')) };
}

async function timed(url: URL, p: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(new URL(p, url));
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status}`);
  return ms;
}

/** n requests in turn after 3 warm-up ones: client-side p50/p99/mean, and each Server-Timing phase's p50. */
async function series(url: URL, n: number, path: (i: number) => string) {
  for (let i = 0; i < 3; i++) await timed(url, path(1000 + i)); // warm-up
  const runs: Array<{ ms: number; phases: Record<string, number> }> = [];
  for (let i = 0; i < n; i++) runs.push(await timedPhases(url, path(i)));
  const ms = runs.map((r) => r.ms);
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  const phaseP50 = Object.fromEntries(
    names.map((k) => [
      k,
      quantile(
        runs.map((r) => r.phases[k] ?? 0),
        0.5,
      ),
    ]),
  );
  return {
    n,
    p50: r2(quantile(ms, 0.5)),
    p99: r2(quantile(ms, 0.99)),
    mean: r2(ms.reduce((a, b) => a + b, 0) / n),
    phaseP50,
  };
}

async function main(): Promise<void> {
  const catalog = JSON.parse(readFileSync(path.join(ASSETS, 'catalog.json'), 'utf8'));
  const rankingPath = '/v1/rankings?top=20';

  // Cold: fresh isolates, first request of each. With --baseline DIR (a saved earlier dist/worker),
  // that build's cold starts alternate with this one's, so both meet the same machine load.
  const opts = parseOptions(
    process.argv.slice(2),
    { baseline: { type: 'string' }, quick: { type: 'boolean' } },
    'usage: npm run bench:edge [-- --baseline DIR] [--quick]',
  );
  const baselineDir = opts.baseline;
  const quick = opts.quick === true;
  const N = quick ? Object.fromEntries(Object.entries(N_FULL).map(([k, n]) => [k, Math.ceil(n / 5)])) : N_FULL;
  const coldStart = async (workerDir?: string) => {
    const { mf, url, startupMs } = await start(workerDir, { SERVER_TIMING: '1' });
    const ranking = await timedPhases(url, rankingPath).catch((e: Error) => {
      throw new Error(`${e.message}: no current precomputed ranking (run npm run seed:edge, then npm run build:edge)`);
    });
    const render = await timedPhases(url, '/v1/render?seed=1&class=3');
    await mf.dispose();
    return {
      startupMs: r2(startupMs),
      firstRequestCachedRankingMs: r2(ranking.ms),
      firstRenderMs: r2(render.ms),
      cachedRankingPhases: ranking.phases,
      firstRenderPhases: render.phases,
    };
  };
  const cold = [];
  const baselineCold = [];
  const trivialCold = [];
  const emptyCold = [];
  const discoveryCold = [];
  const moduleEval = [];
  const emptyDir = emptyWorkerDir();
  const coldRuns = Number(process.env.EDGE_COLD_RUNS ?? (quick ? 2 : 5));
  const loadBefore = os.loadavg().map(r2);
  for (let k = 0; k < coldRuns; k++) {
    cold.push(await coldStart());
    if (baselineDir !== undefined) baselineCold.push(await coldStart(baselineDir));
    trivialCold.push(await trivialColdStart());
    const empty = await start(emptyDir);
    const firstMs = await timed(empty.url, '/');
    await empty.mf.dispose();
    emptyCold.push({ startupMs: r2(empty.startupMs), firstRequestMs: r2(firstMs) });
    const discovered = await start(undefined, {}, true);
    const discoveredFirstMs = await timed(discovered.url, rankingPath);
    await discovered.mf.dispose();
    discoveryCold.push({ startupMs: r2(discovered.startupMs), firstRequestMs: r2(discoveredFirstMs) });
    moduleEval.push(moduleEvaluationMs('dist/worker'));
  }
  const loadAfterCold = os.loadavg().map(r2);
  type Cold = (typeof cold)[number];
  const medians = (runs: Cold[]) => ({
    startupMs: quantile(
      runs.map((r) => r.startupMs),
      0.5,
    ),
    toFirstCachedAnswerMs: quantile(
      runs.map((r) => r.startupMs + r.firstRequestCachedRankingMs),
      0.5,
    ),
    toFirstRenderMs: quantile(
      runs.map((r) => r.startupMs + r.firstRequestCachedRankingMs + r.firstRenderMs),
      0.5,
    ),
  });
  const coldMedians = medians(cold);
  /** Median of each phase of the first render over the cold runs (the cold-start breakdown). */
  const phaseMedians = (runs: Cold[], key: 'firstRenderPhases' | 'cachedRankingPhases') => {
    const names = [...new Set(runs.flatMap((r) => Object.keys(r[key])))];
    return Object.fromEntries(
      names.map((n) => [
        n,
        quantile(
          runs.map((r) => r[key][n] ?? 0),
          0.5,
        ),
      ]),
    );
  };
  const coldBreakdown = {
    note:
      'medians over the cold runs; first render: Server-Timing phases of the first live call of a fresh isolate ' +
      '(code-load = the live-compute chunk parsed and evaluated); startup: Miniflare start to ready, of which the ' +
      'trivial worker (no bindings) and the empty script with the same configuration are the floors',
    firstRender: phaseMedians(cold, 'firstRenderPhases'),
    firstCachedRanking: phaseMedians(cold, 'cachedRankingPhases'),
    emptyScriptSameConfig: medianFloor(emptyCold),
    trivialWorker: medianFloor(trivialCold),
    startup: {
      note:
        'medians, ms: total = this worker started as wrangler uploads it (module list); simulator = the ' +
        'empty script with the same configuration; workerAttributable = total - simulator; ' +
        'moduleEvaluationNode = the start-up modules parsed, compiled and run in a fresh Node process; ' +
        'miniflareDiscovery = the same worker when Miniflare finds its modules by parsing them (before #19); ' +
        "firstCachedAnswerAboveSimulator (below) = the first cached ranking's time less the empty script's first answer",
      total: coldMedians.startupMs,
      simulator: medianFloor(emptyCold).startupMs,
      workerAttributable: r2(coldMedians.startupMs - medianFloor(emptyCold).startupMs),
      moduleEvaluationNode: quantile(moduleEval, 0.5),
      miniflareDiscovery: medianFloor(discoveryCold).startupMs,
    },
    firstCachedAnswerAboveSimulator: r2(
      quantile(
        cold.map((r) => r.firstRequestCachedRankingMs),
        0.5,
      ) - medianFloor(emptyCold).firstRequestMs,
    ),
  };
  const coldVersusBaseline =
    baselineDir === undefined
      ? undefined
      : {
          baselineDir,
          baselineScriptKiB: r2(
            readdirSync(baselineDir)
              .filter((f) => f.endsWith('.mjs'))
              .reduce((a, f) => a + statSync(path.join(baselineDir, f)).size, 0) / 1024,
          ),
          runsEach: coldRuns,
          current: coldMedians,
          baseline: medians(baselineCold),
          baselineFirstRender: phaseMedians(baselineCold, 'firstRenderPhases'),
          ratios: {
            startup: r2(medians(baselineCold).startupMs / coldMedians.startupMs),
            toFirstCachedAnswer: r2(medians(baselineCold).toFirstCachedAnswerMs / coldMedians.toFirstCachedAnswerMs),
            toFirstRender: r2(medians(baselineCold).toFirstRenderMs / coldMedians.toFirstRenderMs),
          },
          baselineRuns: baselineCold,
        };

  // Server-Timing on here too: each series' phases (its cost is a few clock reads per request).
  const { mf, url } = await start(undefined, { SERVER_TIMING: '1' });
  const S = (catalog.generatorArchitecture.styleSize as number | undefined) ?? 512;
  const warm = {
    cachedRanking: await series(url, N.ranking, (i) => `${rankingPath}&class=${i % 10}`),
    traversal9Frames: await series(
      url,
      N.traversal,
      (i) => `/v1/traversal?class=${i % 10}&dim=${(i * 37) % S}&frames=9&range=4`,
    ),
    render: await series(url, N.render, (i) => `/v1/render?seed=${i}&class=${i % 10}`),
    // Extra figures: a 9-frame traversal that first finds p_true = 0.5, one corner-case search.
    traversal9FramesCrossing: await series(
      url,
      N.search,
      (i) => `/v1/traversal?class=${i % 10}&dim=${(i * 53) % S}&frames=9&mode=crossing&range=20&seed=${i}`,
    ),
    cornerCaseSearch: await series(
      url,
      N.search,
      (i) => `/v1/corner-case?class=${i % 10}&dim=${(i * 53) % S}&maxSteps=20`,
    ),
  };
  await mf.dispose();

  const bundle = JSON.parse(readFileSync(BUNDLE_SIZE_FILE, 'utf8')) as BundleSize;
  const kib = (n: number) => r2(n / 1024);
  const out = {
    bench: 'edge',
    date: new Date().toISOString(),
    command: 'npm run bench:edge',
    runtime:
      'workerd via Miniflare (wrangler.toml bindings), client-side loopback HTTP ' +
      'times in ms; live series use distinct inputs (Cache API misses, full computation)',
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      loadavg: os.loadavg().map(r2),
      loadavgBeforeCold: loadBefore,
      loadavgAfterCold: loadAfterCold,
      node: process.version,
    },
    models: {
      generator: catalog.generator
        ? `${catalog.generator.name} (${catalog.generator.source})`
        : 'random-init placeholder',
      classifiers: catalog.classifiers.map((m: { name: string }) => m.name),
    },
    bundle: {
      startupKiB: kib(bundle.startupBytes),
      startupGzipKiB: kib(bundle.startupGzipBytes),
      startupModules: bundle.startupModules,
      firstLiveCallKiB: kib(bundle.lazyBytes),
      firstLiveCallGzipKiB: kib(bundle.lazyGzipBytes),
      wasmKiB: kib(bundle.wasmBytes),
      wasmGzipKiB: kib(bundle.wasmGzipBytes),
    },
    cold,
    coldMedians,
    coldBreakdown,
    quick,
    trivialCold,
    emptyCold,
    discoveryCold,
    moduleEvaluationNodeMs: moduleEval,
    coldVersusBaseline,
    warm,
    targets: { cachedP50Ms: 5, traversal9P50Ms: 10, coldStartMs: 500, bundleGzipKiB: 1024 },
  };
  const file = quick ? path.join(os.tmpdir(), 'faultlines-edge-quick.json') : 'bench/results/edge.json';
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`written: ${file}`);
  console.log(JSON.stringify({ bundle: out.bundle, coldMedians, coldBreakdown, coldVersusBaseline, warm }, null, 2));
}

await main();
