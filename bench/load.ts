/**
 * `npm run bench:load [-- --seconds 20 --cached-connections 16 --live-connections 48 --read-limit N]`
 * — load on the real worker (workerd via Miniflare, configured from wrangler.toml, the built bundle
 * and dist/edge-assets), over loopback HTTP with autocannon: sustained concurrent requests on
 * cached endpoints (rankings, models, histograms, ...) and live traversals (each a Cache API miss:
 * distinct seeds) at the same time, in two phases of `--seconds` each:
 *
 * - overload: more live connections than the live-compute budget admits (1 running + 32 queued by
 *   default), so the limiter must refuse some with 503 + Retry-After rather than let them time out;
 * - within-budget: a few live connections, none refused.
 *
 * Records requests/s, latency p50/p97.5/p99 (all responses, and successful ones alone), errors,
 * timeouts and responses by status, and checks that every 429/503 carries Retry-After, into
 * bench/results/load.json. The per-client read rate limit is lifted (one client address sends all
 * of this) unless `--read-limit N` sets one; test/worker/load.test.ts runs a short form in CI.
 */
import autocannon from 'autocannon';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { intOption, parseOptions } from '../src/node/args.js';
import { DEFAULT_LIVE_LIMITS } from '../src/worker/live-limit.js';

export const CACHED_PATHS = [
  '/v1/rankings?top=20',
  '/v1/rankings?top=10&class=3',
  '/v1/models',
  '/v1/histograms',
  '/v1/accuracy-curves',
  '/v1/corner-cases',
];

export interface GroupStats {
  connections: number;
  requests: number;
  requestsPerSecond: number;
  /** Latency of every response (ms). */
  latencyMs: { p50: number; p97_5: number; p99: number; max: number };
  /** Latency of the 2xx responses alone (ms); null when there were none. */
  okLatencyMs: { p50: number; p97_5: number; p99: number; max: number } | null;
  /** Latency of the 429/503 refusals alone (ms); null when there were none. */
  refusedLatencyMs: { p50: number; p99: number; max: number } | null;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  non2xx: number;
  /** 429/503 answers without a Retry-After header (must be 0). */
  refusedWithoutRetryAfter: number;
  retryAfterSeconds: { min: number; max: number } | null;
  /** 5xx other than the limiter's 503 (must be 0). */
  serverErrors: number;
}

export interface PhaseResult {
  name: string;
  seconds: number;
  cached: GroupStats;
  live: GroupStats;
}

export interface LoadOptions {
  seconds: number;
  /** Cached paths to load (default CACHED_PATHS). */
  cachedPaths?: string[];
  cachedConnections: number;
  liveConnections: number;
  /** Distinct traversals: seeds start here (a Cache API miss each). */
  seedBase?: number;
  /** Request timeout (s): a request slower than this is a timeout (an error). */
  timeoutSeconds?: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const r2 = (v: number) => Math.round(v * 100) / 100;

interface Recorder {
  ok: number[];
  refused: number[];
  refusedWithoutRetryAfter: number;
  retryAfter: number[];
}

function run(opts: autocannon.Options, rec: Recorder): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const inst = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
    inst.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) rec.ok.push(ms);
      else if (statusCode === 429 || statusCode === 503) rec.refused.push(ms);
    });
  });
}

function onResponse(rec: Recorder) {
  return (
    status: number,
    _body: string,
    _context: object,
    headers: Record<string, string | string[] | undefined> | undefined,
  ) => {
    if (status !== 429 && status !== 503) return;
    const entry = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after');
    const v = Number(Array.isArray(entry?.[1]) ? entry![1][0] : entry?.[1]);
    if (!entry || !Number.isInteger(v) || v < 1) rec.refusedWithoutRetryAfter++;
    else rec.retryAfter.push(v);
  };
}

function stats(result: autocannon.Result, rec: Recorder, connections: number): GroupStats {
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = (s as { count?: number }).count ?? 0;
  const ok = [...rec.ok].sort((a, b) => a - b);
  const refused = [...rec.refused].sort((a, b) => a - b);
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    connections,
    requests,
    requestsPerSecond: r2(requests / result.duration),
    latencyMs: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    okLatencyMs: ok.length
      ? {
          p50: r2(quantile(ok, 0.5)),
          p97_5: r2(quantile(ok, 0.975)),
          p99: r2(quantile(ok, 0.99)),
          max: r2(ok[ok.length - 1]),
        }
      : null,
    refusedLatencyMs: refused.length
      ? { p50: r2(quantile(refused, 0.5)), p99: r2(quantile(refused, 0.99)), max: r2(refused[refused.length - 1]) }
      : null,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    non2xx: result.non2xx,
    refusedWithoutRetryAfter: rec.refusedWithoutRetryAfter,
    retryAfterSeconds: rec.retryAfter.length
      ? { min: Math.min(...rec.retryAfter), max: Math.max(...rec.retryAfter) }
      : null,
    serverErrors: Object.entries(statuses)
      .filter(([c]) => Number(c) >= 500 && Number(c) !== 503)
      .reduce((a, [, n]) => a + n, 0),
  };
}

