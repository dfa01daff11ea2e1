/**
 * The API side of the widgets (in workerd, no browser): row-shaped JSON/CSV tables, embeddings,
 * embed pages, the widgets module, the dashboard at `/`, and CORS only on reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servableResults } from '../browser/fixtures.js';
import { problemOf, startEdge, type EdgeServer } from './harness.js';

let edge: EdgeServer;
const RANKING_COLUMNS = [
  'classifier',
  'class',
  'rank',
  'dim',
  'layer',
  'channel',
  'direction',
  'score',
  'meanGradient',
  'standardError',
  'mean',
  'std',
];
const CURVE_COLUMNS = [
  'reference',
  'classifier',
  'bin',
  'lo',
  'hi',
  'mid',
  'count',
  'correct',
  'accuracy',
  'ciLow',
  'ciHigh',
  'sparse',
  'robustness',
  'robustnessLow',
  'robustnessHigh',
  'overallAccuracy',
];

beforeAll(async () => {
  edge = await startEdge(servableResults);
}, 120_000);

afterAll(async () => {
  await edge?.close();
});

const ORIGIN = { origin: 'https://dashboards.example' };

describe('tables', () => {
  it('ranking rows: JSON array and CSV with the same rows; ETag / 304; CORS', async () => {
    const res = await edge.fetch('/v1/rankings/rows?top=5&class=3', { headers: ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const rows = (await res.json()) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows[0])).toEqual(RANKING_COLUMNS);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].class).toBe(3);
    const csv = await edge.fetch('/v1/rankings/rows?top=5&class=3&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe(RANKING_COLUMNS.join(','));
    expect(lines).toHaveLength(6);
    expect(lines[1].split(',')[3]).toBe(String(rows[0].dim));
    const etag = res.headers.get('etag')!;
    const again = await edge.fetch('/v1/rankings/rows?top=5&class=3', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(csv.headers.get('etag')).not.toBe(etag);
  });

  it('accuracy-curve rows: one per classifier and bin', async () => {
    const rows = (await (await edge.fetch('/v1/accuracy-curves/rows')).json()) as Array<Record<string, unknown>>;
    expect(Object.keys(rows[0])).toEqual(CURVE_COLUMNS);
    const names = new Set(rows.map((r) => r.classifier));
    expect(names.size).toBe(edge.catalog.classifiers.length);
    expect(rows.every((r) => r.reference === edge.catalog.defaultClassifier)).toBe(true);
    const csv = await (await edge.fetch('/v1/accuracy-curves/rows?format=csv&classifier=classifier-corrupted')).text();
    expect(csv.split('\r\n')[1].startsWith('classifier-corrupted,')).toBe(true);
  });

  it('validates inputs with problem+json (and a miss names the job)', async () => {
    let p = await problemOf(await edge.fetch('/v1/rankings/rows?format=xml'));
    expect(p.status).toBe(400);
    expect(p.field).toBe('format');
    p = await problemOf(await edge.fetch('/v1/rankings/rows?top=0'));
    expect(p.field).toBe('top');
    p = await problemOf(await edge.fetch('/v1/accuracy-curves/rows?classifier=nope'));
    expect(p.status).toBe(404);
    expect(p.field).toBe('classifier');
    p = await problemOf(await edge.fetch('/v1/accuracy-curves/rows?seed=99&count=10'));
    expect(p.type).toBe('/problems/not-computed');
    expect((p.submit as { href: string }).href).toBe('/v1/jobs');
  });
});

describe('embeddings', () => {
  it('Z, W and S points with labels and the kNN AUROC; one space on request', async () => {
    const body = (await (await edge.fetch('/v1/embeddings')).json()) as any;
    expect(body.kind).toBe('embeddings');
    expect(body.payload.spaces.map((s: { space: string }) => s.space)).toEqual(['Z', 'W', 'S']);
    const n = body.payload.count;
    expect(body.payload.labels).toHaveLength(n);
    expect(body.payload.spaces[2].points).toHaveLength(n);
    const s = (await (await edge.fetch('/v1/embeddings?space=S&classifier=classifier-corrupted')).json()) as any;
    expect(s.payload.spaces).toHaveLength(1);
    expect(s.classifier).toBe('classifier-corrupted');
    expect((await problemOf(await edge.fetch('/v1/embeddings?space=X'))).field).toBe('space');
  });

  it("a point's sample, rendered and classified again, is the embeddings' sample: its class and verdict; bad input names the field", async () => {
    for (const classifier of ['classifier-clean', 'classifier-corrupted']) {
      const emb = (await (await edge.fetch(`/v1/embeddings?classifier=${classifier}&space=Z`)).json()) as any;
      const p = emb.payload as { labels: number[]; correct: number[] };
      // Every misclassified point (at most 25) and as many correct ones: the verdicts must be the cached ones.
      const mis = p.correct.flatMap((c, i) => (c ? [] : [i])).slice(0, 25);
      const ok = p.correct.flatMap((c, i) => (c ? [i] : [])).slice(0, Math.max(5, mis.length));
      expect(mis.length, classifier).toBeGreaterThan(0);
      for (const i of [...mis, ...ok]) {
        const r = await edge.fetch(`/v1/embeddings/sample?classifier=${classifier}&index=${i}&scale=1`);
        expect(r.status, `${classifier} ${i}`).toBe(200);
        const b = (await r.json()) as any;
        expect(b.class, `${classifier} ${i}`).toBe(p.labels[i]);
        expect(b.correct, `${classifier} ${i}`).toBe(p.correct[i] === 1);
        expect(b.predicted === b.class).toBe(b.correct);
        expect(b.image).toMatch(/^data:image\/png;base64,/);
      }
    }
    const png = await edge.fetch('/v1/embeddings/sample?index=3&format=png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('x-predicted-class')).toMatch(/^\d$/);
    for (const q of ['', 'index=-1', 'index=abc', 'index=1.5', 'index=10&count=10'])
      expect((await problemOf(await edge.fetch(`/v1/embeddings/sample?${q}`))).field, q).toBe('index');
  }, 300_000);
});

describe('widgets module, embeds and dashboard', () => {
  it('serves the widgets module at its v1 URL and, immutable, at its hashed URL', async () => {
    const res = await edge.fetch('/widgets/v1/faultlines-widgets.js', { headers: ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const text = await res.text();
    expect(text).toContain('faultlines-traversal');
    const page = await (await edge.fetch('/embed/ranking')).text();
    const hashed = /src="(\/widgets\/v1\/faultlines-widgets\.[0-9a-f]{12}\.js)"/.exec(page)![1];
    const h = await edge.fetch(hashed);
    expect(h.headers.get('cache-control')).toContain('immutable');
    expect(await h.text()).toBe(text);
    expect((await edge.fetch('/widgets/v1/other.js')).status).toBe(404);
  });

  it('embed pages carry the validated attributes; bad inputs are problems', async () => {
    const res = await edge.fetch('/embed/traversal?classifier=classifier-corrupted&class=4&dim=17&range=3');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    // No API origin in the page (never the Host header): the widget uses its module's origin.
    expect(html).toMatch(
      /<faultlines-traversal heading-level="2" classifier="classifier-corrupted" class="4" dim="17" range="3">/,
    );
    expect(html).not.toMatch(/<faultlines-traversal[^>]* api=/);
    // The problem type says what is wrong: a missing dim is invalid, a dim past S out of range.
    expect(await problemOf(await edge.fetch('/embed/traversal'))).toMatchObject({
      field: 'dim',
      type: '/problems/validation',
    });
    expect(await problemOf(await edge.fetch('/embed/traversal?dim=4000'))).toMatchObject({
      field: 'dim',
      type: '/problems/out-of-range',
    });
    expect((await problemOf(await edge.fetch('/embed/ranking?classifier=nope'))).status).toBe(404);
    expect((await problemOf(await edge.fetch('/embed/gauge'))).field).toBe('widget');
    expect((await problemOf(await edge.fetch('/embed/accuracy-curve?compare=%3Cscript%3E'))).field).toBe('compare');
    const cc = await (await edge.fetch('/embed/accuracy-curve?compare=classifier-corrupted&theme=dark')).text();
    expect(cc).toContain('compare="classifier-corrupted"');
  });

  it('`/` is the dashboard for browsers and the JSON index otherwise', async () => {
    const html = await edge.fetch('/', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('vary')).toBe('accept');
    const page = await html.text();
    expect(page).toContain('Faultlines dashboard');
    const dash = /src="(\/dashboard\/v1\/dashboard\.[0-9a-f]{12}\.js)"/.exec(page)![1];
    expect((await edge.fetch(dash)).headers.get('cache-control')).toContain('immutable');
    const json = (await (await edge.fetch('/')).json()) as { docs: string };
    expect(json.docs).toBe('/docs');
  });
});

describe('OpenAPI', () => {
  it('documents the tables, embeddings and embed routes', async () => {
    const doc = (await (await edge.fetch('/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const p of ['/v1/rankings/rows', '/v1/accuracy-curves/rows', '/v1/embeddings', '/embed/{widget}'])
      expect(doc.paths[p], p).toBeDefined();
  });
});

describe('CORS', () => {
  it('reads allow any origin; writes and runner routes get no CORS headers', async () => {
    for (const p of [
      '/v1/rankings?top=1',
      '/v1/accuracy-curves',
      '/v1/corner-cases?class=1',
      '/v1/traversal?class=1&dim=3&frames=3',
      '/v1/models',
      '/v1/embeddings?space=Z',
    ]) {
      const res = await edge.fetch(p, { headers: ORIGIN });
      expect(res.status, p).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), p).toBe('*');
      expect(res.headers.get('access-control-allow-credentials'), p).toBeNull();
      // Widgets read these (ETag revalidation, Retry-After of a 429/503, the traversal's outcome).
      expect(res.headers.get('access-control-expose-headers')?.split(/,\s*/), p).toEqual(
        expect.arrayContaining(['etag', 'retry-after', 'x-outcome']),
      );
    }
    const bad = await edge.fetch('/v1/rankings?top=0', { headers: ORIGIN });
    expect(bad.headers.get('access-control-allow-origin')).toBe('*'); // widgets can read the problem
    const pre = await edge.fetch('/v1/render', {
      method: 'OPTIONS',
      headers: { ...ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(['GET', 'HEAD']);
    const write = await edge.fetch('/v1/render', {
      method: 'POST',
      headers: { ...ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 1, class: 1 }),
    });
    expect(write.headers.get('access-control-allow-origin')).toBeNull();
    const jobs = await edge.fetch('/v1/jobs', { headers: ORIGIN });
    expect(jobs.headers.get('access-control-allow-origin')).toBeNull();
    expect(
      (await edge.fetch('/v1/jobs', { method: 'OPTIONS', headers: ORIGIN })).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });
});
