/**
 * The edge API inside workerd (the built bundle, Miniflare configured from wrangler.toml): every
 * endpoint's happy path, validation errors as problem+json, ETag / 304, a job's lifecycle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_SWEEP, type ResultsIndex } from '../../src/protocol/result-keys.js';
import type { DerivedKind } from '../../src/core/analysis/derived-results.js';
import { DERIVED_PAYLOAD_SCHEMAS } from '../../src/protocol/derived-payloads.js';
import { populationSpecHash } from '../../src/core/analysis/population.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import { CrossingTraversal, LiveCornerCase, RangeTraversal } from '../../src/worker/live-schemas.js';
import {
  RUNNER_TOKEN,
  SUBMIT_AUTH,
  ensureCachedResults,
  problemOf,
  recordLease,
  startEdge,
  syntheticSums,
  withLease,
  type EdgeServer,
} from './harness.js';

let edge: EdgeServer;
let keys: Record<string, string>;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

beforeAll(async () => {
  edge = await startEdge((dir, catalog) => {
    keys = ensureCachedResults(dir, catalog);
  });
}, 120_000);

afterAll(async () => {
  await edge?.close();
});

const getJson = async (p: string, init?: RequestInit) => {
  const res = await edge.fetch(p, init);
  return { res, body: (await res.json()) as any };
};
/** A POST; runner calls carry their runner's lease token, as the runner does (test/runner/helpers.ts). */
const post = async (p: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await edge.fetch(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(withLease(p, body)),
  });
  if (p === '/v1/runner/lease' && res.status === 200)
    recordLease((body as { runner: string }).runner, (await res.clone().json()) as any);
  return res;
};

async function expectEtag304(p: string, res: Response) {
  const etag = res.headers.get('etag');
  expect(etag).toMatch(/^"[0-9a-f]+"$/);
  expect(res.headers.get('cache-control')).toBeTruthy();
  const again = await edge.fetch(p, { headers: { 'if-none-match': etag! } });
  expect(again.status).toBe(304);
  expect(again.headers.get('etag')).toBe(etag);
  expect(await again.text()).toBe('');
}

