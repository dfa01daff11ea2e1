/**
 * Faults (issue #8), on the real worker bundle in workerd and real runner processes (wasm in
 * Node): a runner SIGKILLed mid-shard, the worker restarted while shards are leased, a runner that
 * uploads garbage, the same job submitted concurrently, a weight file corrupted on disk. Each
 * scenario ends with the job's served result compared with a clean run's: the shards swept in this
 * process exactly as uninterrupted runners sweep them (same shard ranges and batch size), merged as
 * the edge merges them; the served payload must be the same JSON byte for byte.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mergeRankingSums, type RankingSums } from '../../src/core/analysis/ranking.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import { useBackend } from '../../src/node/backend.js';
import { localModels } from '../../src/gpu-runner/local.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, corruptWeights, problemOf, startEdge, type EdgeServer } from '../worker/harness.js';
import {
  RunnerPool,
  cleanRunShards,
  ensureRunnerBuilt,
  jobSpecHash,
  recordLease,
  shardSums,
  watchJob,
  withLease,
} from './helpers.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';

let edge: EdgeServer;
let models: AnalysisModels;
const pool = new RunnerPool(() => edge);

/** Every runner here, and the clean reference, sweeps in batches of this size (the sums' grouping). */
const BATCH = 8;
const wasmRunner = (leaseMs: number, extra: string[] = []) => [
  '--backend',
  'wasm',
  '--lease-ms',
  String(leaseMs),
  '--heartbeat-ms',
  '300',
  '--batch',
  String(BATCH),
  ...extra,
];

const runnerAuth = { authorization: `Bearer ${RUNNER_TOKEN}` };

