/**
 * Domains at the edge (issue 15): GET /v1/domains against the committed manifests read here from
 * weights/, `?domain=` on the model listings and the render (a fashion render re-classified here
 * from its PNG with the committed fashion classifier), and the refusals: an unknown domain, a
 * classifier of another domain (400 naming `domain`), a domain without a generator (409).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decode, encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/core/tf.js';
import { COLOUR, DEFAULT_DOMAIN, DOMAINS, FASHION, MNIST } from '../../src/core/data/domain.js';
import { folderSource, loadModelFilesSync } from '../../src/core/loading/model-files.js';
import { DomainsResponseSchema, type DomainsResponse } from '../../src/protocol/domains.js';
import { useBackend } from '../../src/node/backend.js';
import { SUBMIT_AUTH, edgeForFile, problemOf } from './harness.js';
import {
  DEFAULT_OPTIONS,
  DEFAULT_SWEEP,
  RESULT_KINDS,
  resultKey,
  type ResultKind,
  type StoredResult,
} from '../../src/protocol/result-keys.js';
import { histogramsResult } from '../../src/core/analysis/derived-results.js';
import type { RankingSums } from '../../src/core/analysis/ranking.js';
import { buildClassifier, buildGenerator } from '../../src/core/loading/built-models.js';
import {
  MNIST_REPLIES_FIXTURE,
  MNIST_REQUESTS,
  recordReply,
  requestInit,
  type RecordedReply,
} from './mnist-replies.js';

// Fashion's built-in results are committed (npm run seed:edge -- --domain fashion; current:
// test/worker/edge-sources.test.ts) and served as they are.
const edge = edgeForFile();
/**
 * The same edge with coloured MNIST's generator taken out of the catalog (as before
 * `npm run paint:generator` made it): the routes that need a generator answer 409.
 */
const edgeWithoutColourGenerator = edgeForFile((assets, catalog) => {
  const colour = catalog.domains!.find((d) => d.name === COLOUR.name)!;
  colour.generator = null;
  writeFileSync(path.join(assets, 'catalog.json'), JSON.stringify(catalog));
});

const manifestAt = (...p: string[]) =>
  JSON.parse(readFileSync(path.join('weights', ...p, 'manifest.json'), 'utf8')) as {
    sha256: string;
    metrics: Record<string, unknown> & { quality?: Record<string, number> };
  };

/** A fashion result of the default sweep keyed as the worker keys it (the domain is part of the key). */
const fashionKey = (kind: ResultKind, classifier = 'classifier-clean') =>
  resultKey({
    kind,
    generatorId: manifestAt(FASHION.name, 'generator').sha256,
    classifierId: manifestAt(FASHION.name, classifier).sha256,
    sweep: DEFAULT_SWEEP,
    domain: FASHION.name,
  });
const fashionSumsKey = fashionKey('ranking-sums');

/** A classifier as committed, built here (wasm) to re-classify what the edge rendered. */
function committedClassifier(...p: string[]) {
  const dir = path.join('weights', ...p);
  return buildClassifier(dir, loadModelFilesSync(folderSource(dir, (f) => readFileSync(f), path.join)));
}

/** A 32x32 grey PNG of `pixels` in [0, 1], as base64. */
function pngOf(pixels: Float32Array): string {
  const data = Uint8Array.from(pixels, (v) => Math.round(v * 255));
  return Buffer.from(encode({ width: 32, height: 32, data, channels: 1, depth: 8 })).toString('base64');
}

