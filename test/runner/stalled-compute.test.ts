/**
 * Heartbeats and signals do not depend on the compute (issue 16.8): a runner whose every batch
 * blocks its compute thread synchronously for ten minutes (the test hook
 * $FAULTLINES_TEST_BATCH_STALL_MS, standing in for a software WebGPU adapter such as llvmpipe)
 * keeps its lease alive through heartbeats for several lease times, and on SIGTERM releases the
 * lease and exits within the stated bound (SHUTDOWN_BOUND_MS in src/gpu-runner/runner.ts) while
 * the batch is still mid-flight; the board then shows the shard queued again. Once on wasm in
 * Node (worker_threads), once on WebGPU in Deno (its Node launcher forwards the signal).
 *
 * What is asserted is outcomes (the lease never lapsed, no batch finished, the lease was released,
 * the process is gone); the only time in an assertion is the stated shutdown bound itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SHUTDOWN_BOUND_MS } from '../../src/gpu-runner/runner.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';
import { SUBMIT_AUTH, RUNNER_TOKEN, startEdge, type EdgeServer } from '../worker/harness.js';
import { RunnerPool, ensureRunnerBuilt } from './helpers.js';

let edge: EdgeServer;
const pool = new RunnerPool(() => edge);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const submit = async (body: unknown) =>
  (
    await edge.fetch('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...SUBMIT_AUTH },
      body: JSON.stringify(body),
    })
  ).json() as Promise<any>;
const shardsOf = async (id: string) =>
  ((await (await edge.fetch(`/v1/jobs/${id}/shards`)).json()) as any).shards as any[];
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Jobs submitted here: a shard released by one test is queued again and may be the next test's lease. */
const submitted: string[] = [];

/** Each batch blocks its thread this long: far past every wait below, so no batch ever ends. */
const STALL = { FAULTLINES_TEST_BATCH_STALL_MS: '600000' };
/** The lease the stalled runners ask for; each is watched for three of them. */
const LEASE_MS = 3000;

beforeAll(async () => {
  [edge] = await Promise.all([startEdge(), ensureRunnerBuilt()]);
}, 180_000);

afterEach(async () => {
  await pool.stopAll();
});

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

describe('a compute batch that blocks longer than the lease', () => {
  for (const [backend, seed] of [
    ['wasm', 61],
    ['webgpu', 62],
  ] as const) {
    it(`${backend}: heartbeats keep the lease while the batch blocks; SIGTERM releases it and the runner exits within the bound`, async () => {
      submitted.push((await submit({ kind: 'ranking-sums', seed, count: 32, shardSize: 32 })).job.id);
      const name = `stalled-${backend}`;
      const r = pool.start(
        name,
        ['--backend', backend, '--lease-ms', String(LEASE_MS), '--heartbeat-ms', '300', '--batch', '8'],
        RUNNER_TOKEN,
        STALL,
      );
      const pid = Number((await r.waitFor(/\(pid (\d+), (?:wasm|webgpu) on/, 120_000))[1]);
      const prefix = (await r.waitFor(/leased job (\w+)/, 60_000))[1];
      const leased = Date.now();
      const job = submitted.find((id) => id.startsWith(prefix))!;
      const first = (await shardsOf(job))[0];
      expect(first).toMatchObject({ status: 'running', attempts: 1, lease: { holder: runnerPseudonym(name) } });

      // Three lease times while the first batch blocks: the lease must never lapse (an expired
      // lease shows as queued at once) and must keep moving forward.
      let last = first;
      while (Date.now() - leased < 3 * LEASE_MS) {
        await sleep(250);
        last = (await shardsOf(job))[0];
        expect(last, `the lease lapsed while the batch blocked:\n${r.output().slice(-2000)}`).toMatchObject({
          status: 'running',
          attempts: 1,
          lease: { holder: runnerPseudonym(name) },
        });
      }
      expect(Date.parse(last.lease.expiresAt)).toBeGreaterThan(Date.parse(first.lease.expiresAt) + LEASE_MS);
      // The heartbeats went out while the batch was blocked: no batch ever finished.
      expect(r.output()).not.toMatch(/samples\/s, ETA/);

      const signalled = Date.now();
      r.child.kill('SIGTERM');
      // Waited for three times the bound, so that a runner ignoring the signal fails here, not at the test's timeout.
      const exit = await Promise.race([r.exited, sleep(3 * SHUTDOWN_BOUND_MS).then(() => null)]);
      const exitMs = Date.now() - signalled;
      expect(exit, `still running ${exitMs} ms after SIGTERM:\n${r.output().slice(-2000)}`).not.toBeNull();
      const code = exit!.code;
      console.log(`${backend}: exited ${exitMs} ms after SIGTERM with a batch blocked (bound ${SHUTDOWN_BOUND_MS} ms)`);
      expect(code, r.output().slice(-2000)).toBe(0);
      expect(r.output()).toMatch(/lease released \(shutdown\)/);
      expect(exitMs).toBeLessThan(SHUTDOWN_BOUND_MS);
      // The compute process (the Deno child for webgpu) is gone too, not orphaned mid-batch.
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      expect(alive(pid)).toBe(false);
      expect((await shardsOf(job))[0]).toMatchObject({ status: 'queued', attempts: 0, lease: null });
    }, 240_000);
  }
});
