/**
 * The GPU runner's command line (bundled by src/gpu-runner/build.ts into dist/gpu-runner/runner.mjs;
 * the same file runs in Node and in Deno):
 *
 *   runner.mjs [run] --api URL [--token T: prefer $FAULTLINES_RUNNER_TOKEN] [--backend webgpu|wasm|cpu|auto] [--name N] ...
 *       lease shards from the edge and compute them until stopped (SIGTERM: drain or release).
 *   runner.mjs sweep --assets dist/edge-assets --seed S --count N [--start A --end B] [--backend B] [--out F]
 *       one sweep on local model files, no edge (determinism checks, benchmarks).
 *
 * WebGPU needs navigator.gpu, which Deno provides and Node does not: started in Node with
 * `--backend webgpu|auto`, the runner re-launches itself in Deno (the npm package `deno`, or `deno`
 * on PATH) and forwards signals; without Deno it says so and runs on wasm.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shardSweep } from './sweep.js';
import { RUNNER_BACKENDS, initBackend, runtimeName, type RunnerBackendChoice } from './backend.js';
import { EdgeClient } from './client.js';
import { denoArgs, findDeno } from './deno-bin.js';
import { localModels } from './local.js';
import { ComputeThread } from './compute-thread.js';
import { Runner, SHUTDOWN_BOUND_MS } from './runner.js';
import { JOB_KINDS } from '../protocol/result-keys.js';
import { type Args, int, parseCommandLine, str, withoutToken } from './command-line.js';

const isDeno = () => typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

function stamp(name: string) {
  return (line: string) => console.log(`${new Date().toISOString()} [${name}] ${line}`);
}

/** In Node with a WebGPU backend asked for: re-launch in Deno. Returns null when staying here. */
function relaunchInDeno(
  backend: RunnerBackendChoice,
  args: Args,
  argv: string[],
  log: (l: string) => void,
): Promise<number> | null {
  if (isDeno() || (backend !== 'webgpu' && backend !== 'auto') || args['no-deno'] === true) return null;
  const deno = findDeno();
  if (!deno) {
    log(
      `WebGPU needs Deno (navigator.gpu) and no Deno binary was found (npm package "deno", $DENO_BIN or PATH); continuing in ${runtimeName()}`,
    );
    return null;
  }
  const script = fileURLToPath(import.meta.url);
  // Mesa's Vulkan drivers complain on every call without a runtime dir (headless machines).
  const xdg = process.env.XDG_RUNTIME_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'faultlines-xdg-'));
  // The token travels in the environment, never on the child's command line (`ps` shows those).
  const { argv: rest, token } = withoutToken(argv);
  const tokenEnv = token === undefined ? {} : { FAULTLINES_RUNNER_TOKEN: token };
  const child = spawn(deno, denoArgs(script, rest), {
    stdio: 'inherit',
    env: {
      ...process.env,
      ...tokenEnv,
      DENO_NO_UPDATE_CHECK: '1',
      XDG_RUNTIME_DIR: xdg,
      FAULTLINES_RUNNER_PARENT: String(process.pid),
    },
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  // The launcher's own watched parent (e.g. a test process) gone: stop the Deno child with it.
  watchParent(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1))),
  );
}

function onSignal(handler: (sig: string) => void): void {
  const deno = (globalThis as { Deno?: { addSignalListener(s: string, f: () => void): void } }).Deno;
  for (const sig of ['SIGTERM', 'SIGINT']) {
    if (deno) deno.addSignalListener(sig, () => handler(sig));
    else process.on(sig, () => handler(sig));
  }
}

/**
 * Stop when the process named by $FAULTLINES_RUNNER_PARENT dies (even by SIGKILL, which it cannot
 * forward): a Deno runner watches its Node launcher, and a launcher or Node runner whatever set it
 * (a test process), so no orphan keeps leasing work nobody watches.
 */
function watchParent(stop: (why: string) => void): void {
  const parent = Number(process.env.FAULTLINES_RUNNER_PARENT ?? 0);
  if (!parent) return;
  const t = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(t);
      stop(`launcher ${parent} exited`);
    }
  }, 1000);
  (t as unknown as { unref?: () => void }).unref?.();
}

function backendOf(args: Args, d: RunnerBackendChoice): RunnerBackendChoice {
  const b = str(args, 'backend', d);
  if (!(RUNNER_BACKENDS as readonly string[]).includes(b))
    throw new Error(`--backend must be one of ${RUNNER_BACKENDS.join(', ')}`);
  return b as RunnerBackendChoice;
}

/** `--kinds a,b`: only jobs of these result kinds (default: every kind). */
function kindsOf(args: Args): string[] {
  const v = str(args, 'kinds', JOB_KINDS.join(','));
  const kinds = v
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(JOB_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length)
    throw new Error(
      `--kinds must list some of ${JOB_KINDS.join(', ')}${unknown.length ? `, not ${unknown.join(', ')}` : ''}`,
    );
  return kinds;
}

