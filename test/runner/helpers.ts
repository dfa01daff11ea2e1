/**
 * Runner processes for the tests: the bundled runner (dist/gpu-runner/runner.mjs) started in Node
 * (wasm) or, through its own Deno re-launch, in Deno on WebGPU (lavapipe here). Output is kept so a
 * test can wait for a log line.
 */
import { populationSpecHash } from '../../src/core/analysis/population.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { loadDigits } from '../../src/node/mnist.js';
import { buildRunner, RUNNER_BUNDLE } from '../../src/gpu-runner/build.js';
import type { Catalog } from '../../src/protocol/catalog.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import type { RankingSums } from '../../src/core/analysis/ranking.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import { shardSweep } from '../../src/gpu-runner/sweep.js';
import { RUNNER_TOKEN } from '../worker/harness.js';

/**
 * Tolerance between backends (and between sharded and whole sweeps), relative to the leading
 * |score| of the reference ranking: every top-10 dim's score within it, and the top-10 order the
 * same up to near-ties (the reference |score| at each rank within it too; dims rank by |score|).
 *
 * Why relative to the leading score rather than per dim: a dim whose mean gradient is a small
 * difference of large per-sample terms amplifies float32 rounding (other summation orders, fused
 * kernels), and a sharp softmax makes it worse: a few samples near the decision boundary carry most
 * of the gradient. Measured here (seed 7, 128 samples, wasm and webgpu on lavapipe vs cpu):
 * 5.5e-5 of the leading score with the generator checkpoint at iteration 6,099, and 4.5e-3 with the
 * committed generator (iteration 10,128; wasm vs cpu, where two dims tied at |score| 1.125e-2 swap
 * ranks). That difference is 0.6% of the leading dim's standard error (its score 2.05e-2 +- 1.48e-2
 * at 128 samples): backends disagree far less than two seeds do. 1e-2 keeps a margin; a wrong
 * gradient moves scores by tens of percent.
 */
export const SCORE_RELATIVE_TOLERANCE = 1e-2;

/** What tests compare between two rankings (see SCORE_RELATIVE_TOLERANCE). */
export interface TopDimsAgreement {
  /** Largest |score difference| of a reference top-k dim, over the leading reference |score|. */
  worstScore: number;
  /** Largest ||reference score at rank r| - |reference score of the other's rank-r dim||, same scale. */
  worstOrder: number;
}

/** Compares the top-k of `other` with the reference ranking `ref` (any objects with dims of index and score). */
export function compareTopDims(
  ref: { dims: ReadonlyArray<{ index: number; score: number }> },
  other: { dims: ReadonlyArray<{ index: number; score: number }> },
  k = 10,
): TopDimsAgreement {
  const scale = Math.abs(ref.dims[0].score);
  const refScore = new Map(ref.dims.map((d) => [d.index, d.score]));
  const otherScore = new Map(other.dims.map((d) => [d.index, d.score]));
  let worstScore = 0;
  let worstOrder = 0;
  for (let r = 0; r < k; r++) {
    const d = ref.dims[r];
    const o = otherScore.get(d.index);
    worstScore = Math.max(worstScore, o === undefined ? Infinity : Math.abs(o - d.score) / scale);
    const atRank = refScore.get(other.dims[r].index);
    worstOrder = Math.max(
      worstOrder,
      atRank === undefined ? Infinity : Math.abs(Math.abs(atRank) - Math.abs(d.score)) / scale,
    );
  }
  return { worstScore, worstOrder };
}

let bundle: Promise<string> | null = null;
export function ensureRunnerBuilt(): Promise<string> {
  bundle ??= buildRunner();
  return bundle;
}

