/**
 * One board per job, leases routed by the job index (src/worker/jobs/job-index.ts): a lease skips
 * jobs whose every shard is leased without asking their boards (the `x-board-cost` header counts
 * every statement of the index and of each board asked: counts, not times), a release or a retry
 * wakes a job the index skips, and GET /v1/jobs/{id}/shards pages through a job's shards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOARD_COST_HEADER } from '../../src/protocol/job.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, problemOf, recordLease, startEdge, withLease, type EdgeServer } from './harness.js';

let edge: EdgeServer;
const auth = { authorization: `Bearer ${RUNNER_TOKEN}`, 'content-type': 'application/json' };

beforeAll(async () => {
  edge = await startEdge();
}, 600_000);
afterAll(async () => {
  await edge?.close();
});

interface Cost {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

async function lease(runner: string): Promise<{ status: number; body: any; cost: Cost | null }> {
  const res = await edge.fetch('/v1/runner/lease', {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ runner, leaseMs: 60_000 }),
  });
  const m = /^statements=(\d+); rows-read=(\d+); rows-written=(\d+)$/.exec(res.headers.get(BOARD_COST_HEADER) ?? '');
  const body = res.status === 204 ? null : ((await res.json()) as any);
  if (res.status === 200) recordLease(runner, body);
  const cost = m ? { statements: Number(m[1]), rowsRead: Number(m[2]), rowsWritten: Number(m[3]) } : null;
  return { status: res.status, body, cost };
}

const runnerCall = (path: string, body: Record<string, unknown>) =>
  edge.fetch(path, { method: 'POST', headers: auth, body: JSON.stringify(withLease(path, body)) });

async function submit(seed: number, count: number): Promise<any> {
  const res = await edge.fetch('/v1/jobs', {
    method: 'POST',
    headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'ranking-sums', seed, count, shardSize: 16 }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as any).job;
}

const cancel = (id: string) => edge.fetch(`/v1/jobs/${id}`, { method: 'DELETE', headers: SUBMIT_AUTH });

describe('the job index', () => {
  it('skips jobs whose every shard is leased without asking their boards', async () => {
    // Baseline: the lease of a lone open job (a new runner name: its contact row is inserted).
    const lone = await submit(900, 16);
    const base = await lease('index-base');
    expect(base.body.id).toBe(lone.id);
    expect((await cancel(lone.id)).status).toBe(200);

    // Twenty one-shard jobs, every shard leased: then one lease finds nothing (asking each board,
    // which answers when its shard frees up) and the index marks them busy.
    const busy: string[] = [];
    for (let i = 0; i < 20; i++) busy.push((await submit(901 + i, 16)).id);
    for (let i = 0; i < 20; i++) expect((await lease('index-holder')).body.id).toBe(busy[i]);
    expect((await lease('index-holder')).status).toBe(204);

    // A newer job behind the twenty busy ones: its lease asks only its own board.
    const fresh = await submit(950, 16);
    const after = await lease('index-after');
    expect(after.body.id).toBe(fresh.id);
    // Asking twenty boards would run at least 5 statements on each (the lone lease's board alone
    // runs more): the same statements as the lone lease, and one index entry read per job skipped
    // (the index's scan of the open jobs; measured: 21 for 20, one more row of the scan's range), is
    // what skipping them costs.
    expect(after.cost!.statements, JSON.stringify({ base: base.cost, after: after.cost })).toBe(base.cost!.statements);
    expect(after.cost!.rowsWritten).toBe(base.cost!.rowsWritten);
    expect(after.cost!.rowsRead - base.cost!.rowsRead).toBeLessThanOrEqual(busy.length + 2);
    for (const id of [...busy, fresh.id]) expect((await cancel(id)).status).toBe(200);
  });

  it('is woken by a release at once, and by a failure when its backoff ends', async () => {
    // Two shards, both leased: the job stays running throughout (a job whose status changes tells
    // the index anyway), so only the wake can make the index ask its board again.
    const job = await submit(960, 32);
    expect((await lease('wake-a')).body).toMatchObject({ id: job.id, shard: { index: 0 } });
    expect((await lease('wake-c')).body).toMatchObject({ id: job.id, shard: { index: 1 } });
    // Nothing for b, and the index now skips the job until the first lease expires (60 s).
    expect((await lease('wake-b')).status).toBe(204);
    expect((await runnerCall(`/v1/runner/jobs/${job.id}/release`, { runner: 'wake-a', shard: 0 })).status).toBe(200);
    // Released: leasable at once, not when the skipped lease would have expired.
    const second = await lease('wake-b');
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: job.id, status: 'running', shard: { index: 0 } });

    expect((await lease('wake-a')).status).toBe(204);
    const failed = await runnerCall(`/v1/runner/jobs/${job.id}/fail`, {
      runner: 'wake-b',
      shard: 0,
      error: 'device lost',
    });
    expect(failed.status).toBe(200);
    const view = (await failed.json()) as any;
    expect(view.status).toBe('running');
    const retryAt = Date.parse(view.retryAt);
    // In backoff (1 s): not yet; once it has passed, leased again (long before the 60 s lease of
    // shard 1 expires, which is all the index would otherwise wait for).
    expect((await lease('wake-a')).status).toBe(204);
    await new Promise((r) => setTimeout(r, Math.max(0, retryAt - Date.now()) + 300));
    const third = await lease('wake-a');
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ id: job.id, shard: { index: 0, failures: 1 } });
    expect((await cancel(job.id)).status).toBe(200);
  });
});

describe('GET /v1/jobs/{id}/shards', () => {
  it('pages through every shard once, in index order', async () => {
    const job = await submit(970, 40 * 16);
    expect(job.shards.total).toBe(40);
    const pages: any[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor === null ? '?limit=16' : `?limit=16&cursor=${cursor}`;
      const res = await edge.fetch(`/v1/jobs/${job.id}/shards${q}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as any;
      pages.push(page);
      cursor = page.next;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.shards.length)).toEqual([16, 16, 8]);
    expect(pages.map((p) => p.next)).toEqual(['15', '31', null]);
    const all = pages.flatMap((p) => p.shards);
    expect(all.map((s: any) => s.index)).toEqual([...Array(40).keys()]);
    expect(all.map((s: any) => [s.start, s.end])).toEqual([...Array(40).keys()].map((i) => [i * 16, i * 16 + 16]));
    // The default page holds them all here (100).
    const whole = (await (await edge.fetch(`/v1/jobs/${job.id}/shards`)).json()) as any;
    expect(whole).toMatchObject({ jobId: job.id, next: null });
    expect(whole.shards).toEqual(all);
    expect((await cancel(job.id)).status).toBe(200);
  });

  it('refuses a bad cursor or limit naming the field, and an unknown job with 404', async () => {
    const job = await submit(971, 32);
    for (const [q, field] of [
      ['?cursor=abc', 'cursor'],
      ['?cursor=-1', 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
    ]) {
      const p = await problemOf(await edge.fetch(`/v1/jobs/${job.id}/shards${q}`));
      expect(p.status, q).toBe(400);
      expect(JSON.stringify(p), q).toContain(field);
    }
    const missing = await edge.fetch('/v1/jobs/00000000-0000-4000-8000-000000000000/shards');
    expect((await problemOf(missing)).status).toBe(404);
    expect((await cancel(job.id)).status).toBe(200);
  });
});
