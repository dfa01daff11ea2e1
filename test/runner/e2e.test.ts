/**
 * End to end, on the real worker bundle in workerd and real runner processes: a sweep submitted
 * through the public API is cut into shards, shared by a WebGPU runner (Deno on the machine's
 * adapter: lavapipe here) and a wasm runner (Node), merged on the edge and served as a cached
 * ranking equal to the same sweep computed in this process. Then the runner's own faults: a runner
 * that outlived its lease is refused, a runner with a bad token is refused, SIGTERM finishes or
 * releases the shard, a Deno runner whose launcher dies stops too. (The issue #8 fault scenarios,
 * a runner SIGKILLed mid-shard among them, are in faults.test.ts.)
 *
 * Tolerance (SCORE_RELATIVE_TOLERANCE in helpers.ts, also determinism.test.ts): each top-10 score,
 * and the score at each top-10 rank, within 1e-2 of the leading score of the in-process ranking
 * (float32 kernels summing in other orders); wasm shards vs the whole wasm sweep are exact up to float64 regrouping
 * of the per-shard sums (the lease test checks exact equality of a single-shard result).
 */
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_BUNDLE } from '../../src/gpu-runner/build.js';
import { rankDimensions, rankingSweep } from '../../src/core/analysis/ranking.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout, type StyleLayout } from '../../src/core/generator/style-layout.js';
import { useBackend } from '../../src/node/backend.js';
import { localModels } from '../../src/gpu-runner/local.js';
import { shardSweep } from '../../src/gpu-runner/sweep.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, startEdge, type EdgeServer } from '../worker/harness.js';
import {
  RunnerPool,
  SCORE_RELATIVE_TOLERANCE,
  commandLinesContaining,
  compareTopDims,
  ensureRunnerBuilt,
  watchJob,
} from './helpers.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';

let edge: EdgeServer;
let models: AnalysisModels;
let layout: StyleLayout;
const pool = new RunnerPool(() => edge);

/** Job submissions (the only POSTs here), with the submitter token. */
const post = async (p: string, body: unknown) =>
  (
    await edge.fetch(p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...SUBMIT_AUTH },
      body: JSON.stringify(body),
    })
  ).json() as Promise<any>;
const get = async (p: string) => (await edge.fetch(p)).json() as Promise<any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runner = (name: string, args: string[], token?: string) => pool.start(name, args, token);
/** Polls the job's public status until it is done; returns the progress snapshots seen. */
const watch = (statusUrl: string, timeoutMs: number) => watchJob(edge, statusUrl, timeoutMs, () => pool.tails());

beforeAll(async () => {
  [edge] = await Promise.all([startEdge(), ensureRunnerBuilt()]);
  await useBackend('wasm');
  models = localModels(edge.assets);
  layout = buildStyleLayout(GeneratorArchitectureSchema.parse(edge.catalog.generatorArchitecture));
});

// A runner left over from a failed test must not take the next test's jobs.
afterEach(async () => {
  await pool.stopAll();
});

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

