/**
 * `npm run bench:board [-- --runners 10,50,200 --shards 100,1000,12500 --jobs 1,4 --seconds 8 --lease-ms 10000 --label after]`
 * (`--worker-dir DIR --config TOML`: a saved earlier build and its wrangler.toml, the peer of a change)
 * — the job board under many runners: the real worker bundle on local workerd (Miniflare,
 * configured from wrangler.toml), `--jobs` queued ranking-sums jobs of `--shards` 16-sample shards
 * each per configuration (one board per job; leases go through the job index), and N simulated
 * runners each looping lease -> heartbeat -> release over loopback HTTP as fast as the board
 * answers (no computation: the board's own cost is what is measured).
 *
 * Client and server share the machine's cores: each configuration records the CPU seconds the
 * client (this process) and workerd (its child process, from /proc) used, so whether the client or
 * the server is the bottleneck is measured, not guessed. With several jobs, the leases each job got.
 *
 * Records per configuration: board calls/s, lease and heartbeat latency p50/p99, and leases lost
 * (a heartbeat or release answered 409 because the lease expired while the call waited), with the
 * load average before and after: client and server share the machine's cores, so on a shared,
 * noisy machine the figures are only comparable run against run on the same machine; each
 * configuration is measured `--repeats` times, in rounds over all configurations, and the median
 * run is reported. Writes
 * bench/results/board.json, keeping the other labels' entries (`--label before` / `after`).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalWorkerd } from '../scripts/edge/local-workerd.js';
import { BOARD_COST_HEADER } from '../src/protocol/job.js';

const RUNNER_TOKEN = 'bench-runner-token';
const SUBMIT_TOKEN = 'bench-submit-token';
const SHARD_SIZE = 16;

interface ConfigResult {
  shards: number;
  /** Jobs queued at once (one board each), every one of `shards` shards. */
  jobs: number;
  runners: number;
  seconds: number;
  calls: number;
  callsPerSecond: number;
  leaseMs: { p50: number; p99: number };
  heartbeatMs: { p50: number; p99: number };
  cycleMs: { p50: number; p99: number };
  /** SQLite rows read per lease and per heartbeat (the board's x-board-cost header); null before it existed. */
  rowsRead: { leaseP50: number; leaseMax: number; heartbeatP50: number; heartbeatMax: number } | null;
  /** Heartbeats or releases refused because the lease had expired while the runner waited. */
  leasesLost: number;
  /** Leases answered 204 (nothing leasable: every shard was leased). */
  emptyLeases: number;
  /** Non-2xx answers other than lost leases (must be 0), and how many of each status (0: connection dropped). */
  errors: number;
  errorStatuses: Record<number, number>;
  submitMs: number;
  loadAverage: { before: number[]; after: number[] };
  /** Every repeat's calls/s (the reported run is the median one). */
  repeatsCallsPerSecond: number[];
  /** Leases each job got (by submission order). */
  leasesPerJob: number[];
  /**
   * CPU seconds over the measured window: the client (this process) and workerd (the server, all
   * its threads); `coreShare` is each as a fraction of the machine's cores over the window.
   */
  cpu: { clientS: number; serverS: number; wallS: number; cores: number; clientShare: number; serverShare: number };
}

/** CPU seconds (user + system) of the workerd processes this one started (Linux /proc; 0 elsewhere). */
function serverCpuSeconds(): number {
  const tick = 100; // USER_HZ: 100 on Linux
  let total = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // comm may hold spaces: the fields after it start past the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!comm.includes('workerd') || Number(f[1]) !== process.pid) continue;
      total += (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      // A process that ended while listed.
    }
  }
  return total;
}

const clientCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10;
};
const load = () => os.loadavg().map((v) => Math.round(v * 100) / 100);