/** The generator's S (for valid traversal dims). */
async function styleSize(url: URL): Promise<number> {
  const res = await fetch(new URL('/v1/models/generator', url));
  if (!res.ok) throw new Error(`/v1/models/generator: HTTP ${res.status}`);
  return ((await res.json()) as { styleSize: number }).styleSize;
}

/**
 * The cached paths that answer 200 before the load (the figures must not measure 404s): the
 * rankings and the models are required; results not precomputed for the current models are left
 * out (named in the output).
 */
export async function checkCached(url: URL, required = CACHED_PATHS): Promise<string[]> {
  const ok: string[] = [];
  for (const p of CACHED_PATHS) {
    const res = await fetch(new URL(p, url));
    await res.arrayBuffer();
    if (res.status === 200) ok.push(p);
    else if (required.includes(p))
      throw new Error(
        `${p}: HTTP ${res.status} before the load: no current cached result (run npm run seed:edge, then npm run build:edge)`,
      );
  }
  return ok;
}

/**
 * Waits until a live traversal is answered at once: traversals queued by an earlier phase may still
 * be computing, and a phase that starts behind them measures the last one's backlog.
 */
export async function waitForLiveIdle(url: URL, timeoutMs = 30_000): Promise<void> {
  for (let t0 = Date.now(); Date.now() - t0 < timeoutMs; ) {
    const t = Date.now();
    const res = await fetch(new URL(`/v1/traversal?class=2&dim=3&frames=9&range=4&seed=${t % 1_000_000}`, url));
    await res.arrayBuffer();
    if (res.status === 200 && Date.now() - t < 1000) return;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`live traversals still queued after ${timeoutMs} ms`);
}

/** One phase: cached and live load at the same time against `url`. */
export async function loadPhase(url: URL, name: string, o: LoadOptions): Promise<PhaseResult> {
  const S = await styleSize(url);
  let i = 0;
  const seedBase = o.seedBase ?? 100_000 + Math.floor(Math.random() * 1_000_000);
  const common = { url: url.origin, duration: o.seconds, timeout: o.timeoutSeconds ?? 10 };
  const cachedRec: Recorder = { ok: [], refused: [], refusedWithoutRetryAfter: 0, retryAfter: [] };
  const liveRec: Recorder = { ok: [], refused: [], refusedWithoutRetryAfter: 0, retryAfter: [] };
  const [cached, live] = await Promise.all([
    run(
      {
        ...common,
        connections: o.cachedConnections,
        requests: (o.cachedPaths ?? CACHED_PATHS).map((p) => ({
          method: 'GET' as const,
          path: p,
          onResponse: onResponse(cachedRec),
        })),
      },
      cachedRec,
    ),
    run(
      {
        ...common,
        connections: o.liveConnections,
        requests: [
          {
            method: 'GET' as const,
            setupRequest: (req) => {
              const n = i++;
              return {
                ...req,
                path: `/v1/traversal?class=${n % 10}&dim=${(n * 37) % S}&frames=9&range=4&seed=${seedBase + n}`,
              };
            },
            onResponse: onResponse(liveRec),
          },
        ],
      },
      liveRec,
    ),
  ]);
  return {
    name,
    seconds: o.seconds,
    cached: stats(cached, cachedRec, o.cachedConnections),
    live: stats(live, liveRec, o.liveConnections),
  };
}

function line(name: string, g: GroupStats): string {
  const st = Object.entries(g.statuses)
    .map(([c, n]) => `${c}:${n}`)
    .join(' ');
  const ok = g.okLatencyMs
    ? `ok p50/p97.5/p99 ${g.okLatencyMs.p50}/${g.okLatencyMs.p97_5}/${g.okLatencyMs.p99} ms`
    : 'no 2xx';
  const refused = g.refusedLatencyMs
    ? `, refused p50 ${g.refusedLatencyMs.p50} ms (Retry-After ${g.retryAfterSeconds?.min}-${g.retryAfterSeconds?.max} s)`
    : '';
  return (
    `  ${name.padEnd(7)} ${String(g.connections).padStart(3)} conn  ${String(g.requestsPerSecond).padStart(8)} req/s  all p50/p97.5/p99 ` +
    `${g.latencyMs.p50}/${g.latencyMs.p97_5}/${g.latencyMs.p99} ms  ${ok}${refused}  errors ${g.errors} timeouts ${g.timeouts}  [${st}]`
  );
}

