/**
 * The job board's cost per call does not grow with a job's shard count: the same runner calls on a
 * 100-shard job and on a 12,500-shard one (the largest legal: 200,000 samples in 16-sample shards)
 * run the same SQL statements and read and write the same number of rows (the `x-board-cost`
 * header, from SQLite's own cursor counters) — counts, not times, so a loaded machine cannot make it
 * flaky. And shards folded into the running sum as they finish, in any completion order, merge to
 * exactly what mergeRankingSums gives (the stored result compared byte for byte as JSON).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRankingSums, type RankingSums } from '../../src/core/analysis/ranking.js';
import { BOARD_COST_HEADER } from '../../src/protocol/job.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, recordLease, startEdge, withLease, type EdgeServer } from './harness.js';
import { shardSums } from '../runner/helpers.js';

let edge: EdgeServer;
const auth = { authorization: `Bearer ${RUNNER_TOKEN}` };

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

function costOf(res: Response): Cost {
  const h = res.headers.get(BOARD_COST_HEADER);
  const m = h && /^statements=(\d+); rows-read=(\d+); rows-written=(\d+)$/.exec(h);
  if (!m) throw new Error(`no ${BOARD_COST_HEADER} header on ${res.url} (status ${res.status}): ${h}`);
  return { statements: Number(m[1]), rowsRead: Number(m[2]), rowsWritten: Number(m[3]) };
}

async function runnerCall(
  path: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: any; cost: Cost }> {
  const res = await edge.fetch(path, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(withLease(path, body)),
  });
  const cost = costOf(res);
  const out = { status: res.status, body: await res.json(), cost };
  if (path === '/v1/runner/lease') recordLease(body.runner as string, out.body);
  return out;
}

async function submit(seed: number, count: number, shardSize: number): Promise<any> {
  const res = await edge.fetch('/v1/jobs', {
    method: 'POST',
    headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'ranking-sums', seed, count, shardSize }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as any).job;
}

/**
 * One runner's calls on a fresh job's first shards: lease + heartbeat + complete, lease + fail,
 * lease + release, and the job's status; the cost of each.
 */
async function costsOfCalls(job: any, runner: string): Promise<Record<string, Cost>> {
  const costs: Record<string, Cost> = {};
  const lease0 = await runnerCall('/v1/runner/lease', { runner, leaseMs: 60_000 });
  expect(lease0.body).toMatchObject({ id: job.id, shard: { index: 0 } });
  costs.lease = lease0.cost;
  const beat = await runnerCall(`/v1/runner/jobs/${job.id}/heartbeat`, {
    runner,
    shard: 0,
    done: 8,
    samplesPerSecond: 4,
    leaseMs: 60_000,
  });
  expect(beat.status).toBe(200);
  costs.heartbeat = beat.cost;
  const payload = shardSums(edge.catalog, lease0.body.spec, lease0.body.shard.start, lease0.body.shard.end);
  const done = await runnerCall(`/v1/runner/jobs/${job.id}/complete`, {
    runner,
    shard: 0,
    payload,
    computed: { backend: 'test' },
  });
  expect(done.status, JSON.stringify(done.body).slice(0, 300)).toBe(200);
  costs.complete = done.cost;
  const lease1 = await runnerCall('/v1/runner/lease', { runner, leaseMs: 60_000 });
  expect(lease1.body.shard.index).toBe(1);
  const failed = await runnerCall(`/v1/runner/jobs/${job.id}/fail`, { runner, shard: 1, error: 'device lost' });
  expect(failed.status).toBe(200);
  costs.fail = failed.cost;
  const lease2 = await runnerCall('/v1/runner/lease', { runner, leaseMs: 60_000 });
  expect(lease2.body.shard.index).toBe(2);
  const released = await runnerCall(`/v1/runner/jobs/${job.id}/release`, { runner, shard: 2 });
  expect(released.status).toBe(200);
  costs.release = released.cost;
  const status = await edge.fetch(`/v1/jobs/${job.id}`);
  expect(status.status).toBe(200);
  costs.status = costOf(status);
  return costs;
}