describe('meta', () => {
  it('health, index, OpenAPI 3.1 document and docs page', async () => {
    const { res, body } = await getJson('/v1/health');
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.limits.frames).toBeGreaterThan(0);
    const warm = await getJson('/v1/health?warm=true');
    expect(warm.body.backend).toBe('wasm');
    const doc = await getJson('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    for (const p of [
      '/v1/models',
      '/v1/models/{name}',
      '/v1/classifiers',
      '/v1/rankings',
      '/v1/histograms',
      '/v1/accuracy-curves',
      '/v1/corner-cases',
      '/v1/results/{key}',
      '/v1/render',
      '/v1/classify',
      '/v1/traversal',
      '/v1/corner-case',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/result',
      '/v1/runner/lease',
    ]) {
      expect(doc.body.paths[p], p).toBeDefined();
    }
    const docs = await edge.fetch('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
    expect((await getJson('/')).body.docs).toBe('/docs');
    expect((await getJson('/problems/validation')).body.title).toBe('Invalid request');
  });

  it('unknown routes and methods are 404 problems', async () => {
    const p = await problemOf(await edge.fetch('/v2/nothing'));
    expect(p.status).toBe(404);
    expect(p.type).toBe('/problems/not-found');
    expect((await edge.fetch('/v1/models', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('models', () => {
  it('lists the generator and the classifiers with metadata and metrics; ETag / 304', async () => {
    const { res, body } = await getJson('/v1/models');
    expect(res.status).toBe(200);
    const kinds = body.models.map((m: { kind: string }) => m.kind);
    expect(kinds).toContain('generator');
    expect(kinds).toContain('classifier');
    const cls = body.models.find((m: { kind: string }) => m.kind === 'classifier');
    expect(cls.status).toBe('ready');
    expect(cls.metrics).toBeTypeOf('object');
    expect(cls.sha256).toMatch(/^[0-9a-f]{64}$/);
    await expectEtag304('/v1/models', res);
    const list = await getJson('/v1/classifiers');
    expect(list.body.classifiers.length).toBe(edge.catalog.classifiers.length);
  });

  it('one model; unknown names are 404 with the field', async () => {
    const name = edge.catalog.classifiers[0].name;
    const { res, body } = await getJson(`/v1/models/${name}`);
    expect(res.status).toBe(200);
    expect(body.name).toBe(name);
    const g = await getJson('/v1/models/generator');
    expect(g.body.kind).toBe('generator');
    expect(g.body.styleSize).toBeGreaterThan(0);
    const p = await problemOf(await edge.fetch('/v1/models/no-such-model'));
    expect(p.status).toBe(404);
    expect(p.field).toBe('name');
  });
});

describe('cached results', () => {
  it('rankings: global, per class, top; ETag / 304', async () => {
    const { res, body } = await getJson('/v1/rankings?top=5');
    expect(res.status).toBe(200);
    expect(body.key).toBe(keys['ranking-sums']);
    expect(body.payload.dims).toHaveLength(5);
    expect(body.payload.classIndex).toBeNull();
    expect(body.payload.dims[0].rank).toBe(1);
    expect(Math.abs(body.payload.dims[0].score)).toBeGreaterThanOrEqual(Math.abs(body.payload.dims[4].score));
    await expectEtag304('/v1/rankings?top=5', res);
    const perClass = await getJson('/v1/rankings?class=3&top=3');
    expect(perClass.body.payload.classIndex).toBe(3);
    expect(perClass.res.headers.get('etag')).not.toBe(res.headers.get('etag'));
    const named = await getJson(`/v1/rankings?classifier=${edge.catalog.classifiers[0].name}&top=5`);
    expect(named.res.headers.get('etag')).toBe(res.headers.get('etag'));
  });

  it('histograms, accuracy curves, corner cases, the index and results by key', async () => {
    const served: Array<[string, DerivedKind]> = [
      ['/v1/histograms', 'histograms'],
      ['/v1/accuracy-curves', 'accuracy-curves'],
      ['/v1/corner-cases', 'corner-cases'],
      ['/v1/corner-cases?class=3', 'corner-cases'],
    ];
    for (const [p, kind] of served) {
      const { res, body } = await getJson(p);
      expect(res.status, p).toBe(200);
      expect(body.kind, p).toBe(kind);
      // The shape a runner's result must have to be stored is the shape served (no field lost on the way).
      expect(DERIVED_PAYLOAD_SCHEMAS[kind].safeParse(body.payload).error?.issues ?? [], p).toEqual([]);
      await expectEtag304(p, res);
    }
    const cc = await getJson('/v1/corner-cases?class=3');
    expect(cc.body.payload.classes.every((c: { classIndex: number }) => c.classIndex === 3)).toBe(true);
    const index = await getJson('/v1/results');
    expect(index.res.status).toBe(200);
    const byKey = await getJson(`/v1/results/${keys['histograms']}`);
    expect(byKey.res.status).toBe(200);
    expect(byKey.res.headers.get('cache-control')).toContain('immutable');
    expect(byKey.body.kind).toBe('histograms');
    await expectEtag304(`/v1/results/${keys['histograms']}`, byKey.res);
    expect((await problemOf(await edge.fetch(`/v1/results/${'0'.repeat(64)}`))).status).toBe(404);
    expect((await problemOf(await edge.fetch('/v1/results/not-a-key'))).field).toBe('key');
  });

  it('validation errors name the field', async () => {
    const cases: Array<[string, string, number]> = [
      ['/v1/rankings?class=12', 'class', 400],
      ['/v1/rankings?class=x', 'class', 400],
      ['/v1/rankings?top=0', 'top', 400],
      ['/v1/rankings?count=0', 'count', 400],
      ['/v1/rankings?seed=-1', 'seed', 400],
      ['/v1/rankings?classifier=Bad%20Name', 'classifier', 400],
      ['/v1/rankings?classifier=classifier-none', 'classifier', 404],
    ];
    for (const [p, field, status] of cases) {
      const pr = await problemOf(await edge.fetch(p));
      expect(pr.status, p).toBe(status);
      expect(pr.field, p).toBe(field);
      expect(pr.title && pr.detail && pr.type, p).toBeTruthy();
    }
  });
});

describe('jobs', () => {
  it('a miss names the job; submit (202), dedupe, pending, lease, progress, complete, result, cache hit', async () => {
    const sweep = { seed: 4242, count: 500 };
    const miss = await problemOf(await edge.fetch(`/v1/rankings?seed=${sweep.seed}&count=${sweep.count}`));
    expect(miss.status).toBe(404);
    expect(miss.type).toBe('/problems/not-computed');
    const submitBody = (miss.submit as { body: Record<string, unknown> }).body;
    expect(submitBody).toMatchObject({ kind: 'ranking-sums', ...sweep });

    const sub = await post('/v1/jobs', submitBody, SUBMIT_AUTH);
    expect(sub.status).toBe(202);
    const s1 = (await sub.json()) as any;
    expect(s1.created).toBe(true);
    expect(sub.headers.get('location')).toBe(s1.statusUrl);
    expect(s1.job.status).toBe('queued');
    expect(s1.job.spec).toMatchObject({ ...submitBody, options: {}, classifierId: edge.catalog.classifiers[0].sha256 });
    const again = (await (await post('/v1/jobs', submitBody, SUBMIT_AUTH)).json()) as any;
    expect(again.created).toBe(false);
    expect(again.job.id).toBe(s1.job.id);

    const pending = await edge.fetch(`/v1/rankings?seed=${sweep.seed}&count=${sweep.count}`);
    expect(pending.status).toBe(202);
    expect(((await pending.json()) as any).job.id).toBe(s1.job.id);
    const notYet = await problemOf(await edge.fetch(`${s1.statusUrl}/result`));
    expect(notYet.status).toBe(409);
    expect(notYet.type).toBe('/problems/job-pending');

    // Runner side: token required.
    expect((await post('/v1/runner/lease', { runner: 'r1' })).status).toBe(401);
    const auth = { authorization: `Bearer ${RUNNER_TOKEN}` };
    const lease = await post('/v1/runner/lease', { runner: 'r1', leaseMs: 60_000 }, auth);
    expect(lease.status).toBe(200);
    const leased = (await lease.json()) as any;
    expect(leased.id).toBe(s1.job.id);
    expect(leased.status).toBe('running');
    expect((await post('/v1/runner/lease', { runner: 'r2' }, auth)).status).toBe(204);
    const hb = await post(`/v1/runner/jobs/${leased.id}/heartbeat`, { runner: 'r1', done: 250, total: 500 }, auth);
    expect(hb.status).toBe(200);
    const status = (await (await edge.fetch(s1.statusUrl)).json()) as any;
    expect(status.status).toBe('running');
    expect(status.progress).toMatchObject({ done: 250, total: 500 });
    expect(
      (
        await problemOf(
          await post(`/v1/runner/jobs/${leased.id}/heartbeat`, { runner: 'intruder', done: 1, total: 500 }, auth),
        )
      ).status,
    ).toBe(409);

    // Shard results must carry this job's spec hash (models + population), as a real sweep's do.
    const payload = syntheticSums(
      edge.catalog,
      sweep,
      populationSpecHash(s1.job.spec as AnalysisModels, { ...sweep, classIndex: null }),
    );
    const badPayload = await post(
      `/v1/runner/jobs/${leased.id}/complete`,
      { runner: 'r1', payload: { ...payload, gradSum: [1, 2, 3] } },
      auth,
    );
    expect((await problemOf(badPayload)).field).toBe('payload.gradSum');
    const nanPayload = await post(
      `/v1/runner/jobs/${leased.id}/complete`,
      { runner: 'r1', payload: { ...payload, schema: 'other' } },
      auth,
    );
    expect((await problemOf(nanPayload)).field).toBe('payload.schema');
    const done = await post(
      `/v1/runner/jobs/${leased.id}/complete`,
      { runner: 'r1', payload, computed: { backend: 'test' } },
      auth,
    );
    expect(done.status).toBe(200);
    expect(((await done.json()) as any).status).toBe('done');

    const result = await edge.fetch(`${s1.statusUrl}/result`);
    expect(result.status).toBe(200);
    const stored = (await result.json()) as any;
    expect(stored.key).toBe(s1.job.key);
    expect(stored.payload.specHash).toBe(payload.specHash);
    await expectEtag304(`${s1.statusUrl}/result`, result);

    const ranking = await getJson(`/v1/rankings?seed=${sweep.seed}&count=${sweep.count}&top=4`);
    expect(ranking.res.status).toBe(200);
    expect(ranking.body.payload.dims).toHaveLength(4);
    const resubmit = await post('/v1/jobs', submitBody, SUBMIT_AUTH);
    expect(resubmit.status).toBe(200);
    expect(((await resubmit.json()) as any).status).toBe('done');
    const list = await getJson('/v1/jobs?limit=5');
    expect(list.body.jobs.some((j: { id: string }) => j.id === s1.job.id)).toBe(true);
  });

  it('an expired lease returns the job to the queue; failures are retried, then the job fails', async () => {
    const auth = { authorization: `Bearer ${RUNNER_TOKEN}` };
    const sub = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 77, count: 300 }, SUBMIT_AUTH)
    ).json()) as any;
    const first = (await (await post('/v1/runner/lease', { runner: 'slow', leaseMs: 1000 }, auth)).json()) as any;
    expect(first.id).toBe(sub.job.id);
    await new Promise((r) => setTimeout(r, 1200));
    const second = (await (await post('/v1/runner/lease', { runner: 'fast', leaseMs: 60_000 }, auth)).json()) as any;
    expect(second.id).toBe(sub.job.id);
    expect(second.attempts).toBe(2);
    expect(
      (
        await problemOf(
          await post(`/v1/runner/jobs/${sub.job.id}/heartbeat`, { runner: 'slow', done: 1, total: 300 }, auth),
        )
      ).status,
    ).toBe(409);
    const failed = (await (
      await post(`/v1/runner/jobs/${sub.job.id}/fail`, { runner: 'fast', error: 'out of memory' }, auth)
    ).json()) as any;
    expect(failed.status).toBe('queued');
    // Retried after a backoff (1 s after the first failure), not at once.
    expect(failed.retryAt).toBeTruthy();
    expect((await post('/v1/runner/lease', { runner: 'fast' }, auth)).status).toBe(204);
    await new Promise((r) => setTimeout(r, Date.parse(failed.retryAt) - Date.now() + 100));
    expect((await post('/v1/runner/lease', { runner: 'fast' }, auth)).status).toBe(200);
    const final = (await (
      await post(`/v1/runner/jobs/${sub.job.id}/fail`, { runner: 'fast', error: 'out of memory again' }, auth)
    ).json()) as any;
    expect(final.status).toBe('failed');
    const miss = await problemOf(await edge.fetch('/v1/rankings?seed=77&count=300'));
    expect(miss.type).toBe('/problems/job-failed');
    expect((await problemOf(await edge.fetch(`/v1/jobs/${sub.job.id}/result`))).type).toBe('/problems/job-failed');
    const retry = (await (
      await post('/v1/jobs', { kind: 'ranking-sums', seed: 77, count: 300 }, SUBMIT_AUTH)
    ).json()) as any;
    expect(retry.job.id).toBe(sub.job.id);
    expect(retry.job.status).toBe('queued');
    expect(retry.job.error).toBe('out of memory again');
  });

  it('job validation and unknown jobs', async () => {
    expect(
      (await problemOf(await post('/v1/jobs', { kind: 'everything', seed: 1, count: 10 }, SUBMIT_AUTH))).field,
    ).toBe('kind');
    expect(
      (await problemOf(await post('/v1/jobs', { kind: 'histograms', seed: 1, count: 10_000_000 }, SUBMIT_AUTH))).field,
    ).toBe('count');
    expect((await problemOf(await edge.fetch('/v1/jobs/not-a-uuid'))).field).toBe('id');
    expect((await problemOf(await edge.fetch('/v1/jobs/00000000-0000-4000-8000-000000000000'))).status).toBe(404);
  });
});

describe('live', () => {
  it('render (seed, class) as JSON and PNG; ETag / 304', async () => {
    const { res, body } = await getJson('/v1/render?seed=7&class=3');
    expect(res.status).toBe(200);
    expect(body.probabilities).toHaveLength(10);
    expect(body.pTrue).toBeCloseTo(body.probabilities[3], 5);
    expect(body.image).toMatch(/^data:image\/png;base64,/);
    await expectEtag304('/v1/render?seed=7&class=3', res);
    const png = await edge.fetch('/v1/render?seed=7&class=3&format=png&scale=2');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer()).slice(0, 4)]).toEqual(PNG_SIGNATURE);
    const same = await getJson('/v1/render?seed=7&class=3');
    expect(same.body.probabilities).toEqual(body.probabilities);
    expect(res.headers.get('x-faultlines-cache')).toBe('miss');
    expect(same.res.headers.get('x-faultlines-cache')).toBe('hit');
    expect(same.res.headers.get('etag')).toBe(res.headers.get('etag'));
  });

  it('render a style vector with edits; errors name the field', async () => {
    const base = (await (await post('/v1/render', { seed: 7, class: 3 })).json()) as any;
    const edited = await post('/v1/render', {
      seed: 7,
      class: 3,
      edits: [
        { dim: 5, shift: 3 },
        { dim: 9, value: 0 },
      ],
    });
    expect(edited.status).toBe(200);
    const e = (await edited.json()) as any;
    expect(e.edits).toHaveLength(2);
    expect(e.edits[0].name).toMatch(/^b\d+\.\w+:\d+$/);
    // A shift edit's unit: the class's std in the cached ranking sums (the traversals' unit).
    const dim5 = (
      (await getJson('/v1/rankings?class=3&top=4096')).body.payload.dims as Array<{ index: number; std: number }>
    ).find((d) => d.index === 5)!;
    expect(e.edits[0].std).toBeCloseTo(dim5.std, 5);
    expect(e.edits[1].std).toBeNull();
    expect(e.statistics).toMatchObject({ kind: 'ranking-sums', key: keys['ranking-sums'] });
    expect(e.probabilities).not.toEqual(base.probabilities);
    const S = ((await (await edge.fetch('/v1/models/generator')).json()) as any).styleSize as number;
    const style = await post('/v1/render', { class: 1, style: new Array(S).fill(0.1), format: 'png' });
    expect(style.headers.get('content-type')).toBe('image/png');
    expect((await problemOf(await post('/v1/render', { class: 1, style: [1, 2, 3] }))).field).toBe('style');
    expect((await problemOf(await post('/v1/render', { class: 1 }))).field).toBe('seed');
    expect(
      (await problemOf(await post('/v1/render', { seed: 1, class: 1, edits: [{ dim: S, shift: 1 }] }))).field,
    ).toBe('edits.0.dim');
    expect((await problemOf(await post('/v1/render', { seed: 1, class: 1, edits: [{ dim: 1 }] }))).field).toBe(
      'edits.0',
    );
    expect(
      (
        await problemOf(
          await post('/v1/render', { seed: 1, class: 1, edits: new Array(33).fill({ dim: 1, shift: 1 }) }),
        )
      ).field,
    ).toBe('edits');
  });

  it('classify images; limits on batch and body size', async () => {
    const img = new Array(1024).fill(0);
    for (let y = 8; y < 24; y++) img[y * 32 + 16] = 1;
    const res = await post('/v1/classify', { images: [img, new Array(1024).fill(0)] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.results).toHaveLength(2);
    expect(body.results[0].probabilities).toHaveLength(10);
    expect((await problemOf(await post('/v1/classify', { images: [[0.5, 0.5]] }))).field).toBe('images.0');
    expect((await problemOf(await post('/v1/classify', { images: new Array(17).fill(img) }))).field).toBe('images');
    // The classify limit fits a full batch at full precision (384 KiB), and no more.
    const big = await post('/v1/classify', { images: [img], pad: 'x'.repeat(400_000) });
    expect(big.status).toBe(413);
    expect((await problemOf(big)).type).toBe('/problems/body-too-large');
    const bad = await edge.fetch('/v1/classify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"images": [',
    });
    expect((await problemOf(bad)).status).toBe(400);
  });

  it('traversal of one dim: 9 frames as JSON plus a PNG strip; crossing mode; bounds', async () => {
    const { res, body } = await getJson('/v1/traversal?class=3&dim=17&frames=9');
    expect(res.status).toBe(200);
    expect(body.frames).toHaveLength(9);
    expect(body.frames[0].shift).toBeCloseTo(-4);
    expect(body.frames[8].shift).toBeCloseTo(4);
    expect(body.strip).toMatch(/^data:image\/png;base64,/);
    await expectEtag304('/v1/traversal?class=3&dim=17&frames=9', res);
    const png = await edge.fetch('/v1/traversal?class=3&dim=17&frames=5&format=png&seed=4');
    expect([...new Uint8Array(await png.arrayBuffer()).slice(0, 4)]).toEqual(PNG_SIGNATURE);
    // Start, unit and direction of the cached corner cases: the class's std and ranking direction.
    expect(RangeTraversal.parse(body)).toBeTruthy();
    const ranked = (
      (await getJson('/v1/rankings?class=3&top=4096')).body.payload.dims as Array<{
        index: number;
        std: number;
        direction: string;
        rank: number;
      }>
    ).find((d) => d.index === 17)!;
    expect(body.std).toBeCloseTo(ranked.std, 5);
    expect(body.ranking).toEqual({ rank: ranked.rank, score: expect.any(Number), direction: ranked.direction });
    expect(body.statistics).toMatchObject({
      kind: 'ranking-sums',
      key: keys['ranking-sums'],
      use: 'start, std and ranking',
    });
    const crossing = await getJson('/v1/traversal?class=3&dim=17&frames=5&mode=crossing&range=10');
    expect(crossing.res.status).toBe(200);
    expect(CrossingTraversal.parse(crossing.body)).toBeTruthy();
    expect(crossing.body.frames).toHaveLength(5);
    expect(crossing.body).toMatchObject({
      direction: ranked.direction,
      directionFrom: 'ranking',
      flipped: crossing.body.outcome === 'flipped',
    });
    expect(crossing.body.reasons.length).toBeGreaterThan(0);
    if (crossing.body.flipped) {
      expect(crossing.body.decision.predicted).not.toBe(3);
      expect(crossing.body.decision.shift).toBe(crossing.body.decisionShift);
    } else expect(crossing.body.decision).toBeNull();
    const seeded = await getJson(
      '/v1/traversal?class=3&dim=17&frames=5&mode=crossing&range=10&seed=4&direction=increase',
    );
    expect(seeded.body).toMatchObject({
      startStyle: { seed: 4 },
      std: body.std,
      direction: 'increase',
      directionFrom: 'caller',
    });
    expect((await problemOf(await edge.fetch('/v1/traversal?class=3&dim=17&frames=18'))).field).toBe('frames');
    expect((await problemOf(await edge.fetch('/v1/traversal?class=3&dim=100000'))).field).toBe('dim');
    expect((await problemOf(await edge.fetch('/v1/traversal?class=3&dim=4000'))).field).toBe('dim');
    expect((await problemOf(await edge.fetch('/v1/traversal?class=3&dim=1&range=31'))).field).toBe('range');
    expect((await problemOf(await edge.fetch('/v1/traversal?dim=1'))).field).toBe('class');
  });

  it('one corner-case search for (class, dim)', async () => {
    const { res, body } = await getJson('/v1/corner-case?class=5&dim=3&maxSteps=10');
    expect(res.status).toBe(200);
    expect(LiveCornerCase.parse(body)).toBeTruthy();
    expect(body.statistics).toMatchObject({
      kind: 'ranking-sums',
      key: keys['ranking-sums'],
      use: 'start, std and ranking',
    });
    expect(typeof body.flipped).toBe('boolean');
    expect(body.start.pTrue).toBeGreaterThanOrEqual(0);
    expect(body.reasons.length).toBeGreaterThan(0);
    if (body.flipped) {
      expect(body.outcome).toBe('flipped');
      expect(body.cornerCase.decision.predicted).not.toBe(5);
      expect(body.cornerCase.dim).toMatchObject({ index: 3, direction: body.direction });
      expect(body.skipped).toBeNull();
    } else {
      expect(body.cornerCase).toBeNull();
      expect(body.skipped).toMatchObject({ dim: 3, outcome: body.outcome });
      expect(body.skipped.reason).toBeTruthy();
    }
    await expectEtag304('/v1/corner-case?class=5&dim=3&maxSteps=10', res);
    expect((await problemOf(await edge.fetch('/v1/corner-case?class=5&dim=3&maxSteps=31'))).field).toBe('maxSteps');
  });

  it('no client input produces a 5xx', async () => {
    const probes = [
      '/v1/render?seed=4294967296&class=1',
      '/v1/render?seed=1.5&class=1',
      '/v1/render?seed=&class=',
      '/v1/render?seed=1&class=1&scale=99',
      '/v1/render?seed=1&class=1&format=gif',
      '/v1/traversal?class=1&dim=-1',
      '/v1/traversal?class=1&dim=1&frames=1',
      '/v1/traversal?class=1&dim=1&range=NaN',
      '/v1/traversal?class=1&dim=1&mode=sideways',
      '/v1/rankings?top=99999',
      '/v1/corner-case?class=1&dim=1&tolerance=0',
      '/v1/jobs?limit=1000',
      '/v1/models/%00',
      '/v1/results/' + 'f'.repeat(64),
      '/v1/health?warm=maybe',
      '/problems/none',
    ];
    for (const p of probes) {
      const res = await edge.fetch(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.status, p).toBeLessThan(500);
      await problemOf(res);
    }
    const bodies: unknown[] = [
      null,
      [],
      'x',
      1,
      { seed: 'a', class: 1 },
      { seed: 1, class: 1, style: 'abc' },
      { seed: 1, class: 1, edits: 'x' },
      { seed: 1, class: 1, edits: [{ dim: 1, shift: 1e9 }] },
    ];
    for (const b of bodies) {
      const res = await post('/v1/render', b);
      expect(res.status, JSON.stringify(b)).toBe(400);
      await problemOf(res);
    }
    expect((await problemOf(await edge.fetch('/v1/render?seed=&class=2'))).field).toBe('seed');
    const text = await edge.fetch('/v1/render', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    expect((await problemOf(text)).field).toBe('content-type');
  });
});