export function summary(phases: PhaseResult[]): string {
  return phases
    .map((p) => `${p.name} (${p.seconds} s):\n${line('cached', p.cached)}\n${line('live', p.live)}`)
    .join('\n');
}

async function main(): Promise<void> {
  const { startLocalWorkerd } = await import('../scripts/edge/local-workerd.js');
  const args = parseOptions(
    process.argv.slice(2),
    {
      seconds: { type: 'string', default: '20' },
      'cached-connections': { type: 'string', default: '16' },
      'live-connections': { type: 'string', default: '48' },
      'read-limit': { type: 'string' },
    },
    'usage: npm run bench:load [-- --seconds 20 --cached-connections 16 --live-connections 48 --read-limit N]',
  );
  const seconds = intOption(args.seconds, 'seconds', 1);
  const cachedConnections = intOption(args['cached-connections'], 'cached-connections', 1);
  const liveConnections = intOption(args['live-connections'], 'live-connections', 1);
  const readLimit = args['read-limit'] === undefined ? null : intOption(args['read-limit'], 'read-limit', 1);
  const ASSETS = 'dist/edge-assets';
  const catalog = JSON.parse(readFileSync(path.join(ASSETS, 'catalog.json'), 'utf8'));
  const { mf, url } = await startLocalWorkerd(
    path.resolve(ASSETS),
    {},
    { readRateLimit: { limit: readLimit ?? 1_000_000_000 } },
  );
  try {
    const cachedPaths = await checkCached(url, ['/v1/rankings?top=20', '/v1/models']);
    const skipped = CACHED_PATHS.filter((p) => !cachedPaths.includes(p));
    if (skipped.length)
      console.log(`not precomputed for the current models, left out: ${skipped.join(', ')} (npm run seed:edge)`);
    // Warm-up: the models load and verify on the first live request.
    for (let k = 0; k < 3; k++)
      await (
        await fetch(new URL(`/v1/traversal?class=${k}&dim=${k}&frames=9&range=4&seed=${k + 1}`, url))
      ).arrayBuffer();
    const phases = [
      await loadPhase(url, 'overload', { seconds, cachedConnections, liveConnections, cachedPaths }),
      await waitForLiveIdle(url).then(() =>
        loadPhase(url, 'within-budget', { seconds, cachedConnections, liveConnections: 4, cachedPaths }),
      ),
    ];
    const out = {
      bench: 'load',
      date: new Date().toISOString(),
      command: `npm run bench:load${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      runtime:
        'workerd via Miniflare (wrangler.toml bindings), autocannon over loopback HTTP ' +
        'in the same machine (client and server share the CPUs); latencies in ms, client side',
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        loadavg: os.loadavg().map(r2),
        node: process.version,
      },
      models: {
        generator: catalog.generator
          ? `${catalog.generator.name} (${catalog.generator.source})`
          : 'random-init placeholder',
        classifiers: catalog.classifiers.map((m: { name: string }) => m.name),
      },
      config: {
        seconds,
        cachedPaths,
        ...(skipped.length ? { cachedPathsNotPrecomputed: skipped } : {}),
        livePath:
          '/v1/traversal?class=n%10&dim=(37n)%S&frames=9&range=4&seed=<distinct> (a Cache API miss each: a full 9-frame computation)',
        liveLimits: DEFAULT_LIVE_LIMITS,
        readRateLimit:
          readLimit === null
            ? 'lifted for the benchmark (all load comes from one address)'
            : { limit: readLimit, periodSeconds: 10 },
        requestTimeoutSeconds: 10,
      },
      phases,
      goal: 'zero errors and timeouts; refusals only as 503/429 with Retry-After; no other 5xx',
      met: phases.every((p) =>
        [p.cached, p.live].every(
          (g) => g.errors === 0 && g.timeouts === 0 && g.refusedWithoutRetryAfter === 0 && g.serverErrors === 0,
        ),
      ),
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/load.json', JSON.stringify(out, null, 2) + '\n');
    console.log(summary(phases));
    console.log(`goal (${out.goal}): ${out.met ? 'met' : 'NOT met'}; written to bench/results/load.json`);
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/load.ts')) await main();
