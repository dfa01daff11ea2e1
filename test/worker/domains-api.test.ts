/**
 * Domains at the edge (issue 15): GET /v1/domains against the committed manifests read here from
 * weights/, `?domain=` on the model listings and the render (a fashion render re-classified here
 * from its PNG with the committed fashion classifier), and the refusals: an unknown domain, a
 * classifier of another domain (400 naming `domain`), a domain without a generator (409).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/core/tf.js';
import { COLOUR, DEFAULT_DOMAIN, DOMAINS, FASHION, MNIST } from '../../src/core/data/domain.js';
import { buildClassifier } from '../../src/core/loading/built-models.js';
import { folderSource, loadModelFilesSync } from '../../src/core/loading/model-files.js';
import { DomainsResponseSchema, type DomainsResponse } from '../../src/protocol/domains.js';
import { useBackend } from '../../src/node/backend.js';
import { SUBMIT_AUTH, edgeForFile, problemOf } from './harness.js';
import {
  MNIST_REPLIES_FIXTURE,
  MNIST_REQUESTS,
  recordReply,
  requestInit,
  type RecordedReply,
} from './mnist-replies.js';

const edge = edgeForFile();

const manifestAt = (...p: string[]) =>
  JSON.parse(readFileSync(path.join('weights', ...p, 'manifest.json'), 'utf8')) as {
    sha256: string;
    metrics: Record<string, unknown> & { quality?: Record<string, number> };
  };

/** A classifier as committed, built here (wasm) to re-classify what the edge rendered. */
function committedClassifier(...p: string[]) {
  const dir = path.join('weights', ...p);
  return buildClassifier(dir, loadModelFilesSync(folderSource(dir, (f) => readFileSync(f), path.join)));
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

    // Coloured MNIST: classifiers committed, generator not yet: listed as null, not a placeholder.
    const colour = body.domains.find((d) => d.name === COLOUR.name)!;
    expect(colour.generator).toBeNull();
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
      const p = await problemOf(await edge().fetch(url));
      expect(p.status, url).toBe(409);
      expect(p.type, url).toBe('/problems/generator-missing');
      expect(p.field, url).toBe('domain');
      expect(p.missing, url).toBe('generator');
    }
    // Its classifiers are still listed.
    const list = (await (await edge().fetch(`/v1/classifiers?domain=${COLOUR.name}`)).json()) as {
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