describe('GPU runner end to end', () => {
  it('two runners (webgpu in Deno, wasm in Node) share a sweep; the cached ranking equals the in-process sweep', async () => {
    const sweep = { seed: 31, count: 256 };
    const sub = await post('/v1/jobs', { kind: 'ranking-sums', ...sweep, shardSize: 64 });
    expect(sub.job.shards.total).toBe(4);
    // The WebGPU runner first (its shaders take a while to compile on a software adapter), so it
    // holds a shard before the fast wasm runner empties the board.
    const gpu = runner('gpu-1', [
      '--backend',
      'webgpu',
      '--lease-ms',
      '60000',
      '--heartbeat-ms',
      '1000',
      '--batch',
      '32',
    ]);
    const adapter = await gpu.waitFor(/WebGPU adapter: (.*)/, 60_000);
    console.log(`webgpu runner adapter: ${adapter[1]}`);
    await gpu.waitFor(/backend webgpu on deno/, 60_000);
    await gpu.waitFor(/leased job/, 60_000);
    // The runner token is on no process's command line (Node launcher and Deno child alike).
    expect(commandLinesContaining(RUNNER_TOKEN)).toEqual([]);
    const cpu = runner('wasm-1', [
      '--backend',
      'wasm',
      '--lease-ms',
      '60000',
      '--heartbeat-ms',
      '500',
      '--batch',
      '32',
    ]);
    const seen = await watch(sub.statusUrl, 170_000);
    expect(seen.some((j) => j.status === 'running' && j.progress.done > 0 && j.progress.done < 256)).toBe(true);
    expect(
      seen.some((j) => j.progress.samplesPerSecond > 0 && j.progress.etaSeconds !== null),
      JSON.stringify(seen.map((j) => j.progress)),
    ).toBe(true);

    const result = await get(`${sub.statusUrl}/result`);
    const backends = new Map(result.computed.shards.map((s: any) => [s.runner, s.backend]));
    expect(backends.get(runnerPseudonym('gpu-1'))).toBe('webgpu');
    expect(backends.get(runnerPseudonym('wasm-1'))).toBe('wasm');
    expect(result.computed.shards.find((s: any) => s.runner === runnerPseudonym('gpu-1')).softwareAdapter).toBe(true);

    const served = await get(`/v1/rankings?seed=${sweep.seed}&count=${sweep.count}&top=10`);
    const local = rankDimensions(await rankingSweep(models, { ...sweep, classIndex: null }), layout);
    expect(served.payload.count).toBe(256);
    const { worstScore, worstOrder } = compareTopDims(local, served.payload);
    console.log(
      `edge (webgpu + wasm shards) vs in-process wasm: worst top-10 score difference ` +
        `${worstScore.toExponential(2)} of the leading score, order gap ${worstOrder.toExponential(2)}`,
    );
    expect(worstScore).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
    expect(worstOrder).toBeLessThan(SCORE_RELATIVE_TOLERANCE);

    // Idle runners stop cleanly on SIGTERM (the Deno one through its Node launcher).
    for (const r of [gpu, cpu]) r.child.kill('SIGTERM');
    expect((await gpu.exited).code).toBe(0);
    expect((await cpu.exited).code).toBe(0);
  });

  it('a runner that outlived its lease is not accepted; the new holder completes the shard', async () => {
    const spec = { seed: 34, count: 96 };
    const sub = await post('/v1/jobs', { kind: 'ranking-sums', ...spec, shardSize: 96 });
    // `late` stalls (SIGSTOP) past its 1 s lease: the shard is leased again to `second`, which
    // completes it; `late` then resumes, and its result is refused.
    const late = runner('late', [
      '--backend',
      'wasm',
      '--lease-ms',
      '1000',
      '--heartbeat-ms',
      '600000',
      '--batch',
      '8',
    ]);
    await late.waitFor(/ 8\/96 samples/, 60_000);
    late.child.kill('SIGSTOP');
    await sleep(1100);
    const second = runner('second', ['--backend', 'wasm', '--lease-ms', '60000']);
    await watch(sub.statusUrl, 60_000);
    late.child.kill('SIGCONT');
    await late.waitFor(/not accepted, the lease is gone|lease lost/, 60_000);
    const shards = (await get(`/v1/jobs/${sub.job.id}/shards`)).shards;
    expect(shards[0]).toMatchObject({ status: 'done', completedBy: runnerPseudonym('second'), attempts: 2 });
    expect((await get(`${sub.statusUrl}/result`)).payload).toEqual(
      await shardSweep(models, { ...spec, classIndex: null }, 0, 96, 64),
    );
    for (const r of [late, second]) r.child.kill('SIGTERM');
    await Promise.all([late.exited, second.exited]);
  });

  it('SIGTERM mid-shard finishes the shard when it fits in the drain time', async () => {
    const sub = await post('/v1/jobs', { kind: 'ranking-sums', seed: 35, count: 64, shardSize: 64 });
    const r = runner('finisher', ['--backend', 'wasm', '--lease-ms', '60000', '--batch', '8', '--drain-s', '60']);
    await r.waitFor(/ 8\/64 samples/, 60_000);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(r.output()).toMatch(/completed in/);
    expect((await get(sub.statusUrl)).status).toBe('done');
  });

  it('--backend auto never runs jobs on a software WebGPU adapter: it says so and uses wasm', async () => {
    const r = runner('auto-1', ['--backend', 'auto']);
    const adapter = await r.waitFor(/WebGPU adapter: (.*)/, 60_000);
    if (/SOFTWARE/.test(adapter[1])) {
      await r.waitFor(/is a software one.*using the wasm backend/, 60_000);
      const started = await r.waitFor(/\(pid \d+, (\w+) on [^)]+\) polling/, 60_000);
      expect(started[1]).toBe('wasm');
      expect(r.output()).not.toMatch(/backend webgpu on/);
    } else expect(r.output()).toMatch(/hardware GPU/);
    r.child.kill('SIGTERM');
    await r.exited;
  });

  it('a runner with a bad token is refused and exits', async () => {
    const intruder = runner('intruder', ['--backend', 'wasm'], 'not-the-token');
    const { code } = await intruder.exited;
    expect(code).toBe(2);
    expect(intruder.output()).toMatch(/refused this runner.*HTTP 401/);
  });

  it('a Deno runner stops by itself when its Node launcher is SIGKILLed (no orphan keeps leasing)', async () => {
    const r = runner('orphan', ['--backend', 'webgpu']);
    const pid = Number((await r.waitFor(/\(pid (\d+), webgpu on deno/, 60_000))[1]);
    expect(pid).not.toBe(r.child.pid);
    r.child.kill('SIGKILL');
    await r.exited;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && alive(); i++) await sleep(100);
    expect(alive()).toBe(false);
  });

  it('runners die with the process that started them, even SIGKILLed (a test run killed on timeout)', async () => {
    // An intermediate parent (standing in for a vitest worker) starts a Node runner and a Deno one
    // with FAULTLINES_RUNNER_PARENT set to itself, prints their pids, and is SIGKILLed.
    const script =
      `
      const { spawn } = require('node:child_process');
      const env = { ...process.env, FAULTLINES_RUNNER_PARENT: String(process.pid), FAULTLINES_RUNNER_TOKEN: ${JSON.stringify(RUNNER_TOKEN)} };
      for (const b of ['wasm', 'webgpu']) {
        const c = spawn(process.execPath, [${JSON.stringify(RUNNER_BUNDLE)}, 'run', '--name', 'orphan-' + b, '--api', ` +
      `${JSON.stringify(edge.url.origin)}, '--backend', b, '--poll-ms', '300'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        c.stdout.on('data', (d) => process.stdout.write(d));
      }
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const pids = async () => {
      for (let i = 0; i < 600; i++) {
        const found = [...out.matchAll(/\(pid (\d+), \w+ on (node|deno)/g)].map((m) => Number(m[1]));
        if (found.length >= 2) return found;
        await sleep(100);
      }
      throw new Error(`runners did not start: ${out.slice(-2000)}`);
    };
    const runnersPids = await pids();
    parent.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 150 && runnersPids.some(alive); i++) await sleep(100);
    expect(runnersPids.filter(alive)).toEqual([]);
  });

  it('SIGTERM mid-shard releases the lease when the shard cannot finish in the drain time', async () => {
    const sub = await post('/v1/jobs', { kind: 'ranking-sums', seed: 33, count: 1024, shardSize: 1024 });
    const r = runner('drainer', ['--backend', 'wasm', '--lease-ms', '60000', '--batch', '8', '--drain-s', '0']);
    await r.waitFor(/ 16\/1024 samples/, 60_000);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(r.output()).toMatch(/lease released \(shutdown\)/);
    const shards = (await get(`/v1/jobs/${sub.job.id}/shards`)).shards;
    expect(shards[0]).toMatchObject({ status: 'queued', attempts: 0, lease: null });
  });
});