async function runCommand(args: Args, argv: string[]): Promise<number> {
  const name = str(args, 'name', `${os.hostname()}-${process.pid}`);
  const log = stamp(name);
  const backend = backendOf(args, 'auto');
  const relaunched = relaunchInDeno(backend, args, argv, log);
  if (relaunched) return relaunched;
  const api = str(args, 'api', process.env.FAULTLINES_API ?? '');
  // The runner scope's token: --token, else $FAULTLINES_RUNNER_TOKEN, else $RUNNER_TOKEN (as exported
  // from the local .dev.vars: `set -a; . ./.dev.vars; set +a`). Never the submitter's SUBMIT_TOKEN.
  const token = str(args, 'token', process.env.FAULTLINES_RUNNER_TOKEN ?? process.env.RUNNER_TOKEN ?? '');
  if (typeof args.token === 'string' && !isDeno())
    log(
      'warning: --token puts the runner token on the command line, where any user of this machine can read it (ps); set $FAULTLINES_RUNNER_TOKEN instead',
    );
  if (!api || !token)
    throw new Error(
      '--api URL and --token T (or $FAULTLINES_API, $FAULTLINES_RUNNER_TOKEN / $RUNNER_TOKEN) are required',
    );
  const leaseMs = int(args, 'lease-ms', 120_000);
  const drainMs = int(args, 'drain-s', 60) * 1000;
  let stopping = () => false;
  // Transient edge failures are retried for at least a lease: a restarting edge (21 s measured)
  // must not cost a computed shard its result or an attempt.
  const client = new EdgeClient(api, token, { log, retryForMs: Math.max(30_000, leaseMs), giveUp: () => stopping() });
  // The computation runs in a thread of its own (src/gpu-runner/compute-worker.ts), where the
  // backend is chosen and initialised; this thread keeps leases, heartbeats and signals.
  const runner = new Runner(client, () => ComputeThread.start(backend, client, log), {
    name,
    leaseMs,
    heartbeatMs: int(args, 'heartbeat-ms', Math.max(500, Math.min(15_000, Math.floor(leaseMs / 4)))),
    batchSize: Math.max(1, int(args, 'batch', 64)),
    pollMs: int(args, 'poll-ms', 2000),
    drainMs,
    exitWhenIdle: args['exit-when-idle'] === true,
    maxShards: int(args, 'max-shards', 0),
    kinds: kindsOf(args),
    log,
  });
  stopping = () => runner.isStopping;
  const deadline = shutdownDeadline(log);
  onSignal((sig) => {
    deadline(runner.isStopping ? SHUTDOWN_BOUND_MS : drainMs + SHUTDOWN_BOUND_MS);
    runner.stop(sig);
  });
  watchParent((why) => {
    deadline(SHUTDOWN_BOUND_MS);
    runner.stop(why);
    runner.stop(why); // the launcher is gone: release at once rather than drain
  });
  const info = await runner.ready();
  log(`runner ${name} (pid ${process.pid}, ${info.backend} on ${info.runtime}) polling ${api}`);
  await runner.run();
  return 0;
}

/**
 * The hard stop behind the runner's shutdown bound: `arm(ms)` makes the process exit (status 1)
 * `ms` from now unless it has exited by then (an earlier deadline wins). The runner's own shutdown
 * settles the lease well inside it; this covers whatever could hang (a request the edge never
 * answers), after which an unreleased lease simply expires.
 */
function shutdownDeadline(log: (line: string) => void): (ms: number) => void {
  let at = Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (ms) => {
    if (Date.now() + ms >= at) return;
    at = Date.now() + ms;
    clearTimeout(timer);
    timer = setTimeout(() => {
      log(`shutdown did not finish within its bound; exiting now (an unreleased lease expires by itself)`);
      process.exit(1);
    }, ms);
    (timer as unknown as { unref?: () => void }).unref?.();
  };
}

async function sweepCommand(args: Args, argv: string[]): Promise<number> {
  const log = stamp('sweep');
  const backend = backendOf(args, 'wasm');
  const relaunched = relaunchInDeno(backend, args, argv, log);
  if (relaunched) return relaunched;
  // A sweep started by a test or a benchmark ends with it, even one SIGKILLed on timeout.
  watchParent((why) => {
    log(`${why}: stopping the sweep`);
    process.exit(1);
  });
  const info = await initBackend(backend, log);
  const count = int(args, 'count', 256);
  const start = int(args, 'start', 0);
  const end = int(args, 'end', count);
  const models = localModels(str(args, 'assets', 'dist/edge-assets'), args.classifier);
  const batchSize = Math.max(1, int(args, 'batch', 64));
  // Warm-up batch (shader compilation, wasm start) outside the timing.
  const warm = int(args, 'warmup', 1);
  if (warm > 0)
    await shardSweep(
      models,
      { seed: int(args, 'seed', 1), count, classIndex: null },
      start,
      Math.min(end, start + batchSize),
      batchSize,
    );
  const t0 = performance.now();
  const sums = await shardSweep(models, { seed: int(args, 'seed', 1), count, classIndex: null }, start, end, batchSize);
  const seconds = (performance.now() - t0) / 1000;
  const out = {
    backend: info.backend,
    runtime: info.runtime,
    adapter: info.adapter,
    fallback: info.fallback,
    batchSize,
    samples: end - start,
    seconds,
    samplesPerSecond: (end - start) / seconds,
    sums,
  };
  log(
    `${info.backend} on ${info.runtime}: ${end - start} samples in ${seconds.toFixed(2)} s = ${out.samplesPerSecond.toFixed(1)} samples/s`,
  );
  if (typeof args.out === 'string') writeFileSync(args.out, JSON.stringify(out));
  return 0;
}

async function main(): Promise<number> {
  const argv = isDeno() ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2);
  const { command, args } = parseCommandLine(argv);
  if (command === 'run') return runCommand(args, argv);
  if (command === 'sweep') return sweepCommand(args, argv);
  throw new Error(`unknown command "${command}" (run | sweep)`);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`runner: ${(e as Error).stack ?? e}`);
    process.exit(2);
  },
);