describe('job board cost per call', () => {
  it('is the same for a 12,500-shard job as for a 100-shard one: statements, rows read, rows written', async () => {
    const small = await submit(41, 1_600, 16);
    expect(small.shards.total).toBe(100);
    // A runner name of its own per job: its first call inserts its contact row in both runs.
    const smallCosts = await costsOfCalls(small, 'scale-small');
    // Cancelled, so that the next lease is the big job's (oldest open job first).
    expect((await edge.fetch(`/v1/jobs/${small.id}`, { method: 'DELETE', headers: SUBMIT_AUTH })).status).toBe(200);

    const big = await submit(42, 200_000, 16);
    expect(big.shards.total).toBe(12_500);
    const bigCosts = await costsOfCalls(big, 'scale-big');
    expect((await edge.fetch(`/v1/jobs/${big.id}`, { method: 'DELETE', headers: SUBMIT_AUTH })).status).toBe(200);

    for (const call of Object.keys(smallCosts)) {
      // Identical work, not merely similar: any query that visits the job's shards would read
      // 125 times more rows on the big job.
      expect(bigCosts[call], call).toEqual(smallCosts[call]);
      expect(bigCosts[call].rowsRead, `${call} reads a bounded number of rows`).toBeLessThan(100);
    }
  });

  it('is the same with 200 leases held as with 10: a lease, heartbeat and status read no row per busy runner', async () => {
    // 16-sample shards, enough for 201 concurrent leases, each held by a runner of its own (as the
    // bench's simulated runners do); the cost of a further lease, a heartbeat and the job's status
    // is read once 10 leases are held and again once 200 are.
    const job = await submit(44, 16 * 210, 16);
    const held: number[] = [];
    const costsWith = async (n: number): Promise<Record<string, Cost>> => {
      while (held.length < n) {
        const r = await runnerCall('/v1/runner/lease', { runner: `crowd-${held.length}`, leaseMs: 120_000 });
        expect(r.body).toMatchObject({ id: job.id, shard: { index: held.length } });
        held.push(r.body.shard.index);
      }
      // Every held lease has reported progress and a rate once (what the job's view adds up).
      const lease = await runnerCall('/v1/runner/lease', { runner: `crowd-probe-${n}`, leaseMs: 120_000 });
      expect(lease.body.shard.index).toBe(n);
      const beat = await runnerCall(`/v1/runner/jobs/${job.id}/heartbeat`, {
        runner: `crowd-probe-${n}`,
        shard: n,
        done: 8,
        samplesPerSecond: 4,
        leaseMs: 120_000,
      });
      expect(beat.status).toBe(200);
      const released = await runnerCall(`/v1/runner/jobs/${job.id}/release`, { runner: `crowd-probe-${n}`, shard: n });
      expect(released.status).toBe(200);
      const status = await edge.fetch(`/v1/jobs/${job.id}`);
      const view = (await status.json()) as any;
      // The job row's running sums agree with the shards: n held leases without progress, the
      // probe's 8 samples and rate gone with its release.
      expect(view).toMatchObject({ shards: { running: n }, progress: { done: 0, samplesPerSecond: null } });
      return { lease: lease.cost, heartbeat: beat.cost, release: released.cost, status: costOf(status) };
    };
    const few = await costsWith(10);
    const many = await costsWith(200);
    expect((await edge.fetch(`/v1/jobs/${job.id}`, { method: 'DELETE', headers: SUBMIT_AUTH })).status).toBe(200);
    for (const call of Object.keys(few)) expect(many[call], call).toEqual(few[call]);
  }, 300_000);

  it('folds shards completed in any order into exactly the merge of all of them', async () => {
    const job = await submit(43, 20 * 16, 16);
    const leases: any[] = [];
    for (let i = 0; i < 20; i++)
      leases.push((await runnerCall('/v1/runner/lease', { runner: 'fold-runner', leaseMs: 60_000 })).body);
    expect(leases.map((l) => l.shard.index)).toEqual([...Array(20).keys()]);
    const parts = leases.map((l) => shardSums(edge.catalog, l.spec, l.shard.start, l.shard.end));
    // A fixed shuffle: shards finish ahead of the running sum's head and wait for it.
    const order = [7, 3, 19, 0, 1, 12, 2, 5, 4, 18, 6, 8, 10, 9, 11, 13, 15, 14, 17, 16];
    for (const i of order) {
      const r = await runnerCall(`/v1/runner/jobs/${job.id}/complete`, {
        runner: 'fold-runner',
        shard: i,
        payload: parts[i],
        computed: { backend: 'test' },
      });
      expect(r.status).toBe(200);
    }
    const result = (await (await edge.fetch(`/v1/jobs/${job.id}/result`)).json()) as any;
    expect(JSON.stringify(result.payload)).toBe(JSON.stringify(mergeRankingSums(parts as RankingSums[])));
    expect(result.computed.shards.map((s: any) => s.index)).toEqual([...Array(20).keys()]);
  });
});