interface Answer {
  status: number;
  body: any;
}
async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await edge.fetch(p, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
const get = (p: string) => call('GET', p);
const asRunner = async (p: string, body: unknown) => {
  const a = await call('POST', p, typeof body === 'string' ? body : withLease(p, body), runnerAuth);
  if (p === '/v1/runner/lease' && a.status === 200) recordLease((body as { runner: string }).runner, a.body as any);
  return a;
};
const submit = (body: Record<string, unknown>) => call('POST', '/v1/jobs', body, SUBMIT_AUTH);
const shardsOf = async (id: string) => (await get(`/v1/jobs/${id}/shards`)).body.shards as any[];

/**
 * A runner POST that declares a `bytes`-long body and sends only its first bytes; the answer.
 * (fetch cannot: workerd answers an oversized body early and resets the connection under it.)
 */
function declaredLength(p: string, bytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(p, edge.url),
      {
        method: 'POST',
        headers: { ...runnerAuth, 'content-type': 'application/json', 'content-length': String(bytes) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on('error', reject);
    req.write('{"runner":"garbage","shard":0,"payload":[');
  });
}

const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');
/** The served result's payload is the clean run's, byte for byte as JSON. */
async function expectCleanResult(jobId: string, clean: RankingSums): Promise<any> {
  const result = await get(`/v1/jobs/${jobId}/result`);
  expect(result.status).toBe(200);
  expect(result.body.payload.ranges).toEqual(clean.ranges);
  expect(result.body.payload.count).toEqual(clean.count);
  expect(digest(result.body.payload), 'served payload differs from the clean run').toBe(digest(clean));
  return result.body;
}

beforeAll(async () => {
  [edge] = await Promise.all([startEdge(undefined, { persist: true }), ensureRunnerBuilt()]);
  await useBackend('wasm');
  models = localModels(edge.assets);
}, 180_000);

// A runner left over from a failed test must not take the next test's jobs.
afterEach(async () => {
  await pool.stopAll();
});

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

describe('faults', () => {
  it('a runner SIGKILLed mid-shard: its finished shard is kept, the lease expires, another runner completes the job; the result is the clean run', async () => {
    const spec = { seed: 801, count: 128 };
    const clean = mergeRankingSums(await cleanRunShards(models, spec, 64, BATCH));
    const sub = await submit({ kind: 'ranking-sums', ...spec, shardSize: 64 });
    expect(sub.status).toBe(202);
    const id = sub.body.job.id as string;

    // The victim completes shard 0, and is killed one batch into shard 1 (while it holds the lease).
    const victim = pool.start('victim', wasmRunner(2000));
    await victim.waitFor(/shard 1 \[64, 128\) attempt 1: 8\/64 samples/, 90_000);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const during = await shardsOf(id);
    expect(during[0]).toMatchObject({ status: 'done', completedBy: runnerPseudonym('victim'), attempts: 1 });
    // Still the victim's lease, or (on a slow machine, past its 2 s) shown as queued again at once.
    if (during[1].status === 'running')
      expect(during[1]).toMatchObject({ attempts: 1, lease: { holder: runnerPseudonym('victim') } });
    else expect(during[1]).toMatchObject({ status: 'queued', attempts: 1, lease: null });
    expect((await problemOf(await edge.fetch(`/v1/jobs/${id}/result`))).type).toBe('/problems/job-pending');

    const rescuer = pool.start('rescuer', wasmRunner(60_000));
    await watchJob(edge, sub.body.statusUrl, 90_000, () => pool.tails());
    const after = await shardsOf(id);
    // Shard 0 was not recomputed; shard 1 was leased again once the victim's lease expired.
    expect(after[0]).toMatchObject({ status: 'done', completedBy: runnerPseudonym('victim'), attempts: 1 });
    expect(after[1]).toMatchObject({ status: 'done', completedBy: runnerPseudonym('rescuer'), attempts: 2 });
    const result = await expectCleanResult(id, clean);
    expect(result.computed.shards.map((s: any) => s.runner)).toEqual([
      runnerPseudonym('victim'),
      runnerPseudonym('rescuer'),
    ]);
    expect(rescuer.output()).toMatch(/shard 1 \[64, 128\) attempt 2/);
  });

  it('the worker restarted while shards are leased: jobs, leases and results survive; the job completes as the clean run', async () => {
    // A job finished before the restart (synthetic, well-formed shard sums): its result is in KV.
    const small = await submit({ kind: 'ranking-sums', seed: 812, count: 16, shardSize: 16 });
    const smallLease = await asRunner('/v1/runner/lease', { runner: 'synthetic', leaseMs: 60_000 });
    expect(smallLease.body.id).toBe(small.body.job.id);
    expect(
      (
        await asRunner(`/v1/runner/jobs/${small.body.job.id}/complete`, {
          runner: 'synthetic',
          shard: 0,
          payload: shardSums(edge.catalog, smallLease.body.spec, 0, 16),
        })
      ).body.status,
    ).toBe('done');
    const smallResult = await edge.fetch(`/v1/jobs/${small.body.job.id}/result`).then((r) => r.text());

    const spec = { seed: 802, count: 96 };
    const clean = mergeRankingSums(await cleanRunShards(models, spec, 32, BATCH));
    const sub = await submit({ kind: 'ranking-sums', ...spec, shardSize: 32 });
    const id = sub.body.job.id as string;
    // `ghost` leases shard 0 and goes down with the worker; `survivor` computes through the restart.
    const ghost = await asRunner('/v1/runner/lease', { runner: 'ghost', leaseMs: 60_000 });
    expect(ghost.body.shard.index).toBe(0);
    const survivor = pool.start('survivor', wasmRunner(60_000));
    await survivor.waitFor(/shard 1 \[32, 64\) attempt 1: 8\/32 samples/, 90_000);
    const before = await shardsOf(id);

    // Down for 12 s: longer than the runner's retries lasted before (7.75 s in all), shorter than a
    // lease; the survivor must keep its computed shard and its first attempt.
    const t0 = Date.now();
    await edge.restart(12_000);
    const restartMs = Date.now() - t0;

    const after = await shardsOf(id);
    expect(after[0]).toEqual(before[0]); // the ghost's lease, as it was (same expiry)
    expect(after[0]).toMatchObject({ status: 'running', attempts: 1, lease: { holder: runnerPseudonym('ghost') } });
    expect(after[1].attempts).toBe(1); // still the survivor's first lease (running or done)
    expect(after[1].lease?.holder ?? after[1].completedBy).toBe(runnerPseudonym('survivor'));
    const again = await submit({ kind: 'ranking-sums', ...spec });
    expect(again.body).toMatchObject({ created: false, job: { id } });
    expect(await edge.fetch(`/v1/jobs/${small.body.job.id}/result`).then((r) => r.text())).toBe(smallResult);
    expect((await submit({ kind: 'ranking-sums', seed: 812, count: 16 })).body).toMatchObject({
      status: 'done',
      key: small.body.job.key,
    });

    // The ghost's lease still works after the restart; it shortens it and goes silent.
    expect(
      (await asRunner(`/v1/runner/jobs/${id}/heartbeat`, { runner: 'ghost', shard: 0, done: 0, leaseMs: 1000 })).status,
    ).toBe(200);
    await watchJob(edge, sub.body.statusUrl, 90_000, () => pool.tails());
    const final = await shardsOf(id);
    expect(final.map((s) => [s.completedBy, s.attempts])).toEqual([
      [runnerPseudonym('survivor'), 2],
      [runnerPseudonym('survivor'), 1],
      [runnerPseudonym('survivor'), 1],
    ]);
    await expectCleanResult(id, clean);
    // The ghost's late completion is refused: a garbage one at its payload (400), a well-formed one at its lease (409).
    expect((await asRunner(`/v1/runner/jobs/${id}/complete`, { runner: 'ghost', shard: 0, payload: {} })).status).toBe(
      400,
    );
    expect(
      (
        await asRunner(`/v1/runner/jobs/${id}/complete`, {
          runner: 'ghost',
          shard: 0,
          payload: shardSums(edge.catalog, ghost.body.spec, 0, 32),
        })
      ).status,
    ).toBe(409);
    console.log(
      `worker restart: ${restartMs} ms; the survivor ${/retrying in/.test(survivor.output()) ? 'retried requests during it' : 'made no request during it'}`,
    );
  });

  it('a runner uploading garbage is refused with 4xx and changes nothing; a good runner then completes the job as the clean run', async () => {
    const spec = { seed: 803, count: 64 };
    const parts = await cleanRunShards(models, spec, 32, BATCH);
    const clean = mergeRankingSums(parts);
    const sub = await submit({ kind: 'ranking-sums', ...spec, shardSize: 32 });
    const id = sub.body.job.id as string;
    const lease = await asRunner('/v1/runner/lease', { runner: 'garbage', leaseMs: 60_000 });
    expect(lease.body).toMatchObject({ id, shard: { index: 0 } });
    const snapshot = async () => ({ job: (await get(`/v1/jobs/${id}`)).body, shards: await shardsOf(id) });
    const before = await snapshot();

    const good = parts[0];
    const body = (payload: unknown, extra: Record<string, unknown> = {}) => ({
      runner: 'garbage',
      shard: 0,
      payload,
      ...extra,
    });
    const token = lease.body.shard.leaseToken as string;
    const raw = (text: string) => `{"runner":"garbage","shard":0,"lease":"${token}","payload":${text}}`;
    const goodText = JSON.stringify(good);
    const firstGrad = JSON.stringify(good.gradSum[0]);
    const other = { ...lease.body.spec, seed: 9999 };
    const cases: Array<[string, string, unknown, number, (string | RegExp)?]> = [
      ['not JSON', 'complete', '{"runner":"garbage","shard":0,"payload":{"schema":', 400],
      ['a NaN literal', 'complete', raw(goodText.replace(`"gradSum":[${firstGrad}`, '"gradSum":[NaN')), 400],
      [
        'Infinity (1e999)',
        'complete',
        raw(goodText.replace(`"gradSum":[${firstGrad}`, '"gradSum":[1e999')),
        400,
        'payload.gradSum.0',
      ],
      [
        'null (NaN through JSON.stringify)',
        'complete',
        body({ ...good, gradSum: good.gradSum.map((x, i) => (i === 3 ? NaN : x)) }),
        400,
        'payload.gradSum.3',
      ],
      [
        'numbers as strings',
        'complete',
        body({ ...good, styleSum: good.styleSum.map(String) }),
        400,
        'payload.styleSum.0',
      ],
      ['no payload', 'complete', { runner: 'garbage', shard: 0 }, 400, 'payload'],
      ['an empty payload', 'complete', body({}), 400, 'payload.schema'],
      ['a truncated array', 'complete', body({ ...good, gradSum: good.gradSum.slice(0, -1) }), 400, 'payload.gradSum'],
      [
        'a wrong shape',
        'complete',
        body({ ...good, styleSize: good.styleSize / 2, gradSum: good.gradSum.slice(0, good.gradSum.length / 2) }),
        400,
        'payload.styleSize',
      ],
      ['negative counts', 'complete', body({ ...good, count: good.count.map((n) => -n) }), 400, 'payload.count.0'],
      [
        'negative sums of squares',
        'complete',
        body({ ...good, gradSqSum: good.gradSqSum.map((x) => -x) }),
        400,
        /^payload\.gradSqSum\.\d+$/,
      ],
      [
        'sums of squares too small for the sums',
        'complete',
        body({ ...good, styleSqSum: good.styleSqSum.map((x) => x / 100) }),
        400,
        /^payload\.styleSqSum\.\d+$/,
      ],
      [
        "another sweep's spec hash",
        'complete',
        body({ ...good, specHash: jobSpecHash(other) }),
        400,
        'payload.specHash',
      ],
      ["the other shard's result", 'complete', body(parts[1]), 400, 'payload.ranges'],
      ['a shard it does not hold', 'complete', body(parts[1], { shard: 1 }), 409],
      ['a shard that does not exist', 'complete', body(good, { shard: 5 }), 404],
      ['a job that does not exist', `complete:${randomUUID()}`, body(good), 404],
      ["another runner's name", 'complete', body(good, { runner: 'intruder' }), 409],
      ["the holder's name with a guessed lease token", 'complete', body(good, { lease: 'f'.repeat(64) }), 409],
      ['no lease token', 'complete', `{"runner":"garbage","shard":0,"payload":${goodText}}`, 400, 'lease'],
      [
        'a heartbeat claiming NaN progress',
        'heartbeat',
        raw('null').replace(',"payload":null', ',"done":"NaN"'),
        400,
        'done',
      ],
    ];
    for (const [label, action, payload, status, field] of cases) {
      const [verb, jobId = id] = action.split(':');
      const r = await asRunner(`/v1/runner/jobs/${jobId}/${verb}`, payload);
      expect(r.status, `${label}: ${JSON.stringify(r.body).slice(0, 300)}`).toBe(status);
      expect(r.body?.status, label).toBe(status); // a problem+json body
      if (typeof field === 'string') expect(r.body.field, label).toBe(field);
      else if (field) expect(r.body.field, label).toMatch(field);
      expect(await snapshot(), `${label} changed the job`).toEqual(before);
    }
    // A body over the runners' 16 MiB limit is refused from its Content-Length, before it is read.
    const oversized = await declaredLength(`/v1/runner/jobs/${id}/complete`, 17 * 1024 * 1024);
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.text)).toMatchObject({ status: 413, type: '/problems/body-too-large' });
    expect(await snapshot()).toEqual(before);
    expect((await problemOf(await edge.fetch(`/v1/jobs/${id}/result`))).type).toBe('/problems/job-pending');
    expect((await get(`/v1/rankings?seed=${spec.seed}&count=${spec.count}`)).status).toBe(202); // pending, nothing served

    // The garbage runner goes silent; its lease runs out and a good runner does the work.
    expect(
      (await asRunner(`/v1/runner/jobs/${id}/heartbeat`, { runner: 'garbage', shard: 0, done: 0, leaseMs: 1000 }))
        .status,
    ).toBe(200);
    pool.start('good', wasmRunner(60_000));
    await watchJob(edge, sub.body.statusUrl, 90_000, () => pool.tails());
    const after = await shardsOf(id);
    expect(after.map((s) => [s.completedBy, s.attempts])).toEqual([
      [runnerPseudonym('good'), 2],
      [runnerPseudonym('good'), 1],
    ]);
    const result = await expectCleanResult(id, clean);
    // A late upload from the garbage runner, even a well-formed one, is refused; the result stays.
    expect((await asRunner(`/v1/runner/jobs/${id}/complete`, body(good))).status).toBe(409);
    expect((await get(`/v1/jobs/${id}/result`)).body).toEqual(result);
  });

  it('the same job submitted concurrently is one job: every caller gets its id, and it is computed once', async () => {
    const spec = { seed: 804, count: 32 };
    const clean = mergeRankingSums(await cleanRunShards(models, spec, 16, BATCH));
    const subs = await Promise.all(
      Array.from({ length: 8 }, () => submit({ kind: 'ranking-sums', ...spec, shardSize: 16 })),
    );
    expect(subs.map((s) => s.status)).toEqual(new Array(8).fill(202));
    const id = subs[0].body.job.id as string;
    expect(new Set(subs.map((s) => s.body.job.id))).toEqual(new Set([id]));
    expect(subs.filter((s) => s.body.created).length).toBe(1);
    const listed = (await get('/v1/jobs?limit=100')).body.jobs.filter((j: any) => j.key === subs[0].body.job.key);
    expect(listed.map((j: any) => j.id)).toEqual([id]);
    expect((await shardsOf(id)).length).toBe(2);

    const r = pool.start('once', wasmRunner(60_000, ['--exit-when-idle']));
    expect((await r.exited).code).toBe(0);
    expect((await get(`/v1/jobs/${id}`)).body.status).toBe('done');
    // Each shard leased and computed exactly once.
    expect(r.output().match(new RegExp(`leased job ${id.slice(0, 8)}`, 'g'))?.length).toBe(2);
    expect((await shardsOf(id)).map((s) => [s.completedBy, s.attempts])).toEqual([
      [runnerPseudonym('once'), 1],
      [runnerPseudonym('once'), 1],
    ]);
    const result = await expectCleanResult(id, clean);
    expect(result.computed.shards.length).toBe(2);
    // Submitted again, concurrently, once it is done: the result, no new job.
    const later = await Promise.all(Array.from({ length: 4 }, () => submit({ kind: 'ranking-sums', ...spec })));
    for (const l of later) expect(l).toMatchObject({ status: 200, body: { status: 'done', key: result.key } });
    expect((await get('/v1/jobs?limit=100')).body.jobs.filter((j: any) => j.key === result.key).length).toBe(1);
  });

  it(
    'a weight file corrupted on disk is refused (the edge serves it to nobody, the ' +
      'job fails naming it); repaired, the job completes as the clean run',
    async () => {
      const cls =
        edge.catalog.classifiers.find((c) => c.name !== edge.catalog.defaultClassifier) ?? edge.catalog.classifiers[0];
      const spec = { seed: 805, count: 32 };
      const clean = mergeRankingSums(await cleanRunShards(localModels(edge.assets, cls.name), spec, 32, BATCH));
      const file = path.join(edge.assets, cls.path, 'weights.bin');
      const original = readFileSync(file);
      corruptWeights(edge.assets, cls.path);
      try {
        // The worker checks the bytes before handing them to a runner, and will not use them itself.
        for (const f of ['manifest', 'weights']) {
          const p = await problemOf(await edge.fetch(`/v1/runner/models/${cls.sha256}/${f}`, { headers: runnerAuth }));
          expect(p).toMatchObject({
            status: 503,
            type: '/problems/weights-refused',
            problem: 'checksum',
            model: cls.name,
          });
        }
        expect(await problemOf(await edge.fetch(`/v1/models/${cls.name}`))).toMatchObject({
          status: 503,
          problem: 'checksum',
        });

        const sub = await submit({ kind: 'ranking-sums', classifier: cls.name, ...spec, shardSize: 32 });
        const id = sub.body.job.id as string;
        const r = pool.start('refused', wasmRunner(60_000));
        const seen = await watchJob(edge, sub.body.statusUrl, 60_000, () => pool.tails(), 'failed');
        const failed = seen[seen.length - 1];
        expect(failed.error).toMatch(/weights of model "[^"]+" refused/);
        expect(failed.error).toContain(cls.name);
        expect(failed.error).toMatch(/checksum|sha256/);
        expect(failed.shards).toMatchObject({ dead: 1, done: 0 });
        // Nothing was computed with the bad file, and nothing is served for it.
        expect(r.output()).not.toMatch(/samples\/s, ETA/);
        expect((await problemOf(await edge.fetch(`/v1/jobs/${id}/result`))).type).toBe('/problems/job-failed');
        expect(
          (
            await problemOf(
              await edge.fetch(`/v1/rankings?classifier=${cls.name}&seed=${spec.seed}&count=${spec.count}`),
            )
          ).type,
        ).toBe('/problems/job-failed');
        const dead = (await call('GET', '/v1/runner/dead-letter', undefined, runnerAuth)).body.shards.find(
          (s: any) => s.jobId === id,
        );
        expect(dead.shard).toMatchObject({ status: 'dead', attempts: 3 });

        // Repaired on disk: served again, and the same runner (which cached nothing bad) completes it.
        writeFileSync(file, original);
        expect((await edge.fetch(`/v1/runner/models/${cls.sha256}/weights`, { headers: runnerAuth })).status).toBe(200);
        const retry = await submit({ kind: 'ranking-sums', classifier: cls.name, ...spec });
        expect(retry.body).toMatchObject({ created: false, job: { id, status: 'queued' } });
        await watchJob(edge, sub.body.statusUrl, 60_000, () => pool.tails());
        await expectCleanResult(id, clean);
      } finally {
        writeFileSync(file, original);
      }
    },
  );
});
