/**
 * The job board's shards, leases, retries and dead letters, and the runner endpoints' checks,
 * driven over HTTP against the real worker bundle in workerd (no runner process: the shard results
 * here are synthetic but well-formed, so the checks and the merge are what is tested).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRankingSums, type RankingSums } from '../../src/core/analysis/ranking.js';
import { decodeWeights, parseManifest } from '../../src/core/weights/codec.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, problemOf, startEdge, type EdgeServer } from '../worker/harness.js';
import { recordLease, shardSums, withLease } from './helpers.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';

let edge: EdgeServer;
const auth = { authorization: `Bearer ${RUNNER_TOKEN}` };
const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  edge.fetch(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const postJson = async (p: string, body: unknown, headers: Record<string, string> = auth) => {
  const res = await post(p, withLease(p, body), headers);
  const out = { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
  if (p === '/v1/runner/lease' && res.status === 200) recordLease((body as { runner: string }).runner, out.body);
  return out;
};

beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.close();
});

/** Leases until the board returns nothing (or `max` leases). */
async function leaseAll(runner: string, max = 100, leaseMs = 60_000): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < max; i++) {
    const l = await postJson('/v1/runner/lease', { runner, leaseMs });
    if (l.status === 204) break;
    out.push(l.body);
  }
  return out;
}