function pngPixels(dataUrl: string): Float32Array {
  const img = decode(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
  expect(img.channels).toBe(1);
  return Float32Array.from(img.data, (v) => v / 255);
}

describe('GET /v1/domains', () => {
  let body: DomainsResponse;
  beforeAll(async () => {
    const res = await edge().fetch('/v1/domains');
    expect(res.status).toBe(200);
    body = DomainsResponseSchema.parse(await res.json());
  });

  it('is listed in the index', async () => {
    const index = (await (await edge().fetch('/')).json()) as { endpoints: string[] };
    expect(index.endpoints).toContain('/v1/domains');
  });

  it('lists every domain descriptor with its classes and image shape, the default first', () => {
    expect(body.defaultDomain).toBe(DEFAULT_DOMAIN);
    expect(body.domains.map((d) => d.name)).toEqual(DOMAINS.map((d) => d.name));
    expect(body.domains.filter((d) => d.default).map((d) => d.name)).toEqual([MNIST.name]);
    const fashion = body.domains.find((d) => d.name === FASHION.name)!;
    expect(fashion.classes).toEqual(FASHION.classNames);
    expect(fashion.classes[3]).toBe('Dress');
    expect(fashion.image).toEqual({ size: 32, channels: 1 });
    expect(body.domains.find((d) => d.name === COLOUR.name)!.image).toEqual({ size: 32, channels: 3 });
  });

  it("serves each domain's models with the accuracies and quality of the committed manifests", () => {
    const mnist = body.domains.find((d) => d.name === MNIST.name)!;
    const mnistGen = manifestAt('generator');
    expect(mnist.generator?.id).toBe(mnistGen.sha256);
    expect(mnist.generator?.quality?.frechetRatio).toBe(mnistGen.metrics.quality?.frechetRatio);
    expect(mnist.generator?.quality?.classConsistency).toBe(mnistGen.metrics.quality?.classConsistency);
    const clean = mnist.classifiers.find((c) => c.name === 'classifier-clean')!;
    expect(clean.id).toBe(manifestAt('classifier-clean').sha256);
    expect(clean.accuracy).toEqual({
      clean: manifestAt('classifier-clean').metrics.accuracy_test_clean,
      corrupted: manifestAt('classifier-clean').metrics.accuracy_test_corrupted,
    });

    const fashion = body.domains.find((d) => d.name === FASHION.name)!;
    expect(fashion.generator?.id).toBe(manifestAt(FASHION.name, 'generator').sha256);
    // Served as committed; while its manifest has no metrics.quality (not measured yet), none is invented.
    const fQuality = manifestAt(FASHION.name, 'generator').metrics.quality;
    if (fQuality === undefined) expect(fashion.generator?.quality).toBeNull();
    else expect(fashion.generator?.quality?.frechetRatio).toBe(fQuality.frechetRatio);
    expect(fashion.classifiers.map((c) => c.name)).toEqual(['classifier-clean', 'classifier-corrupted']);
    const fClean = manifestAt(FASHION.name, 'classifier-clean');
    expect(fashion.classifiers[0].id).toBe(fClean.sha256);
    expect(fashion.classifiers[0].accuracy.clean).toBe(fClean.metrics.accuracy_test_clean);
    expect(fashion.defaultClassifier).toBe('classifier-clean');

    // Coloured MNIST: its painted generator (npm run paint:generator) with its measured quality.
    const colour = body.domains.find((d) => d.name === COLOUR.name)!;
    const colourGen = manifestAt(COLOUR.name, 'generator');
    expect(colour.generator?.id).toBe(colourGen.sha256);
    expect(colour.generator?.quality?.classConsistency).toBe(colourGen.metrics.quality?.classConsistency);
    expect(colour.generator?.quality?.frechetRatio).toBe(colourGen.metrics.quality?.frechetRatio);
    expect(colour.classifiers.map((c) => c.name).sort()).toEqual(['classifier-independent', 'classifier-spurious']);
    const spurious = colour.classifiers.find((c) => c.name === 'classifier-spurious')!;
    expect(spurious.accuracy.spurious).toBe(
      manifestAt(COLOUR.name, 'classifier-spurious').metrics.accuracy_test_spurious,
    );
  });
});

describe('?domain=', () => {
  it('an unknown domain is a 400 naming `domain`, on every endpoint that takes it', async () => {
    for (const url of [
      '/v1/models?domain=cifar',
      '/v1/classifiers?domain=cifar',
      '/v1/render?seed=1&class=1&domain=cifar',
    ]) {
      const p = await problemOf(await edge().fetch(url));
      expect(p.status, url).toBe(400);
      expect(p.field, url).toBe('domain');
      expect(p.detail, url).toContain(FASHION.name);
    }
  });

  it("lists a domain's own models; a classifier of another domain is a 400 naming `domain`", async () => {
    const list = (await (await edge().fetch(`/v1/models?domain=${FASHION.name}`)).json()) as {
      models: Array<{ name: string; kind: string; id: string; status: string }>;
    };
    expect(list.models.map((m) => [m.kind, m.id])).toEqual([
      ['generator', manifestAt(FASHION.name, 'generator').sha256],
      ['classifier', manifestAt(FASHION.name, 'classifier-clean').sha256],
      ['classifier', manifestAt(FASHION.name, 'classifier-corrupted').sha256],
    ]);
    expect(list.models.every((m) => m.status === 'ready')).toBe(true);
    // The default listing is MNIST's, unchanged.
    const mnist = (await (await edge().fetch('/v1/models')).json()) as { models: Array<{ kind: string; id: string }> };
    expect(mnist.models.find((m) => m.kind === 'generator')?.id).toBe(manifestAt('generator').sha256);

    for (const url of [
      '/v1/render?seed=1&class=1&classifier=classifier-spurious',
      `/v1/models/classifier-spurious?domain=${FASHION.name}`,
    ]) {
      const p = await problemOf(await edge().fetch(url));
      expect(p.status, url).toBe(400);
      expect(p.field, url).toBe('domain');
      expect(p.classifierDomain, url).toBe(COLOUR.name);
    }
  });

  it('a domain without a generator answers 409 naming what is missing, never a 500', async () => {
    for (const url of [
      `/v1/render?seed=1&class=1&domain=${COLOUR.name}&classifier=classifier-spurious`,
      `/v1/models/generator?domain=${COLOUR.name}`,
    ]) {
      const p = await problemOf(await edgeWithoutColourGenerator().fetch(url));
      expect(p.status, url).toBe(409);
      expect(p.type, url).toBe('/problems/generator-missing');
      expect(p.field, url).toBe('domain');
      expect(p.missing, url).toBe('generator');
    }
    // Its classifiers are still listed.
    const list = (await (await edgeWithoutColourGenerator().fetch(`/v1/classifiers?domain=${COLOUR.name}`)).json()) as {
      classifiers: Array<{ name: string }>;
    };
    expect(list.classifiers.map((c) => c.name)).toContain('classifier-spurious');
  });

  it("renders with the domain's generator and classifier: the PNG re-classified here agrees", async () => {
    await useBackend('wasm');
    const get = async (q: string) => {
      const res = await edge().fetch(`/v1/render?seed=7&class=3&scale=1${q}`);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        generatorId: string;
        classifierId: string;
        predicted: number;
        pTrue: number;
        probabilities: number[];
        image: string;
      };
    };
    const fashion = await get(`&domain=${FASHION.name}`);
    const mnist = await get('');
    expect(fashion.generatorId).toBe(manifestAt(FASHION.name, 'generator').sha256);
    expect(fashion.classifierId).toBe(manifestAt(FASHION.name, 'classifier-clean').sha256);
    expect(mnist.generatorId).toBe(manifestAt('generator').sha256);
    const pixels = pngPixels(fashion.image);
    expect(pixels.length).toBe(32 * 32);
    // A different picture from MNIST's sample of the same seed and class.
    const other = pngPixels(mnist.image);
    const meanDiff = pixels.reduce((a, v, i) => a + Math.abs(v - other[i]), 0) / pixels.length;
    expect(meanDiff).toBeGreaterThan(0.05);
    // Independent: the committed fashion classifier, built here, on the PNG's 8-bit pixels.
    const cl = committedClassifier(FASHION.name, 'classifier-clean');
    const probs = tf.tidy(() => tf.softmax(cl.logits(tf.tensor4d(pixels, [1, 32, 32, 1]))).dataSync() as Float32Array);
    expect(probs.indexOf(Math.max(...probs))).toBe(fashion.predicted);
    expect(Math.abs(probs[3] - fashion.pTrue)).toBeLessThan(0.01);
    // Every class's probability, not only the true one's (8-bit PNG rounding moves them by far less).
    expect(fashion.probabilities).toHaveLength(FASHION.classNames.length);
    for (let k = 0; k < probs.length; k++)
      expect(Math.abs(probs[k] - fashion.probabilities[k]), `class ${k}`).toBeLessThan(0.01);
  });
});

