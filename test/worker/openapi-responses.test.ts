/**
 * The OpenAPI document describes what the worker serves: each reply below is checked against the
 * schema /openapi.json declares for its path, method, status and content type — the document's
 * JSON Schema, turned into a validator independently of the zod schemas the routes are built from
 * (zod's `fromJSONSchema`). A status the document does not declare fails too.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COLOUR } from '../../src/core/data/domain.js';
import { z } from 'zod';
import {
  RUNNER_TOKEN,
  SUBMIT_AUTH,
  classifierUpload,
  edgeForFile,
  fixture,
  recordLease,
  withLease,
} from './harness.js';

// Every domain now has a generator; coloured MNIST's is taken out of the catalog so that the 409 of
// a domain without one (as before `npm run paint:generator`) is checked against the document too.
const edge = edgeForFile((assets, catalog) => {
  catalog.domains!.find((d) => d.name === COLOUR.name)!.generator = null;
  writeFileSync(path.join(assets, 'catalog.json'), JSON.stringify(catalog));
});

/** An OpenAPI document, read as JSON: it is what is checked, so it is not typed. */
type Doc = any;
let doc: Doc;
async function openapi(): Promise<Doc> {
  doc ??= await (await edge().fetch('/openapi.json')).json();
  return doc;
}

/** The path template of `pathname` in the document (`/v1/results/abc` -> `/v1/results/{key}`). */
function templateOf(d: Doc, pathname: string): string {
  const found = Object.keys(d.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname));
  if (!found) throw new Error(`no path in the document for ${pathname}`);
  return found;
}

/**
 * `schema` with every object that lists its properties and says nothing of others closed
 * (`additionalProperties: false`): a reply's field the document does not name fails the check.
 * Objects open on purpose say so (`additionalProperties: {}`: a problem's extension members, records).
 */