describe('runner endpoints', () => {
  it('refuse a missing or wrong token on every endpoint, models included', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [p, body] of [
      ['/v1/runner/lease', { runner: 'x' }],
      [`/v1/runner/jobs/${id}/heartbeat`, { runner: 'x', done: 1 }],
      [`/v1/runner/jobs/${id}/complete`, { runner: 'x', payload: {} }],
      [`/v1/runner/jobs/${id}/fail`, { runner: 'x', error: 'e' }],
      [`/v1/runner/jobs/${id}/release`, { runner: 'x' }],
    ] as const) {
      expect((await post(p, body)).status).toBe(401);
      expect((await problemOf(await post(p, body, { authorization: `Bearer ${RUNNER_TOKEN}x` }))).type).toBe(
        '/problems/unauthorized',
      );
    }
    const gid = edge.catalog.generator?.sha256 ?? edge.catalog.classifiers[0].sha256;
    expect((await edge.fetch(`/v1/runner/models/${gid}/weights`)).status).toBe(401);
    expect((await edge.fetch('/v1/runner/dead-letter', { headers: { authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
  });

  it('serve each model byte for byte; the core codec verifies the sha256', async () => {
    for (const m of [edge.catalog.generator, ...edge.catalog.classifiers].filter((x) => x !== null)) {
      const manifest = parseManifest(
        await (await edge.fetch(`/v1/runner/models/${m!.sha256}/manifest`, { headers: auth })).json(),
        'manifest',
      );
      expect(manifest.sha256).toBe(m!.sha256);
      const bytes = new Uint8Array(
        await (await edge.fetch(`/v1/runner/models/${m!.sha256}/weights`, { headers: auth })).arrayBuffer(),
      );
      expect(bytes.byteLength).toBe(m!.byteLength);
      expect(() => decodeWeights(manifest, bytes, 'weights')).not.toThrow();
    }
    expect(
      (await problemOf(await edge.fetch(`/v1/runner/models/${'0'.repeat(64)}/weights`, { headers: auth }))).status,
    ).toBe(404);
    expect((await edge.fetch(`/v1/runner/models/x/other`, { headers: auth })).status).toBe(400);
  });
});

describe('shards', () => {
  it('a sweep is cut into shards leased independently, checked, merged exactly in any order, and served', async () => {
    const sweep = { kind: 'ranking-sums', seed: 901, count: 250, shardSize: 64 };
    const sub = (await (await post('/v1/jobs', sweep, SUBMIT_AUTH)).json()) as any;
    expect(sub.created).toBe(true);
    expect(sub.job.shards).toMatchObject({ total: 4, queued: 4 });
    // No runner has called this board yet: the job says so instead of just staying queued.
    expect(sub.job.runners).toMatchObject({
      lastContactAt: null,
      note: expect.stringMatching(/no runner has contacted the board/),
    });
    expect(sub.job.shardSize).toBe(64);
    // Idempotency: the same spec is the same job (whatever shard size the second one asks for).
    const again = (await (await post('/v1/jobs', { ...sweep, shardSize: 100 }, SUBMIT_AUTH)).json()) as any;
    expect(again.created).toBe(false);
    expect(again.job.id).toBe(sub.job.id);
    const listed = (await (await edge.fetch(`/v1/jobs/${sub.job.id}/shards`)).json()) as any;
    expect(listed.shards.map((s: any) => [s.start, s.end])).toEqual([
      [0, 64],
      [64, 128],
      [128, 192],
      [192, 250],
    ]);

    // Two runners share the sweep.
    const a = await leaseAll('runner-a', 2);
    const b = await leaseAll('runner-b');
    expect(a.map((l) => l.shard.index)).toEqual([0, 1]);
    expect(b.map((l) => l.shard.index)).toEqual([2, 3]);
    expect(a[0].spec).toMatchObject({
      seed: 901,
      count: 250,
      generatorId: expect.any(String),
      classifierId: expect.any(String),
    });
    const spec = a[0].spec;

    // Progress: heartbeats extend the lease and report samples/s; the job sums its shards.
    const beat = await postJson(`/v1/runner/jobs/${sub.job.id}/heartbeat`, {
      runner: 'runner-a',
      shard: 0,
      done: 32,
      samplesPerSecond: 16,
      leaseMs: 60_000,
    });
    expect(beat.status).toBe(200);
    expect(beat.body.progress).toMatchObject({ done: 32, total: 250, samplesPerSecond: 16 });
    expect(beat.body.progress.etaSeconds).toBeCloseTo((250 - 32) / 16, 6);
    expect(
      (await postJson(`/v1/runner/jobs/${sub.job.id}/heartbeat`, { runner: 'runner-b', shard: 0, done: 1 })).status,
    ).toBe(409);
    // The lease is its token, not the runner's name: the holder's name with another token is refused,
    // and the shard list shows no token.
    expect(
      (
        await postJson(`/v1/runner/jobs/${sub.job.id}/heartbeat`, {
          runner: 'runner-a',
          shard: 0,
          done: 1,
          lease: 'e'.repeat(64),
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await postJson(`/v1/runner/jobs/${sub.job.id}/heartbeat`, {
          runner: 'runner-a',
          shard: 0,
          done: 1,
          lease: 'not-a-token',
        })
      ).body.field,
    ).toBe('lease');
    expect(JSON.stringify(await (await edge.fetch(`/v1/jobs/${sub.job.id}/shards`)).json())).not.toContain(
      a[0].shard.leaseToken,
    );

    const parts = [0, 1, 2, 3].map((i) => shardSums(edge.catalog, spec, listed.shards[i].start, listed.shards[i].end));
    const complete = (runner: string, shard: number, payload: unknown) =>
      postJson(`/v1/runner/jobs/${sub.job.id}/complete`, { runner, shard, payload, computed: { backend: 'test' } });

    // Results that do not match their shard are rejected, naming the field.
    const wrong: Array<[string, unknown]> = [
      ['payload.gradSum', { ...parts[2], gradSum: parts[2].gradSum.slice(1) }],
      ['payload.styleSize', { ...parts[2], styleSize: parts[2].styleSize + 1 }],
      ['payload.specHash', { ...parts[2], specHash: 'f'.repeat(64) }],
      ['payload.ranges', { ...parts[2], ranges: [[128, 191]] }],
      ['payload.ranges', parts[3]], // another shard's result
      ['payload.count.0', { ...parts[2], count: parts[2].count.map((n, i) => (i === 0 ? n + 1 : n)) }],
      [
        'payload.correct.1',
        { ...parts[2], correct: parts[2].correct.map((n, i) => (i === 1 ? parts[2].count[1] + 1 : n)) },
      ],
      ['payload.schema', { ...parts[2], schema: 'faultlines.ranking-sums/0' }],
      ['payload.gradSum.5', { ...parts[2], gradSum: parts[2].gradSum.map((x, i) => (i === 5 ? 'NaN' : x)) }],
    ];
    for (const [field, payload] of wrong) {
      const r = await complete('runner-b', 2, payload);
      expect(r.status, field).toBe(400);
      expect(r.body.field, JSON.stringify(r.body)).toBe(field);
    }
    // Only the lease holder may acknowledge.
    expect((await complete('runner-a', 2, parts[2])).status).toBe(409);

    // Completed out of order; the job is done only when the last shard is in.
    for (const [runner, i] of [
      ['runner-b', 3],
      ['runner-a', 1],
      ['runner-b', 2],
    ] as const) {
      const r = await complete(runner, i, parts[i]);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('running');
    }
    const last = await complete('runner-a', 0, parts[0]);
    expect(last.body.status).toBe('done');
    expect(last.body.progress).toMatchObject({ done: 250, total: 250 });
    // A repeated acknowledgement (lost answer) is harmless.
    expect((await complete('runner-a', 0, parts[0])).body.status).toBe('done');
    // ... but a repeated acknowledgement with a garbage payload is refused like a first one.
    const garbage = await complete('runner-a', 0, { schema: 'nonsense' });
    expect(garbage.status).toBe(400);
    // Nesting deep enough to overflow a recursive copy is refused with a clear error, not a stack overflow.
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = { d: deep };
    const nested = await postJson(`/v1/runner/jobs/${sub.job.id}/complete`, {
      runner: 'runner-a',
      shard: 0,
      payload: parts[0],
      computed: { deep },
    });
    expect(nested.status).toBe(400);
    expect(JSON.stringify(nested.body)).toMatch(/nested more than 32 levels/);

    const result = (await (await edge.fetch(`/v1/jobs/${sub.job.id}/result`)).json()) as any;
    const expected = mergeRankingSums(parts as RankingSums[]);
    expect(result.payload).toEqual(expected);
    expect(mergeRankingSums([...parts].reverse() as RankingSums[])).toEqual(expected);
    // Runners appear by pseudonym only: the public result and shard list carry no runner names.
    const [pa, pb] = [runnerPseudonym('runner-a'), runnerPseudonym('runner-b')];
    expect(result.computed.runners.sort()).toEqual([pa, pb].sort());
    expect(result.computed.shards.map((s: any) => s.runner)).toEqual([pa, pa, pb, pb]);
    const publicText =
      JSON.stringify(result) +
      JSON.stringify(await (await edge.fetch(`/v1/jobs/${sub.job.id}/shards`)).json()) +
      JSON.stringify(await (await edge.fetch('/v1/jobs')).json());
    expect(publicText).not.toMatch(/runner-[ab]\b/);
    const ranking = (await (await edge.fetch('/v1/rankings?seed=901&count=250&top=5')).json()) as any;
    expect(ranking.key).toBe(sub.job.key);
    expect(ranking.payload.count).toBe(250);
    expect((await (await post('/v1/jobs', sweep, SUBMIT_AUTH)).json()) as any).toMatchObject({ status: 'done' });

    // Invalidation: the submitter removes the result; the same submission then computes it again.
    const del = (auth: Record<string, string>) =>
      edge.fetch(`/v1/results/${sub.job.key}`, { method: 'DELETE', headers: auth });
    expect((await del({})).status).toBe(401);
    expect((await del({ authorization: `Bearer ${RUNNER_TOKEN}` })).status).toBe(403);
    const removed = await del(SUBMIT_AUTH);
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ key: sub.job.key, deleted: true, jobForgotten: true });
    expect(await (await del(SUBMIT_AUTH)).json()).toEqual({ key: sub.job.key, deleted: false, jobForgotten: false });
    expect((await edge.fetch(`/v1/results/${sub.job.key}`)).status).toBe(404);
    const redo = (await (await post('/v1/jobs', sweep, SUBMIT_AUTH)).json()) as any;
    expect(redo.created).toBe(true);
    expect(redo.job.status).toBe('queued');
    // Built-in results cannot be removed through the API.
    const index = (await (await edge.fetch('/v1/results')).json()) as any;
    const builtIn = index.entries[0].key;
    expect((await edge.fetch(`/v1/results/${builtIn}`, { method: 'DELETE', headers: SUBMIT_AUTH })).status).toBe(409);
    // Drain the recomputation so later tests lease their own jobs.
    for (const l of await leaseAll('runner-c'))
      await postJson(`/v1/runner/jobs/${l.id}/release`, { runner: 'runner-c', shard: l.shard.index });
    await edge.fetch(`/v1/results/${sub.job.key}`, { method: 'DELETE', headers: SUBMIT_AUTH });
  });

  it('finite shards that would merge into infinity are refused', async () => {
    const sub = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 903, count: 40, shardSize: 20 }, SUBMIT_AUTH)
    ).json()) as any;
    expect(sub.job, JSON.stringify(sub)).toBeDefined();
    const leased = await postJson('/v1/runner/lease', { runner: 'runner-inf', leaseMs: 60_000 });
    expect(leased.status, JSON.stringify(leased.body)).toBe(200);
    const l0 = leased.body;
    expect(sub.created, JSON.stringify(sub)).toBe(true);
    const good = shardSums(edge.catalog, l0.spec, l0.shard.start, l0.shard.end) as RankingSums;
    // 1e308 twice is finite per shard and infinite merged; its square is beyond float64 too.
    const huge = { ...good, styleSum: good.styleSum.map(() => 1e308), styleSqSum: good.styleSqSum.map(() => 1.7e308) };
    const r = await postJson(`/v1/runner/jobs/${sub.job.id}/complete`, {
      runner: 'runner-inf',
      shard: l0.shard.index,
      payload: huge,
    });
    expect(r.status).toBe(400);
    expect(r.body.field).toMatch(/^payload\.style(Sq)?Sum\.0$/);
    expect(r.body.detail).toMatch(/overflow/);
    await postJson(`/v1/runner/jobs/${sub.job.id}/release`, { runner: 'runner-inf', shard: l0.shard.index });
    // Forget the job (no result to remove) so later tests lease only their own.
    expect(
      await (await edge.fetch(`/v1/results/${sub.job.key}`, { method: 'DELETE', headers: SUBMIT_AUTH })).json(),
    ).toMatchObject({ deleted: false, jobForgotten: true });
    expect((await postJson('/v1/runner/lease', { runner: 'runner-inf' })).status).toBe(204);
  });

  it('release returns a shard at once without using an attempt; expiry re-leases; failures back off, then dead-letter', async () => {
    const sub = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 902, count: 32, shardSize: 32 }, SUBMIT_AUTH)
    ).json()) as any;
    const id = sub.job.id;
    const first = await postJson('/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 });
    expect(first.body.shard).toMatchObject({ index: 0, attempts: 1 });
    expect((await postJson(`/v1/runner/jobs/${id}/release`, { runner: 'r1', shard: 0 })).body.status).toBe('queued');
    const second = await postJson('/v1/runner/lease', { runner: 'r2', leaseMs: 1000 });
    expect(second.body.shard).toMatchObject({ index: 0, attempts: 1 });
    // Visibility timeout: r2 goes silent, the shard is leasable again once its lease expires.
    expect((await postJson('/v1/runner/lease', { runner: 'r3' })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 1100));
    // Expired, the lease is shown as what it is at once: queued again, nothing running.
    const expired = (await (await edge.fetch(`/v1/jobs/${id}/shards`)).json()) as any;
    expect(expired.shards[0]).toMatchObject({ status: 'queued', lease: null, done: 0 });
    expect((await (await edge.fetch(`/v1/jobs/${id}`)).json()) as any).toMatchObject({
      status: 'queued',
      shards: { running: 0, queued: 1 },
    });
    // A runner called moments ago: no "no runner" note yet; the job says when one last did.
    const waiting = (await (await edge.fetch(`/v1/jobs/${id}`)).json()) as any;
    expect(waiting.runners.note).toBeNull();
    expect(Date.now() - Date.parse(waiting.runners.lastContactAt)).toBeLessThan(30_000);
    const third = await postJson('/v1/runner/lease', { runner: 'r3', leaseMs: 60_000 });
    expect(third.body.shard).toMatchObject({ index: 0, attempts: 2 });
    expect(
      (
        await postJson(`/v1/runner/jobs/${id}/complete`, {
          runner: 'r2',
          shard: 0,
          payload: shardSums(edge.catalog, third.body.spec, 0, 32),
        })
      ).status,
    ).toBe(409);
    // A reported failure: retried after a backoff.
    const beforeFail = Date.now();
    const failed = await postJson(`/v1/runner/jobs/${id}/fail`, { runner: 'r3', shard: 0, error: 'device lost' });
    expect(failed.body.status).toBe('queued');
    // The first backoff is 1 s from when the board saw the failure (never before the call was made).
    expect(Date.parse(failed.body.retryAt) - beforeFail).toBeGreaterThanOrEqual(900);
    // Not leasable before retryAt. On a slow machine the call may already be past it: then it leases.
    const early = await postJson('/v1/runner/lease', { runner: 'r3', leaseMs: 60_000 });
    const answeredAt = Date.now();
    if (answeredAt < Date.parse(failed.body.retryAt)) expect(early.status).toBe(204);
    let fourth = early;
    if (early.status === 204) {
      await new Promise((r) => setTimeout(r, Date.parse(failed.body.retryAt) - Date.now() + 100));
      fourth = await postJson('/v1/runner/lease', { runner: 'r3', leaseMs: 60_000 });
    }
    expect(fourth.body.shard).toMatchObject({ index: 0, attempts: 3, failures: 1 });
    // The last attempt fails: dead letter, the job fails with the error.
    const dead = await postJson(`/v1/runner/jobs/${id}/fail`, { runner: 'r3', shard: 0, error: 'device lost again' });
    expect(dead.body).toMatchObject({ status: 'failed', error: 'device lost again', shards: { dead: 1 } });
    const letters = (await (await edge.fetch('/v1/runner/dead-letter', { headers: auth })).json()) as any;
    expect(letters.shards.find((s: any) => s.jobId === id)?.shard).toMatchObject({
      status: 'dead',
      attempts: 3,
      error: 'device lost again',
    });
    expect((await problemOf(await edge.fetch(`/v1/jobs/${id}/result`))).type).toBe('/problems/job-failed');
    // Resubmitting requeues the dead shard with fresh attempts.
    const retry = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 902, count: 32 }, SUBMIT_AUTH)
    ).json()) as any;
    expect(retry.job).toMatchObject({ id, status: 'queued', shards: { queued: 1, dead: 0 } });
    const again = await postJson('/v1/runner/lease', { runner: 'r4', leaseMs: 60_000 });
    expect(again.body.shard).toMatchObject({ index: 0, attempts: 1 });
    expect(
      (
        await postJson(`/v1/runner/jobs/${id}/complete`, {
          runner: 'r4',
          shard: 0,
          payload: shardSums(edge.catalog, again.body.spec, 0, 32),
        })
      ).body.status,
    ).toBe('done');
  });

  it('a shard whose lease expires on its last attempt is dead-lettered at the next lease, and fails its job', async () => {
    const sub = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 904, count: 32, shardSize: 32 }, SUBMIT_AUTH)
    ).json()) as any;
    const id = sub.job.id;
    // A runner killed mid-shard, three times: each lease expires unreported.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const l = await postJson('/v1/runner/lease', { runner: 'doomed', leaseMs: 1000 });
      expect(l.body).toMatchObject({ id, shard: { index: 0, attempts: attempt } });
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect((await postJson('/v1/runner/lease', { runner: 'doomed', leaseMs: 1000 })).status).toBe(204);
    expect((await (await edge.fetch(`/v1/jobs/${id}`)).json()) as any).toMatchObject({
      status: 'failed',
      error: 'shard lease expired after 3 attempts',
      shards: { dead: 1, running: 0 },
    });
    const letters = (await (await edge.fetch('/v1/runner/dead-letter', { headers: auth })).json()) as any;
    expect(letters.shards.find((s: any) => s.jobId === id)?.shard).toMatchObject({
      status: 'dead',
      attempts: 3,
      error: 'lease expired on the last attempt',
    });
    // Forget the job (no result to remove) so later tests lease only their own.
    expect(
      await (await edge.fetch(`/v1/results/${sub.job.key}`, { method: 'DELETE', headers: SUBMIT_AUTH })).json(),
    ).toMatchObject({ deleted: false, jobForgotten: true });
  });

  it('a derived job waits for the ranking sums it derives from, fails with them, and resubmitting retries both', async () => {
    const body = { kind: 'histograms', seed: 903, count: 32 };
    const sub = (await (await post('/v1/jobs', body, SUBMIT_AUTH)).json()) as any;
    expect(sub.job.needs).toMatchObject({ status: 'queued' });
    const sumsId = sub.job.needs.jobId;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const l = await postJson('/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 });
      expect(l.body.id).toBe(sumsId);
      // The histograms job is not leasable before its sums are done.
      expect((await postJson('/v1/runner/lease', { runner: 'r2' })).status).toBe(204);
      const failed = await postJson(`/v1/runner/jobs/${sumsId}/fail`, { runner: 'r1', shard: 0, error: 'device lost' });
      if (failed.body.retryAt)
        await new Promise((r) => setTimeout(r, Date.parse(failed.body.retryAt) - Date.now() + 100));
    }
    const blocked = (await (await edge.fetch(sub.statusUrl)).json()) as any;
    expect(blocked).toMatchObject({ status: 'failed', needs: { jobId: sumsId, status: 'failed' } });
    expect(blocked.error).toMatch(/the ranking-sums job .* it needs failed: device lost/);
    // The listing reads each job's prerequisite too (one join for the page): the same view.
    const listed = ((await (await edge.fetch('/v1/jobs?limit=10')).json()) as any).jobs;
    expect(listed.find((j: any) => j.id === sub.job.id)).toMatchObject({
      status: 'failed',
      error: blocked.error,
      needs: { jobId: sumsId, status: 'failed' },
    });
    expect(listed.find((j: any) => j.id === sumsId)).toMatchObject({ status: 'failed' });
    expect((await problemOf(await edge.fetch('/v1/histograms?seed=903&count=32'))).type).toBe('/problems/job-failed');
    // Resubmitted: the sums are queued again, then the histograms job is leasable, naming them.
    const again = (await (await post('/v1/jobs', body, SUBMIT_AUTH)).json()) as any;
    expect(again.job).toMatchObject({ id: sub.job.id, status: 'queued', needs: { jobId: sumsId, status: 'queued' } });
    const sums = await postJson('/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 });
    expect(sums.body.id).toBe(sumsId);
    expect(
      (
        await postJson(`/v1/runner/jobs/${sumsId}/complete`, {
          runner: 'r1',
          shard: 0,
          payload: shardSums(edge.catalog, sums.body.spec, 0, 32),
        })
      ).body.status,
    ).toBe('done');
    const derived = await postJson('/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 });
    expect(derived.body).toMatchObject({
      id: sub.job.id,
      kind: 'histograms',
      spec: { sums: sums.body.key, options: { top: 3, random: 3, bins: 30, seed: 0 } },
      shard: { start: 0, end: 32 },
    });
  });

  it('lists jobs a page at a time with their shard counters; the largest legal job is cut as asked', async () => {
    // The largest legal sweep (200,000 samples) at the smallest legal shard size (16): 12,500 shards.
    const big = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 950, count: 200_000, shardSize: 16 }, SUBMIT_AUTH)
    ).json()) as any;
    expect(big.job.shards).toMatchObject({ total: 12_500, queued: 12_500 });
    expect(big.job.shardSize).toBe(16);
    const small = [];
    for (const seed of [951, 952, 953])
      small.push(
        (
          (await (
            await post('/v1/jobs', { kind: 'ranking-sums', seed, count: 32, shardSize: 16 }, SUBMIT_AUTH)
          ).json()) as any
        ).job.id,
      );
    // Pages: newest first, no job twice, a cursor until the last page.
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = (await (await edge.fetch(`/v1/jobs${q}`)).json()) as any;
      expect(res.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...res.jobs.map((j: any) => j.id));
      cursor = res.next;
      if (cursor === null) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 4)).toEqual([...small].reverse().concat(big.job.id));
    const listed = (await (await edge.fetch('/v1/jobs?limit=5')).json()) as any;
    expect(listed.jobs.find((j: any) => j.id === big.job.id).shards).toMatchObject({
      total: 12_500,
      queued: 12_500,
      running: 0,
    });
    expect((await edge.fetch('/v1/jobs?cursor=garbage')).status).toBe(400);
    // Clean up: later tests lease the oldest job first.
    for (const j of [big.job, ...small.map((id) => ({ id }))]) {
      const key = j.key ?? ((await (await edge.fetch(`/v1/jobs/${j.id}`)).json()) as any).key;
      await edge.fetch(`/v1/results/${key}`, { method: 'DELETE', headers: SUBMIT_AUTH });
    }
    expect((await postJson('/v1/runner/lease', { runner: 'after-list' })).status).toBe(204);
  });

  it('stores a shard result larger than a SQLite row (2 MB) and merges it', async () => {
    const sub = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 960, count: 32, shardSize: 32 }, SUBMIT_AUTH)
    ).json()) as any;
    const l = await postJson('/v1/runner/lease', { runner: 'big-result', leaseMs: 60_000 });
    expect(l.body.id).toBe(sub.job.id);
    const payload = shardSums(edge.catalog, l.body.spec, 0, 32);
    // Free-form provenance pads the stored result past the 2 MB row limit (a generator with a
    // larger S would get there with honest sums).
    const note = 'x'.repeat(3_000_000);
    const done = await postJson(`/v1/runner/jobs/${sub.job.id}/complete`, {
      runner: 'big-result',
      shard: 0,
      payload,
      computed: { note },
    });
    expect(done.status, JSON.stringify(done.body).slice(0, 300)).toBe(200);
    expect(done.body.status).toBe('done');
    const result = (await (await edge.fetch(`/v1/jobs/${sub.job.id}/result`)).json()) as any;
    expect(result.payload).toEqual(mergeRankingSums([payload as RankingSums]));
    expect(result.computed.note).toHaveLength(3_000_000);
    await edge.fetch(`/v1/results/${sub.job.key}`, { method: 'DELETE', headers: SUBMIT_AUTH });
  });
});