export interface RunnerProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `env`: variables added to the runner's environment (test hooks such as FAULTLINES_TEST_BATCH_STALL_MS). */
export function startRunner(
  args: string[],
  name: string,
  token?: string,
  env: Record<string, string> = {},
): RunnerProcess {
  // Its own process group, so cleanup also reaches a Deno child (see stopRunner). The token goes in
  // the environment, as the README says to: never on a command line (`ps` shows those to everyone).
  // The runner stops when this process dies, whatever kills it (a test run killed on timeout).
  const childEnv = {
    ...process.env,
    ...env,
    FAULTLINES_RUNNER_PARENT: String(process.pid),
    ...(token === undefined ? {} : { FAULTLINES_RUNNER_TOKEN: token }),
  };
  const child = spawn(process.execPath, [RUNNER_BUNDLE, 'run', '--name', name, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: childEnv,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    name,
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            clearTimeout(t);
            resolve(m);
          } else if (done) {
            listeners.delete(check);
            clearTimeout(t);
            reject(new Error(`runner ${name} exited before ${pattern}:\n${out.slice(-3000)}`));
          }
        };
        const t = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`runner ${name}: no ${pattern} within ${timeoutMs} ms:\n${out.slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Kills a runner and anything it started (its process group), if still running. */
export async function stopRunner(r: RunnerProcess | undefined): Promise<void> {
  if (!r) return;
  if (r.child.exitCode !== null || r.child.signalCode !== null) {
    try {
      process.kill(-r.child.pid!, 'SIGKILL'); // a Deno child outliving its launcher
    } catch {
      /* group gone */
    }
    return;
  }
  try {
    process.kill(-r.child.pid!, 'SIGKILL');
  } catch {
    r.child.kill('SIGKILL');
  }
  await r.exited;
}

/** Runner processes started against one edge by a test file; `stopAll()` in afterEach/afterAll. */
export class RunnerPool {
  readonly started: RunnerProcess[] = [];

  /** `edge` is read at each start (the edge is usually created in beforeAll). */
  constructor(private readonly edge: () => { url: URL }) {}

  /** A runner polling every 300 ms with `args` (backend, lease, batch, ...) added. */
  start(name: string, args: string[], token = RUNNER_TOKEN, env: Record<string, string> = {}): RunnerProcess {
    const r = startRunner(['--api', this.edge().url.origin, '--poll-ms', '300', ...args], name, token, env);
    this.started.push(r);
    return r;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map(stopRunner));
  }

  /** The end of every runner's output, for a failure message. */
  tails(chars = 2000): string {
    return this.started.map((r) => `--- ${r.name}\n${r.output().slice(-chars)}`).join('\n');
  }
}

/**
 * Polls a job's public status until it is `want` (default done; the other final status throws, as
 * does the timeout, with `context()` in the message); returns the snapshots seen.
 */
export async function watchJob(
  edge: { fetch(pathname: string): Promise<Response> },
  statusUrl: string,
  timeoutMs: number,
  context: () => string = () => '',
  want: 'done' | 'failed' = 'done',
): Promise<any[]> {
  const seen: any[] = [];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await edge.fetch(statusUrl)).json()) as any;
    seen.push(job);
    if (job.status === want) return seen;
    if (job.status === 'failed' || job.status === 'done')
      throw new Error(`job ${job.status}${job.error ? `: ${job.error}` : ''} (waiting for ${want})\n${context()}`);
    if (Date.now() > until)
      throw new Error(`job not ${want} after ${timeoutMs} ms: ${JSON.stringify(job)}\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The shard results of a clean run of a sharded job, computed in this process: every shard swept
 * as an uninterrupted runner sweeps it (`shardSweep` with the runners' batch size). Merged with
 * `mergeRankingSums`, as the edge merges them, they are the job's clean result; runners on wasm
 * reproduce it bit for bit.
 */
export async function cleanRunShards(
  models: AnalysisModels,
  spec: { seed: number; count: number },
  shardSize: number,
  batchSize: number,
): Promise<RankingSums[]> {
  const parts: RankingSums[] = [];
  for (let start = 0; start < spec.count; start += shardSize) {
    parts.push(
      await shardSweep(
        models,
        { seed: spec.seed, count: spec.count, classIndex: null },
        start,
        Math.min(spec.count, start + shardSize),
        batchSize,
      ),
    );
  }
  return parts;
}

/** The spec hash a job's shard results must carry (models + population). */
export function jobSpecHash(spec: { generatorId: string; classifierId: string; seed: number; count: number }): string {
  // The core's own hash (models, the edge's noise, population), as a runner computes it.
  return populationSpecHash(
    { generatorId: spec.generatorId, classifierId: spec.classifierId },
    { seed: spec.seed, count: spec.count, classIndex: null },
  );
}

/** Synthetic but well-formed shard sums for samples [start, end) of a job (no model needed). */
export function shardSums(
  catalog: Catalog,
  spec: { generatorId: string; classifierId: string; seed: number; count: number },
  start: number,
  end: number,
) {
  const S = buildStyleLayout(GeneratorArchitectureSchema.parse(catalog.generatorArchitecture)).size;
  const K = 10;
  const count = new Array<number>(K).fill(0);
  for (let i = start; i < end; i++) count[i % K]++;
  const v = (i: number, a: number) => Math.sin(i * a + start) * 0.01;
  // Entry i = c * S + j sums the n(i) samples of class c (so sum^2 <= n * sum of squares holds).
  const n = (i: number) => count[Math.floor(i / S)];
  return {
    schema: 'faultlines.ranking-sums/1',
    specHash: jobSpecHash(spec),
    ranges: [[start, end]] as Array<[number, number]>,
    styleSize: S,
    numClasses: K,
    count,
    correct: count.map((c) => Math.floor(c * 0.9)),
    gradSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) * n(i)),
    gradSqSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) ** 2 * n(i) + 1e-4),
    styleSum: Array.from({ length: S * K }, (_, i) => v(i, 0.3) * n(i)),
    styleSqSum: Array.from({ length: S * K }, (_, i) => (v(i, 0.3) ** 2 + 0.25) * n(i)),
  };
}

/** Lease tokens of runner calls (kept in the worker harness, shared by the edge and runner tests). */
export { recordLease, withLease } from '../worker/harness.js';

/** Processes (pid: command line) whose command line contains `text` (Linux /proc). */
export function commandLinesContaining(text: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text)) out.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * Real test digit 5006 of the corrupted split (a 0 that classifier-clean misreads) as a grey 32x32
 * PNG: the image the explain tests post and give the CLI. Reading the split takes seconds, so call it
 * before starting the edge (an idle connection to workerd may be closed meanwhile).
 */
export function explainTestDigit(): { bytes: Uint8Array; label: number } {
  const set = loadDigits('test', 'corrupted');
  const pixels = Uint8Array.from(set.images.subarray(5006 * 1024, 5007 * 1024), (v) => Math.round(v * 255));
  return { bytes: encode({ width: 32, height: 32, channels: 1, depth: 8, data: pixels }), label: set.labels[5006] };
}