describe('isolate', () => {
  it('live requests leave no tensors behind', async () => {
    const count = async () => ((await (await edge.fetch('/v1/health?warm=true')).json()) as any).tensors as number;
    const round = async (k: number) => {
      const codes = [
        (await edge.fetch(`/v1/render?seed=${k}&class=1`)).status,
        (await edge.fetch(`/v1/traversal?class=2&dim=${k % 500}&frames=5&seed=${k}`)).status,
        (await edge.fetch(`/v1/traversal?class=2&dim=${k % 500}&frames=5&mode=crossing&range=5`)).status,
        (await edge.fetch(`/v1/corner-case?class=2&dim=${k % 500}&maxSteps=5`)).status,
        (await post('/v1/classify', { images: [new Array(1024).fill(k / 1000)] })).status,
        (await post('/v1/render', { seed: k, class: 2, edits: [{ dim: 1, shift: 1 }] })).status,
      ];
      expect(codes.every((c) => c === 200)).toBe(true);
    };
    await round(101); // first use builds models and statistics
    const before = await count();
    await round(202);
    await round(303);
    expect(await count()).toBe(before);
  });
});

describe('defaults', () => {
  it('the default sweep is the one the cached results use', async () => {
    // The committed results are all of the default sweep: a sweep changed on one side only would
    // leave every cached endpoint answering 404 (or from another population).
    const committed = JSON.parse(readFileSync('data/precomputed/index.json', 'utf8')) as ResultsIndex;
    expect(committed.entries.length).toBeGreaterThan(0);
    for (const e of committed.entries) expect(e.sweep, `${e.kind} of ${e.classifier}`).toEqual(DEFAULT_SWEEP);
    // The routes' default is that sweep: the same result as naming it explicitly.
    const implicit = await getJson('/v1/rankings?top=1');
    const explicit = await getJson(`/v1/rankings?top=1&seed=${DEFAULT_SWEEP.seed}&count=${DEFAULT_SWEEP.count}`);
    expect(implicit.res.status).toBe(200);
    expect(implicit.body.key).toBe(explicit.body.key);
    expect(implicit.body.sweep).toEqual(DEFAULT_SWEEP);
  });
});