async function measure(
  base: URL,
  shards: number,
  jobs: number,
  runners: number,
  seconds: number,
  leaseMs: number,
  seed: number,
): Promise<ConfigResult> {
  const call = async (p: string, body: unknown, token: string, method = 'POST') => {
    const t0 = performance.now();
    try {
      const res = await fetch(new URL(p, base), {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const rows = /rows-read=(\d+)/.exec(res.headers.get(BOARD_COST_HEADER) ?? '');
      return {
        status: res.status,
        ms: performance.now() - t0,
        body: text ? (JSON.parse(text) as any) : null,
        rowsRead: rows ? Number(rows[1]) : null,
      };
    } catch (e) {
      // A connection workerd dropped (an overloaded Durable Object): an error, not the end of the run.
      return { status: 0, ms: performance.now() - t0, body: { error: (e as Error).message }, rowsRead: null };
    }
  };
  const t0 = performance.now();
  const subs: any[] = [];
  for (let j = 0; j < jobs; j++) {
    const sub = await call(
      '/v1/jobs',
      { kind: 'ranking-sums', seed: seed * 16 + j, count: shards * SHARD_SIZE, shardSize: SHARD_SIZE },
      SUBMIT_TOKEN,
    );
    if (sub.status !== 202 || sub.body.job.shards.total !== shards)
      throw new Error(`submit: ${sub.status} ${JSON.stringify(sub.body).slice(0, 300)}`);
    subs.push(sub.body.job);
  }
  const submitMs = (performance.now() - t0) / jobs;
  const jobOrder = new Map(subs.map((j, i) => [j.id as string, i]));
  const leasesPerJob = subs.map(() => 0);
  const lease: number[] = [];
  const beat: number[] = [];
  const cycle: number[] = [];
  // SQLite rows each call read (the x-board-cost header; absent from boards before it existed).
  const leaseRows: number[] = [];
  const beatRows: number[] = [];
  let calls = 0;
  let lost = 0;
  let empty = 0;
  let errors = 0;
  // By HTTP status (0: the connection was dropped).
  const errorStatuses: Record<number, number> = {};
  const before = load();
  const cpu0 = { client: clientCpuSeconds(), server: serverCpuSeconds() };
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: runners }, async (_, r) => {
      const runner = `sim-${r}`;
      while (performance.now() < end) {
        const c0 = performance.now();
        const l = await call('/v1/runner/lease', { runner, leaseMs }, RUNNER_TOKEN);
        calls++;
        lease.push(l.ms);
        if (l.rowsRead !== null) leaseRows.push(l.rowsRead);
        if (l.status === 204) {
          empty++;
          continue;
        }
        if (l.status !== 200) {
          errors++;
          errorStatuses[l.status] = (errorStatuses[l.status] ?? 0) + 1;
          continue;
        }
        leasesPerJob[jobOrder.get(l.body.id) ?? 0]++;
        const ids = { runner, shard: l.body.shard.index, lease: l.body.shard.leaseToken };
        const h = await call(
          `/v1/runner/jobs/${l.body.id}/heartbeat`,
          { ...ids, done: SHARD_SIZE / 2, samplesPerSecond: 100, leaseMs },
          RUNNER_TOKEN,
        );
        calls++;
        beat.push(h.ms);
        if (h.rowsRead !== null) beatRows.push(h.rowsRead);
        const rel = await call(`/v1/runner/jobs/${l.body.id}/release`, ids, RUNNER_TOKEN);
        calls++;
        for (const x of [h, rel]) {
          if (x.status === 409 && /expired/.test(JSON.stringify(x.body))) lost++;
          else if (x.status !== 200) {
            errors++;
            errorStatuses[x.status] = (errorStatuses[x.status] ?? 0) + 1;
          }
        }
        cycle.push(performance.now() - c0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = { client: clientCpuSeconds(), server: serverCpuSeconds() };
  const after = load();
  // Forget the jobs (they have no result) so that the next configuration's jobs are the ones leased.
  for (const job of subs) await call(`/v1/results/${job.key}`, undefined, SUBMIT_TOKEN, 'DELETE');
  const cores = os.cpus().length;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    shards,
    jobs,
    runners,
    seconds: Math.round(elapsed * 100) / 100,
    calls,
    callsPerSecond: Math.round((calls / elapsed) * 10) / 10,
    leaseMs: { p50: quantile(lease, 0.5), p99: quantile(lease, 0.99) },
    heartbeatMs: { p50: quantile(beat, 0.5), p99: quantile(beat, 0.99) },
    cycleMs: { p50: quantile(cycle, 0.5), p99: quantile(cycle, 0.99) },
    rowsRead: leaseRows.length
      ? {
          leaseP50: quantile(leaseRows, 0.5),
          leaseMax: leaseRows.reduce((a, b) => Math.max(a, b), 0),
          heartbeatP50: quantile(beatRows, 0.5),
          heartbeatMax: beatRows.reduce((a, b) => Math.max(a, b), 0),
        }
      : null,
    leasesLost: lost,
    emptyLeases: empty,
    errors,
    errorStatuses,
    submitMs: Math.round(submitMs),
    loadAverage: { before, after },
    repeatsCallsPerSecond: [],
    leasesPerJob,
    cpu: {
      clientS: r2(cpu1.client - cpu0.client),
      serverS: r2(cpu1.server - cpu0.server),
      wallS: r2(elapsed),
      cores,
      clientShare: r2((cpu1.client - cpu0.client) / (elapsed * cores)),
      serverShare: r2((cpu1.server - cpu0.server) / (elapsed * cores)),
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runners: { type: 'string', default: '10,50,200' },
      shards: { type: 'string', default: '100,1000,12500' },
      jobs: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '8' },
      'lease-ms': { type: 'string', default: '10000' },
      repeats: { type: 'string', default: '3' },
      label: { type: 'string', default: 'after' },
      out: { type: 'string', default: 'bench/results/board.json' },
      // A saved earlier build (e.g. the board before a change) instead of dist/worker, and the
      // wrangler.toml it was built with (its Durable Object bindings).
      'worker-dir': { type: 'string' },
      config: { type: 'string' },
    },
  });
  const list = (s: string) => s.split(',').map((x) => Number(x.trim()));
  const assets = mkdtempSync(path.join(os.tmpdir(), 'faultlines-bench-board-'));
  cpSync('dist/edge-assets', assets, { recursive: true });
  const { mf, url } = await startLocalWorkerd(
    assets,
    { RUNNER_TOKEN, SUBMIT_TOKEN },
    { readRateLimit: { limit: 1_000_000 }, workerDir: values['worker-dir'], configPath: values.config },
  );
  const results: ConfigResult[] = [];
  let seed = 70_000 + Math.floor(Math.random() * 10_000);
  try {
    // Repeats are rounds over every configuration (not one configuration three times in a row), so
    // that the machine's load drifting during the run spreads over all configurations alike.
    const runsOf = new Map<string, ConfigResult[]>();
    for (let i = 0; i < Number(values.repeats); i++) {
      for (const jobs of list(values.jobs)) {
        for (const shards of list(values.shards)) {
          for (const runners of list(values.runners)) {
            const r = await measure(
              url,
              shards,
              jobs,
              runners,
              Number(values.seconds),
              Number(values['lease-ms']),
              seed++,
            );
            const k = `${jobs}/${shards}/${runners}`;
            runsOf.set(k, [...(runsOf.get(k) ?? []), r]);
          }
        }
      }
    }
    for (const jobs of list(values.jobs)) {
      for (const shards of list(values.shards)) {
        for (const runners of list(values.runners)) {
          const runs = runsOf.get(`${jobs}/${shards}/${runners}`)!;
          runs.sort((a, b) => a.callsPerSecond - b.callsPerSecond);
          const median = { ...runs[runs.length >> 1], repeatsCallsPerSecond: runs.map((r) => r.callsPerSecond) };
          results.push(median);
          console.log(
            `${jobs} job(s) x ${String(shards).padStart(6)} shards ${String(runners).padStart(4)} runners: ${median.callsPerSecond} calls/s ` +
              `(runs ${median.repeatsCallsPerSecond.join(', ')}), lease p50/p99 ` +
              `${median.leaseMs.p50}/${median.leaseMs.p99} ms, heartbeat ${median.heartbeatMs.p50}/` +
              `${median.heartbeatMs.p99} ms, rows read/lease ${median.rowsRead?.leaseP50 ?? '-'}, lost ${median.leasesLost}, errors ${median.errors}, ` +
              `leases/job ${median.leasesPerJob.join('/')}, cpu client ${median.cpu.clientS} s server ${median.cpu.serverS} s ` +
              `of ${median.cpu.wallS} s x ${median.cpu.cores} cores, load ${median.loadAverage.after[0]}`,
          );
        }
      }
    }
  } finally {
    await mf.dispose();
    rmSync(assets, { recursive: true, force: true });
  }
  const out = values.out;
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { runs?: Record<string, unknown> }) : {};
  const entry = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    method:
      `lease -> heartbeat -> release per simulated runner, as fast as answered, ${values.seconds} s per configuration, median of ` +
      `${values.repeats} runs; ${values.jobs} job(s) at once, shards of ${SHARD_SIZE} samples; leaseMs ` +
      `${values['lease-ms']}; client and workerd share the machine (cpu: each one's CPU seconds)`,
    configurations: results,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      { schema: 'faultlines.bench-board/1', runs: { ...(previous.runs ?? {}), [values.label]: entry } },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out} (${values.label})`);
}

await main();