describe('MNIST replies', () => {
  it("are byte-identical to main's before `?domain=` (the committed fixture)", async () => {
    const got: Record<string, RecordedReply> = {};
    for (const r of MNIST_REQUESTS)
      got[`${r.method} ${r.url}`] = await recordReply(await edge().fetch(r.url, requestInit(r, SUBMIT_AUTH)));
    if (process.env.CAPTURE_MNIST_REPLIES === '1') {
      writeFileSync(MNIST_REPLIES_FIXTURE, `${JSON.stringify(got, null, 1)}\n`);
      return;
    }
    expect(existsSync(MNIST_REPLIES_FIXTURE)).toBe(true);
    const main = JSON.parse(readFileSync(MNIST_REPLIES_FIXTURE, 'utf8')) as Record<string, RecordedReply>;
    expect(Object.keys(got)).toEqual(Object.keys(main));
    for (const [request, reply] of Object.entries(main)) expect(got[request], request).toEqual(reply);
    // The same requests with an explicit ?domain=mnist are answered the same.
    for (const r of MNIST_REQUESTS.filter((x) => x.method === 'GET' && x.url.startsWith('/v1/'))) {
      const url = `${r.url}${r.url.includes('?') ? '&' : '?'}domain=${MNIST.name}`;
      expect((await recordReply(await edge().fetch(url))).sha256, url).toBe(main[`GET ${r.url}`].sha256);
    }
  });
});