function closed(schema: any): any {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** JSON pointers of the objects in `node` that list properties yet let any other field through. */
function openObjects(node: any, at: string): string[] {
  if (node === null || typeof node !== 'object') return [];
  const here =
    node.properties && (node.additionalProperties === true || isEmpty(node.additionalProperties)) ? [at] : [];
  return [...here, ...Object.entries(node).flatMap(([k, v]) => openObjects(v, `${at}/${k}`))];
}
const isEmpty = (v: unknown) => typeof v === 'object' && v !== null && Object.keys(v).length === 0;

/** Fetches `pathname` and checks the reply against the document; returns the status and body. */
async function conforms(pathname: string, init: RequestInit = {}) {
  const d = await openapi();
  const res = await edge().fetch(pathname, init);
  const method = (init.method ?? 'get').toLowerCase();
  const op = d.paths[templateOf(d, new URL(pathname, 'http://x').pathname)][method];
  const declared = op.responses[String(res.status)];
  expect(declared, `${method} ${pathname}: status ${res.status} is not in the document`).toBeDefined();
  const type = (res.headers.get('content-type') ?? '').split(';')[0];
  const media = declared.content?.[type];
  expect(media, `${method} ${pathname} ${res.status}: ${type} is not declared`).toBeDefined();
  const body = await res.json();
  const jsonSchema = closed(
    JSON.parse(
      JSON.stringify({ ...media.schema, $defs: d.components.schemas }).replaceAll('#/components/schemas/', '#/$defs/'),
    ),
  );
  const parsed = z.fromJSONSchema(jsonSchema).safeParse(body);
  expect(parsed.error?.issues.slice(0, 3) ?? [], `${method} ${pathname} ${res.status}`).toEqual([]);
  return { status: res.status, body };
}

describe('the OpenAPI document describes the replies', () => {
  it('with closed objects: none that lists fields lets others through, but the problem (RFC 9457 extensions)', async () => {
    const d = await openapi();
    const { Problem, ...schemas } = d.components.schemas;
    expect(Problem.additionalProperties).toEqual({});
    const responses = Object.entries(d.paths).flatMap(([p, ops]: [string, any]) =>
      Object.entries(ops).flatMap(([m, op]: [string, any]) =>
        Object.entries(op.responses ?? {}).map(([status, r]) => [`${m} ${p} ${status}`, r] as const),
      ),
    );
    expect([
      ...openObjects(schemas, '#/components/schemas'),
      ...responses.flatMap(([at, r]) => openObjects(r, at)),
    ]).toEqual([]);
  });

  it("of every seeded result, served whole: each kind's payload as the document declares it", async () => {
    const kinds = new Set<string>();
    for (const domain of ['mnist', 'fashion', COLOUR.name]) {
      const index = await conforms(`/v1/results?domain=${domain}`);
      expect(index.status).toBe(200);
      for (const entry of index.body.entries as Array<{ key: string; kind: string }>) {
        const stored = await conforms(`/v1/results/${entry.key}`);
        expect(stored.status, `${domain} ${entry.kind}`).toBe(200);
        expect(stored.body.kind).toBe(entry.kind);
        kinds.add(entry.kind);
      }
    }
    expect([...kinds].sort()).toEqual([
      'accuracy-curves',
      'corner-cases',
      'directions',
      'embeddings',
      'histograms',
      'ranking-sums',
    ]);
  }, 300_000);

  it('of the cached-result views, the stored result and the index', async () => {
    const d = await openapi();
    // Each view's payload is named in the document, not an open object.
    for (const name of [
      'RankingPayload',
      'HistogramsPayload',
      'AccuracyCurvesPayload',
      'CornerCasesPayload',
      'DirectionsPayload',
      'StoredResult',
      'PendingResult',
      'EmbeddingsPayload',
    ])
      expect(d.components.schemas[name], name).toBeDefined();
    const ranking = await conforms('/v1/rankings?top=5');
    expect(ranking.status).toBe(200);
    expect(ranking.body.payload.dims).toHaveLength(5);
    expect((await conforms('/v1/rankings?class=3&top=3')).status).toBe(200);
    for (const p of ['/v1/histograms', '/v1/accuracy-curves', '/v1/corner-cases', '/v1/directions', '/v1/embeddings'])
      expect((await conforms(p)).status, p).toBe(200);
    const index = await conforms('/v1/results');
    expect(index.body.entries.length).toBeGreaterThan(0);
    expect((await conforms(ranking.body.resultUrl)).status).toBe(200);
    // A sweep nobody computed: 404 naming the job to submit, as a problem the document declares.
    const miss = await conforms('/v1/rankings?seed=4242&count=64');
    expect(miss.status).toBe(404);
    expect(miss.body.submit.body).toMatchObject({ kind: 'ranking-sums', seed: 4242, count: 64 });
  }, 120_000);

  it('of the models, live and job endpoints', async () => {
    const models = await conforms('/v1/models');
    expect(models.status).toBe(200);
    expect(models.body.models.length).toBeGreaterThan(1);
    expect((await conforms('/v1/classifiers')).status).toBe(200);
    expect((await conforms(`/v1/models/${edge().catalog.defaultClassifier}`)).status).toBe(200);
    expect((await conforms('/v1/render?seed=1&class=3')).status).toBe(200);
    // Render with edits: the applied edits and the sums their std units came from, as declared.
    const edited = await conforms('/v1/render', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        seed: 1,
        class: 3,
        edits: [
          { dim: 5, shift: 2 },
          { dim: 7, value: 0.5 },
        ],
      }),
    });
    expect(edited.status).toBe(200);
    expect(edited.body.edits).toHaveLength(2);
    expect(edited.body.statistics.kind).toBe('ranking-sums');
    expect((await conforms('/v1/embeddings/sample?index=3')).status).toBe(200);
    const classify = await conforms('/v1/classify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ images: [new Array(1024).fill(0)] }),
    });
    expect(classify.status).toBe(200);
    expect(classify.body.results[0].probabilities).toHaveLength(10);
    expect((await conforms('/v1/jobs')).status).toBe(200);
    // Invalid input: a problem naming the field, as declared.
    const bad = await conforms('/v1/render?seed=1&class=12');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('class');
  }, 120_000);

  it('of health, a registered classifier, the dead letters and the table rows, each by a named schema', async () => {
    const d = await openapi();
    // Named in the document, and closed objects (no passthrough), so an extra or missing field fails.
    for (const name of ['Health', 'RegisteredClassifierInfo', 'DeadLetter', 'RankingRow', 'AccuracyCurveRow']) {
      expect(d.components.schemas[name], name).toBeDefined();
      expect(d.components.schemas[name].additionalProperties, name).not.toEqual({});
    }
    const health = await conforms('/v1/health?warm=true');
    expect(health.status).toBe(200);
    expect(health.body.backendInitMs).toBeTypeOf('number');

    const form = classifierUpload(fixture('mlp-layers'), { name: 'openapi-check' });
    const registered = await conforms('/v1/classifiers', { method: 'POST', headers: SUBMIT_AUTH, body: form });
    expect([200, 201]).toContain(registered.status);
    const info = await conforms(`/v1/classifiers/${registered.body.id}`);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ id: registered.body.id, displayName: 'openapi-check', status: 'registered' });
    expect(info.body.architecture.classes).toHaveLength(10);

    const rankingRows = await conforms('/v1/rankings/rows?top=4');
    expect(rankingRows.status).toBe(200);
    expect(rankingRows.body).toHaveLength(4);
    const curveRows = await conforms('/v1/accuracy-curves/rows');
    expect(curveRows.status).toBe(200);
    expect(curveRows.body.length).toBeGreaterThan(1);

    // A shard failed on each of its attempts is dead-lettered: the list names it, as declared.
    const runner = { authorization: `Bearer ${RUNNER_TOKEN}`, 'content-type': 'application/json' };
    const post = (p: string, body: object) =>
      edge().fetch(p, { method: 'POST', headers: runner, body: JSON.stringify(withLease(p, body)) });
    const submitted = await edge().fetch('/v1/jobs', {
      method: 'POST',
      headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'ranking-sums', seed: 9071, count: 16, shardSize: 16 }),
    });
    const { job } = (await submitted.json()) as { job: { id: string; status: string } };
    for (let attempt = 0; attempt < 10 && job.status !== 'failed'; attempt++) {
      let lease: any = null;
      // A failed shard is leasable again after its backoff.
      for (let i = 0; lease === null && i < 100; i++) {
        const res = await post('/v1/runner/lease', { runner: 'openapi-r', leaseMs: 60_000 });
        if (res.status === 200) lease = await res.json();
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(lease.id).toBe(job.id);
      recordLease('openapi-r', lease);
      const failed = await post(`/v1/runner/jobs/${job.id}/fail`, {
        runner: 'openapi-r',
        shard: 0,
        error: 'device lost',
      });
      expect(failed.status).toBe(200);
      job.status = ((await (await edge().fetch(`/v1/jobs/${job.id}`)).json()) as { status: string }).status;
    }
    expect(job.status).toBe('failed');
    const dead = await conforms('/v1/runner/dead-letter', { headers: runner });
    expect(dead.status).toBe(200);
    expect(dead.body.shards.find((s: any) => s.jobId === job.id)?.shard).toMatchObject({
      status: 'dead',
      error: 'device lost',
    });
  }, 300_000);

  it('of the domains and the domain-scoped models and render, refusals included', async () => {
    const domains = await conforms('/v1/domains');
    expect(domains.status).toBe(200);
    const named = (domains.body as { domains: Array<{ name: string; default: boolean; generator: unknown }> }).domains;
    const withGenerator = named.find((d) => !d.default && d.generator !== null);
    const without = named.find((d) => d.generator === null);
    expect(withGenerator, 'a non-default domain with a generator (fashion)').toBeDefined();
    expect(without?.name, 'a domain without a generator (colour, taken out above)').toBe(COLOUR.name);
    for (const p of [`/v1/models?domain=${withGenerator!.name}`, `/v1/classifiers?domain=${without!.name}`])
      expect((await conforms(p)).status, p).toBe(200);
    expect((await conforms(`/v1/render?seed=1&class=3&domain=${withGenerator!.name}`)).status).toBe(200);
    expect((await conforms(`/v1/render?seed=1&class=3&domain=${without!.name}`)).status).toBe(409);
    expect((await conforms('/v1/models?domain=nope')).status).toBe(400);
  }, 120_000);
});
