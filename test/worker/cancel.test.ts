/**
 * Cancelling a job (DELETE /v1/jobs/{id}, submitter token) in each of its states: queued, running
 * (a runner's lease is answered 409 job-cancelled at its next heartbeat and completion, nothing
 * partial is published), failed, and done (refused: its result is published). Cancelling twice is
 * harmless, and a cancelled job submitted again is computed afresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_TOKEN, SUBMIT_AUTH, problemOf, recordLease, startEdge, withLease, type EdgeServer } from './harness.js';
import { shardSums } from '../runner/helpers.js';

let edge: EdgeServer;
const runnerAuth = { authorization: `Bearer ${RUNNER_TOKEN}` };

beforeAll(async () => {
  edge = await startEdge();
}, 600_000);
afterAll(async () => {
  await edge?.close();
});

async function runnerCall(path: string, body: Record<string, unknown>): Promise<Response> {
  return edge.fetch(path, {
    method: 'POST',
    headers: { ...runnerAuth, 'content-type': 'application/json' },
    body: JSON.stringify(withLease(path, body)),
  });
}

async function lease(runner: string): Promise<any | null> {
  const res = await runnerCall('/v1/runner/lease', { runner, leaseMs: 60_000 });
  if (res.status === 204) return null;
  const body = await res.json();
  recordLease(runner, body as never);
  return body;
}

async function submit(seed: number, count: number, shardSize = 16): Promise<any> {
  const res = await edge.fetch('/v1/jobs', {
    method: 'POST',
    headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'ranking-sums', seed, count, shardSize }),
  });
  expect(res.status).toBe(202);
  return res.json();
}

const cancel = (id: string, headers: Record<string, string> = SUBMIT_AUTH) =>
  edge.fetch(`/v1/jobs/${id}`, { method: 'DELETE', headers });

describe('DELETE /v1/jobs/{id}', () => {
  it('cancels a queued job: nothing leasable, twice harmless, resubmitting computes it afresh', async () => {
    const { job } = await submit(801, 48);
    expect((await cancel(job.id, {})).status).toBe(401);
    expect((await problemOf(await cancel(job.id, runnerAuth))).status).toBe(403);
    const first = await cancel(job.id);
    expect(first.status).toBe(200);
    const body = (await first.json()) as any;
    expect(body).toMatchObject({
      cancelled: true,
      job: { id: job.id, status: 'cancelled', shards: { total: 3, queued: 0, running: 0 } },
    });
    expect(body.job.error).toMatch(/cancelled by its submitter/);
    expect(await lease('cancel-q')).toBeNull();
    // Twice: the same job, nothing changed.
    const again = (await (await cancel(job.id)).json()) as any;
    expect(again).toMatchObject({ cancelled: false, job: { id: job.id, status: 'cancelled' } });
    expect((await (await edge.fetch(`/v1/jobs/${job.id}`)).json()) as any).toMatchObject({ status: 'cancelled' });
    expect((await problemOf(await edge.fetch(`/v1/jobs/${job.id}/result`))).type).toBe('/problems/job-cancelled');
    // Submitted again: a new job, queued, leasable.
    const redo = await submit(801, 48);
    expect(redo.created).toBe(true);
    expect(redo.job.id).not.toBe(job.id);
    expect(redo.job).toMatchObject({ status: 'queued', shards: { total: 3, queued: 3 } });
    expect((await lease('cancel-q')).id).toBe(redo.job.id);
    expect((await cancel(redo.job.id)).status).toBe(200);
  });

  it('cancels a running job: the lease holder is told at its next heartbeat and completion, nothing is published', async () => {
    const { job } = await submit(802, 32);
    const l0 = await lease('cancel-r');
    const l1 = await lease('cancel-r');
    expect([l0.shard.index, l1.shard.index]).toEqual([0, 1]);
    // One shard finished before the cancel: its partial sums must not be published.
    const done0 = await runnerCall(`/v1/runner/jobs/${job.id}/complete`, {
      runner: 'cancel-r',
      shard: 0,
      payload: shardSums(edge.catalog, l0.spec, 0, 16),
    });
    expect(done0.status).toBe(200);
    expect(((await done0.json()) as any).status).toBe('running');
    const res = await cancel(job.id);
    expect(((await res.json()) as any).job).toMatchObject({ status: 'cancelled', progress: { done: 0 } });
    const beat = await runnerCall(`/v1/runner/jobs/${job.id}/heartbeat`, {
      runner: 'cancel-r',
      shard: 1,
      done: 8,
      leaseMs: 60_000,
    });
    expect(beat.status).toBe(409);
    const p = await problemOf(beat);
    expect(p.type).toBe('/problems/job-cancelled');
    expect(p.detail).toMatch(/cancelled by its submitter: drop shard 1/);
    const late = await runnerCall(`/v1/runner/jobs/${job.id}/complete`, {
      runner: 'cancel-r',
      shard: 1,
      payload: shardSums(edge.catalog, l1.spec, 16, 32),
    });
    expect((await problemOf(late)).type).toBe('/problems/job-cancelled');
    for (const call of ['fail', 'release'] as const) {
      const r = await runnerCall(`/v1/runner/jobs/${job.id}/${call}`, {
        runner: 'cancel-r',
        shard: 1,
        ...(call === 'fail' ? { error: 'x' } : {}),
      });
      expect((await problemOf(r)).type, call).toBe('/problems/job-cancelled');
    }
    expect((await edge.fetch(`/v1/results/${job.key}`)).status).toBe(404);
    expect(await lease('cancel-r')).toBeNull();
  });

  it('cancels a failed job; refuses a done one, naming how to remove its result; 404 and 400 name the id', async () => {
    // Failed: a single shard whose last attempt failed.
    const { job } = await submit(803, 16);
    for (let attempt = 1; attempt <= 3; attempt++) {
      let l = await lease('cancel-f');
      for (let i = 0; l === null && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100));
        l = await lease('cancel-f');
      }
      expect(l.id).toBe(job.id);
      expect(
        (await runnerCall(`/v1/runner/jobs/${job.id}/fail`, { runner: 'cancel-f', shard: 0, error: 'device lost' }))
          .status,
      ).toBe(200);
    }
    expect((await (await edge.fetch(`/v1/jobs/${job.id}`)).json()) as any).toMatchObject({ status: 'failed' });
    expect(((await (await cancel(job.id)).json()) as any).job).toMatchObject({
      status: 'cancelled',
      shards: { dead: 0 },
    });
    const letters = (await (await edge.fetch('/v1/runner/dead-letter', { headers: runnerAuth })).json()) as any;
    expect(letters.shards.filter((s: any) => s.jobId === job.id)).toEqual([]);

    // Done: its result is published; cancel is refused and says how to remove it.
    const done = await submit(804, 16);
    const l = await lease('cancel-d');
    expect(
      (
        await runnerCall(`/v1/runner/jobs/${done.job.id}/complete`, {
          runner: 'cancel-d',
          shard: 0,
          payload: shardSums(edge.catalog, l.spec, 0, 16),
        })
      ).status,
    ).toBe(200);
    const refused = await problemOf(await cancel(done.job.id));
    expect(refused).toMatchObject({ status: 409, field: 'id' });
    expect(refused.detail).toContain(`DELETE /v1/results/${done.job.key}`);
    expect((await edge.fetch(`/v1/results/${done.job.key}`)).status).toBe(200);

    expect(await problemOf(await cancel('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      status: 404,
      field: 'id',
    });
    expect(await problemOf(await cancel('not-a-job'))).toMatchObject({ status: 400, field: 'id' });
  });
});