const fashionIds = () => ({
  generatorId: manifestAt(FASHION.name, 'generator').sha256,
  classifierId: manifestAt(FASHION.name, 'classifier-clean').sha256,
});
const post = (body: unknown, submit = false): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(submit ? SUBMIT_AUTH : {}) },
  body: JSON.stringify(body),
});

let openapiDoc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> } | undefined;
/** Whether /openapi.json declares `status` for the route of `url` (a refusal must be documented). */
async function declares(url: string, init: RequestInit, status: number): Promise<boolean> {
  openapiDoc ??= (await (await edge().fetch('/openapi.json')).json()) as NonNullable<typeof openapiDoc>;
  const pathname = new URL(url, 'http://x').pathname;
  const template = Object.keys(openapiDoc.paths).find((t) =>
    new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
  )!;
  return String(status) in openapiDoc.paths[template][(init.method ?? 'get').toLowerCase()].responses;
}

describe('?domain= on every endpoint that serves results or computes', () => {
  const CLASS_3_IMAGE = Array.from({ length: 1024 }, (_, i) => (i % 5) / 4);
  /** One request per route (GET with its query, or POST with its body), the domain added by `d`. */
  const everyRoute = (d: string): Array<[string, RequestInit]> => [
    [`/v1/rankings?domain=${d}`, {}],
    [`/v1/histograms?domain=${d}`, {}],
    [`/v1/accuracy-curves?domain=${d}`, {}],
    [`/v1/corner-cases?domain=${d}`, {}],
    [`/v1/directions?domain=${d}`, {}],
    [`/v1/results?domain=${d}`, {}],
    [`/v1/rankings/rows?domain=${d}`, {}],
    [`/v1/accuracy-curves/rows?domain=${d}`, {}],
    [`/v1/embeddings?domain=${d}`, {}],
    [`/v1/embeddings/sample?index=1&domain=${d}`, {}],
    [`/v1/traversal?class=3&dim=17&frames=3&domain=${d}`, {}],
    [`/v1/corner-case?class=3&dim=17&maxSteps=2&domain=${d}`, {}],
    [`/embed/ranking?domain=${d}`, {}],
    ['/v1/render', post({ domain: d, seed: 1, class: 3 })],
    ['/v1/classify', post({ domain: d, images: [CLASS_3_IMAGE] })],
    ['/v1/jobs', post({ domain: d, kind: 'ranking-sums', seed: 3, count: 20 }, true)],
    [`/v1/jobs?domain=${d}`, post({ kind: 'ranking-sums', seed: 3, count: 20 }, true)],
    ['/v1/explain', post({ domain: d, image: pngOf(new Float32Array(1024)), label: 3 }, true)],
  ];

  it('an unknown domain is a 400 problem+json naming `domain` (listing the domains), nothing stored', async () => {
    for (const [url, init] of everyRoute('cifar')) {
      const p = await problemOf(await edge().fetch(url, init));
      expect(p.status, url).toBe(400);
      expect(p.field, url).toBe('domain');
      expect(p.detail, url).toContain(FASHION.name);
      expect(await declares(url, init, 400), url).toBe(true);
    }
    const jobs = (await (await edge().fetch('/v1/jobs')).json()) as { jobs: unknown[] };
    expect(jobs.jobs).toEqual([]);
  });

  it('a domain without a generator (colour) is a 409 naming the missing generator on every route that needs one', async () => {
    for (const [url, init] of everyRoute(COLOUR.name)) {
      // Its own classifier, so the refusal is the generator's, not the classifier's domain.
      const withClassifier: [string, RequestInit] = init.body
        ? [
            url,
            { ...init, body: JSON.stringify({ ...JSON.parse(String(init.body)), classifier: 'classifier-spurious' }) },
          ]
        : [`${url}&classifier=classifier-spurious`, init];
      const res = await edgeWithoutColourGenerator().fetch(...withClassifier);
      if (url.startsWith('/v1/results?') || url.startsWith('/embed/')) {
        // Listings and embeds need no generator: served (the embed names the domain).
        expect(res.status, url).toBe(200);
        const text = await res.text();
        // Its seeded results are listed, none of them current (they are keyed by the missing generator).
        if (url.startsWith('/v1/results?'))
          expect(
            (JSON.parse(text).entries as Array<{ current: boolean }>).filter((e) => e.current),
            url,
          ).toEqual([]);
        else expect(text, url).toContain(`domain="${COLOUR.name}"`);
        continue;
      }
      const p = await problemOf(res);
      if (url === '/v1/classify') {
        // Classify takes grey images; the colour classifiers take 3 channels: refused naming the domain.
        expect([p.status, p.field], url).toEqual([400, 'domain']);
        continue;
      }
      expect([p.status, p.type, p.field, p.missing], url).toEqual([
        409,
        '/problems/generator-missing',
        'domain',
        'generator',
      ]);
      expect(p.detail, url).toContain(COLOUR.name);
      expect(await declares(url, init, 409), url).toBe(true);
    }
  });

  it("serves fashion's cached results under ?domain=fashion, keyed with the domain; MNIST's keys stay as they were", async () => {
    const { generatorId, classifierId } = fashionIds();
    // The domain is part of a fashion key (and of none of MNIST's: the fixture above).
    expect(fashionSumsKey).not.toBe(
      resultKey({ kind: 'ranking-sums', generatorId, classifierId, sweep: DEFAULT_SWEEP }),
    );
    const res = await edge().fetch(`/v1/rankings?domain=${FASHION.name}&class=3&top=4`);
    expect(res.status).toBe(200);
    const r = (await res.json()) as {
      key: string;
      domain: string;
      generatorId: string;
      classifierId: string;
      payload: { styleSize: number; dims: unknown[] };
    };
    expect([r.key, r.domain, r.generatorId, r.classifierId]).toEqual([
      fashionSumsKey,
      FASHION.name,
      generatorId,
      classifierId,
    ]);
    expect(r.payload.dims).toHaveLength(4);
    const rows = await edge().fetch(`/v1/rankings/rows?domain=${FASHION.name}&format=csv&top=2`);
    expect(rows.status).toBe(200);
    expect((await rows.text()).trim().split('\n')).toHaveLength(3);
    // MNIST's ranking is its own.
    const mnist = (await (await edge().fetch('/v1/rankings')).json()) as { key: string; generatorId: string };
    expect(mnist.generatorId).toBe(manifestAt('generator').sha256);
    // The listing is per domain: every kind of both fashion classifiers, current, and none of them in MNIST's.
    const list = async (q: string) =>
      ((await (await edge().fetch(`/v1/results${q}`)).json()) as { entries: Array<{ key: string; current: boolean }> })
        .entries;
    const fashionKeys = FASHION.classifierVariants.flatMap((v) =>
      RESULT_KINDS.map((kind) => fashionKey(kind, `classifier-${v}`)),
    );
    const listed = await list(`?domain=${FASHION.name}`);
    expect(listed.map((e) => e.key).sort()).toEqual([...fashionKeys].sort());
    expect(listed.every((e) => e.current)).toBe(true);
    expect((await list('')).some((e) => fashionKeys.includes(e.key))).toBe(false);
  });

  it('a fashion miss names the job to submit with its domain; the live traversal computes with fashion models', async () => {
    const p = await problemOf(await edge().fetch(`/v1/histograms?domain=${FASHION.name}&seed=5&count=40`));
    expect([p.status, p.type]).toEqual([404, '/problems/not-computed']);
    expect((p.submit as { body: unknown }).body).toEqual({
      kind: 'histograms',
      classifier: 'classifier-clean',
      seed: 5,
      count: 40,
      domain: FASHION.name,
    });
    const t = await edge().fetch(`/v1/traversal?domain=${FASHION.name}&class=3&dim=17&frames=3&scale=1`);
    expect(t.status).toBe(200);
    const body = (await t.json()) as { generatorId: string; statistics: { key: string }; frames: unknown[] };
    expect(body.generatorId).toBe(fashionIds().generatorId);
    expect(body.statistics.key).toBe(fashionSumsKey);
    expect(body.frames).toHaveLength(3);
    // Another domain's classifier is refused naming `domain`.
    const wrong = await problemOf(await edge().fetch('/v1/rankings?domain=fashion&classifier=classifier-spurious'));
    expect([wrong.status, wrong.field, wrong.classifierDomain]).toEqual([400, 'domain', COLOUR.name]);
  });

  it('a fashion job is submitted with the domain in its spec (body or query, never disagreeing)', async () => {
    const res = await edge().fetch(
      `/v1/jobs?domain=${FASHION.name}`,
      post({ kind: 'ranking-sums', seed: 9, count: 40 }, true),
    );
    expect(res.status).toBe(202);
    const { job } = (await res.json()) as { job: { key: string; spec: Record<string, unknown> } };
    expect(job.spec).toMatchObject({ domain: FASHION.name, ...fashionIds(), classifier: 'classifier-clean' });
    expect(job.key).toBe(
      resultKey({ kind: 'ranking-sums', ...fashionIds(), sweep: { seed: 9, count: 40 }, domain: FASHION.name }),
    );
    // The same job from the body's domain.
    const again = (await (
      await edge().fetch('/v1/jobs', post({ domain: FASHION.name, kind: 'ranking-sums', seed: 9, count: 40 }, true))
    ).json()) as { job: { key: string }; created: boolean };
    expect([again.job.key, again.created]).toEqual([job.key, false]);
    const p = await problemOf(
      await edge().fetch(
        '/v1/jobs?domain=mnist',
        post({ domain: FASHION.name, kind: 'ranking-sums', seed: 9, count: 40 }, true),
      ),
    );
    expect([p.status, p.field]).toEqual([400, 'domain']);
  });

  it('explains a fashion image with the fashion feature extractor (queued as a job of the domain)', async () => {
    const res = await edge().fetch(
      '/v1/explain',
      post({ domain: FASHION.name, image: pngOf(new Float32Array(1024)), label: 3 }, true),
    );
    expect(res.status).toBe(202);
    const { job } = (await res.json()) as { job: { spec: Record<string, unknown> } };
    expect(job.spec).toMatchObject({
      domain: FASHION.name,
      ...fashionIds(),
      featureExtractorId: manifestAt(FASHION.name, 'feature-extractor').sha256,
      sums: fashionSumsKey,
    });
  });

  // Last in the file: its in-process computation blocks this process's event loop for seconds, after which
  // workerd may have closed a pooled keep-alive connection that a following request would use.
  it("serves fashion's built-in histograms equal to a recomputation here from the served sums with the committed models", async () => {
    await useBackend('wasm');
    const res = await edge().fetch(`/v1/histograms?domain=${FASHION.name}`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as { key: string; domain: string; payload: { wellCount: number } };
    expect([served.key, served.domain]).toEqual([fashionKey('histograms'), FASHION.name]);
    const sums = ((await (await edge().fetch(`/v1/results/${fashionSumsKey}`)).json()) as StoredResult<RankingSums>)
      .payload;
    // Independently: the committed fashion generator and clean classifier, built here.
    const files = (...p: string[]) => {
      const dir = path.join('weights', ...p);
      return loadModelFilesSync(folderSource(dir, (f) => readFileSync(f), path.join));
    };
    const generator = buildGenerator(files(FASHION.name, 'generator'));
    const classifier = committedClassifier(FASHION.name, 'classifier-clean');
    const { generatorId, classifierId } = fashionIds();
    const local = await histogramsResult(
      {
        models: { generator, classifier, generatorId, classifierId },
        name: 'classifier-clean',
        sweep: DEFAULT_SWEEP,
        sums,
      },
      DEFAULT_OPTIONS.histograms,
    );
    generator.dispose();
    classifier.dispose();
    expect(served.payload).toEqual(JSON.parse(JSON.stringify(local)));
    // The gradient sweep's verdicts (the sums) and this forward pass of the same 2,000 samples agree.
    expect(local.wellCount).toBe(sums.correct.reduce((a, b) => a + b, 0));
  });
});
