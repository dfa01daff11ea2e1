/**
 * Runner processes for the tests: the bundled runner (dist/gpu-runner/runner.mjs) started in Node
 * (wasm) or, through its own Deno re-launch, in Deno on WebGPU (lavapipe here). Output is kept so a
 * test can wait for a log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { buildRunner, RUNNER_BUNDLE } from '../../src/gpu-runner/build.js';
import { contentHash } from '../../src/core/hash.js';
import type { Catalog } from '../../src/worker/catalog.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';

/**
 * Tolerance between backends (and between sharded and whole sweeps): the same top-10 order, and
 * top-10 scores within this relative difference. Measured here, webgpu on lavapipe vs wasm/cpu:
 * 1e-6 (seed 1, 128 samples) to 2.3e-4 (seed 31, 256 samples) with an early generator checkpoint,
 * and 1.13e-3 (webgpu vs cpu, seed 7, 128 samples) with a better-trained one (iteration 4,749),
 * whose sharper softmax amplifies float32 rounding differences of GPU reductions. 3e-3 keeps a
 * margin over that; cpu vs wasm stays within the core's 1e-3 (test/analysis.test.ts).
 */
export const SCORE_RELATIVE_TOLERANCE = 3e-3;

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

export function startRunner(args: string[], name: string): RunnerProcess {
  // Its own process group, so cleanup also reaches a Deno child (see stopRunner).
  const child = spawn(process.execPath, [RUNNER_BUNDLE, 'run', '--name', name, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => {
    for (const l of listeners) l();
    resolve({ code, signal });
  }));
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

/** The spec hash a job's shard results must carry (models + population). */
export function jobSpecHash(spec: { generatorId: string; classifierId: string; seed: number; count: number }): string {
  return contentHash({ kind: 'population', generator: spec.generatorId, classifier: spec.classifierId, seed: spec.seed, count: spec.count, classIndex: null });
}

/** Synthetic but well-formed shard sums for samples [start, end) of a job (no model needed). */
export function shardSums(catalog: Catalog, spec: { generatorId: string; classifierId: string; seed: number; count: number }, start: number, end: number) {
  const S = buildStyleLayout(GeneratorArchitectureSchema.parse(catalog.generatorArchitecture)).size;
  const K = 10;
  const count = new Array<number>(K).fill(0);
  for (let i = start; i < end; i++) count[i % K]++;
  const v = (i: number, a: number) => Math.sin(i * a + start) * 0.01;
  return {
    schema: 'faultlines.ranking-sums/1',
    specHash: jobSpecHash(spec),
    ranges: [[start, end]] as Array<[number, number]>,
    styleSize: S,
    numClasses: K,
    count,
    correct: count.map((n) => Math.floor(n * 0.9)),
    gradSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) * (end - start)),
    gradSqSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) ** 2 * (end - start) + 1e-4),
    styleSum: Array.from({ length: S * K }, (_, i) => v(i, 0.3) * (end - start)),
    styleSqSum: Array.from({ length: S * K }, (_, i) => (v(i, 0.3) ** 2 + 0.25) * (end - start)),
  };
}
