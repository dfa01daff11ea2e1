/**
 * The OpenAPI document describes what the worker serves: each reply below is checked against the
 * schema /openapi.json declares for its path, method, status and content type — the document's
 * JSON Schema, turned into a validator independently of the zod schemas the routes are built from
 * (zod's `fromJSONSchema`). A status the document does not declare fails too.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { edgeForFile } from './harness.js';

const edge = edgeForFile();

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
  const jsonSchema = JSON.parse(
    JSON.stringify({ ...media.schema, $defs: d.components.schemas }).replaceAll('#/components/schemas/', '#/$defs/'),
  );
  const parsed = z.fromJSONSchema(jsonSchema).safeParse(body);
  expect(parsed.error?.issues.slice(0, 3) ?? [], `${method} ${pathname} ${res.status}`).toEqual([]);
  return { status: res.status, body };
}

describe('the OpenAPI document describes the replies', () => {
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

  it('of the domains and the domain-scoped models and render, refusals included', async () => {
    const domains = await conforms('/v1/domains');
    expect(domains.status).toBe(200);
    const named = (domains.body as { domains: Array<{ name: string; default: boolean; generator: unknown }> }).domains;
    const withGenerator = named.find((d) => !d.default && d.generator !== null);
    const without = named.find((d) => d.generator === null);
    expect(withGenerator, 'a non-default domain with a generator (fashion)').toBeDefined();
    expect(without, 'a domain without a generator yet').toBeDefined();
    for (const p of [`/v1/models?domain=${withGenerator!.name}`, `/v1/classifiers?domain=${without!.name}`])
      expect((await conforms(p)).status, p).toBe(200);
    expect((await conforms(`/v1/render?seed=1&class=3&domain=${withGenerator!.name}`)).status).toBe(200);
    expect((await conforms(`/v1/render?seed=1&class=3&domain=${without!.name}`)).status).toBe(409);
    expect((await conforms('/v1/models?domain=nope')).status).toBe(400);
  }, 120_000);
});
