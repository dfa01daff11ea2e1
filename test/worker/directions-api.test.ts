/**
 * GET /v1/directions inside workerd (the built bundle, Miniflare configured from wrangler.toml):
 * the built-in classifiers' seeded directions served as committed, their dims the very dims
 * /v1/rankings serves from the same sweep's sums (global and per class), query validation as
 * problem+json naming the field, a miss answering with the job to submit (and the job carrying the
 * reference readers), the OpenAPI entry, the embed page, and the edge's checks of a runner's
 * directions payload refusing what does not fit the job (naming the field).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatorId } from '../../src/protocol/catalog.js';
import { DEFAULT_SWEEP, resultKey, resultPath, type StoredResult } from '../../src/protocol/result-keys.js';
import { DirectionsPayloadSchema, type DirectionsPayload } from '../../src/protocol/directions.js';
import type { JobSpec } from '../../src/protocol/job.js';
import { checkDerivedPayload } from '../../src/worker/jobs/payloads.js';
import {
  directionWeaknesses,
  type CounterfactualAttribution,
} from '../../src/core/analysis/counterfactual-attribution.js';
import type { DirectionsResult } from '../../src/core/analysis/directions.js';
import { parseDerivedOptions } from '../../src/core/analysis/derived-options.js';
import { ProblemError } from '../../src/worker/problem.js';
import { SUBMIT_AUTH, problemOf, startEdge, type EdgeServer } from './harness.js';

let edge: EdgeServer;
/** The committed (seeded) directions of each built-in classifier, as the assets hold them. */
const seeded = new Map<string, StoredResult<DirectionsPayload>>();

beforeAll(async () => {
  edge = await startEdge((assets, catalog) => {
    for (const c of catalog.classifiers) {
      const key = resultKey({
        kind: 'directions',
        generatorId: generatorId(catalog),
        classifierId: c.sha256,
        sweep: DEFAULT_SWEEP,
      });
      // Missing: not seeded (stale or never run): the tests below fail on it, naming the command.
      try {
        seeded.set(c.name, JSON.parse(readFileSync(path.join(assets, resultPath(key)), 'utf8')));
      } catch {
        /* asserted below */
      }
    }
  });
}, 300_000);

afterAll(async () => {
  await edge?.close();
});

const getJson = async (p: string, init?: RequestInit) => {
  const res = await edge.fetch(p, init);
  return { res, body: (await res.json()) as any };
};

/** The problem `checkDerivedPayload` answers for `payload`, or null when it accepts it. */
function refusal(payload: unknown, spec: JobSpec): { field?: unknown; detail: string } | null {
  try {
    checkDerivedPayload('directions', payload, { styleSize: 512, numClasses: 10 }, spec);
    return null;
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    expect(e.problem.status).toBe(400);
    return e.problem as unknown as { field?: unknown; detail: string };
  }
}

describe('GET /v1/directions', () => {
  it(
    'serves every built-in classifier its seeded directions: the dims of its ranking, ' +
      'labelled, with the other built-in classifier as the reference reader',
    async () => {
      const names = edge.catalog.classifiers.map((c) => c.name);
      expect(
        [...seeded.keys()].sort(),
        'seeded directions missing: run npm run seed:edge -- --only directions',
      ).toEqual([...names].sort());
      for (const name of names) {
        const p = `/v1/directions?classifier=${name}`;
        const { res, body } = await getJson(p);
        expect(res.status, p).toBe(200);
        expect(body).toMatchObject({ kind: 'directions', classifier: name, sweep: DEFAULT_SWEEP });
        const stored = seeded.get(name)!;
        expect(body.key).toBe(stored.key);
        // Served as stored, and in the shape a runner's result must have to be stored.
        expect(body.payload).toEqual(stored.payload);
        expect(DirectionsPayloadSchema.safeParse(body.payload).error?.issues ?? []).toEqual([]);
        const payload = body.payload as DirectionsPayload;
        const others = names.filter((n) => n !== name);
        expect(payload.classifiers).toEqual([name, ...others]);
        expect(payload.reference).toBe(others[0]);

        // The described dims are the ranking's, independently served from the sweep's sums: same dims,
        // same order, each moved the way its ranking says lowers p_true (one std per shift).
        const ranking = (await getJson(`/v1/rankings?classifier=${name}&top=10`)).body.payload.dims;
        expect(payload.all.dims.map((d) => d.index)).toEqual(ranking.map((d: { index: number }) => d.index));
        expect(payload.all.dims.map((d) => d.direction)).toEqual(
          ranking.map((d: { direction: string }) => d.direction),
        );
        // Stored payloads keep 9 significant digits (compactResult).
        payload.all.dims.forEach((d, i) => expect(Math.abs(d.std / ranking[i].std - 1)).toBeLessThan(1e-8));
        const r = payload.all.result!;
        expect(r.directions.map((d) => d.id)).toEqual(ranking.map((d: { index: number }) => `dim:${d.index}`));
        // Labels follow the rule from the effects served beside them (minEffect, interval, dominance).
        for (const d of r.directions) {
          const top = d.effects[0];
          const passes = Math.abs(top.effect) >= r.minEffect && (top.ciLow > 0 || top.ciHigh < 0);
          expect(d.label.kind === 'unchanged', d.id).toBe(!passes);
          if (passes) expect(d.label.factor).toBe(top.factor);
          // The contrastive score is the two readers' p_true drops on the same frames, differenced.
          expect(d.contrastive).toBeCloseTo(d.classifiers[0].drop - d.classifiers[1].drop, 6);
          for (const c of d.classifiers) expect(c.drop).toBeCloseTo(c.pTrue[0] - c.pTrue[c.pTrue.length - 1], 6);
        }
        expect(payload.all.strips).toHaveLength(r.directions.length);
        expect(payload.all.why.map((w) => w.classifier)).toEqual(payload.classifiers);
        expect(payload.all.why[0].sentence).toContain(name);
        // The counterfactual edits against the reference, on the sweep's first frames (analyze's default
        // --counterfactual-samples), name an edit only above 1; every set's dims read through them by the rule.
        const cf = payload.counterfactual!;
        const o = parseDerivedOptions('directions', stored.options);
        expect(cf.samples).toBe(Math.min(stored.sweep.count, o.counterfactualSamples!));
        expect(cf.edits.map((e) => e.ratio)).toEqual([...cf.edits.map((e) => e.ratio)].sort((a, b) => b - a));
        expect(cf.named?.label ?? null).toBe(cf.edits[0].ciLow > 1 ? cf.edits[0].label : null);
        for (const set of [payload.all, ...payload.classes].filter((x) => x.result))
          expect(set.weaknesses).toEqual(
            directionWeaknesses(set.result as DirectionsResult, cf as CounterfactualAttribution),
          );

        const again = await edge.fetch(p, { headers: { 'if-none-match': res.headers.get('etag')! } });
        expect(again.status).toBe(304);
      }
    },
  );

  it('?class=N serves that class: the top dims of its ranking on its own samples', async () => {
    const name = edge.catalog.defaultClassifier!;
    const { res, body } = await getJson(`/v1/directions?classifier=${name}&class=3`);
    expect(res.status).toBe(200);
    const payload = body.payload as DirectionsPayload;
    expect(payload.classes.map((c) => c.classIndex)).toEqual([3]);
    const ranking = (await getJson(`/v1/rankings?classifier=${name}&class=3&top=3`)).body.payload.dims;
    const set = payload.classes[0];
    expect(set.dims.map((d) => d.index)).toEqual(ranking.map((d: { index: number }) => d.index));
    expect(set.result!.directions.every((d) => d.classIndex === 3)).toBe(true);
    // The global directions stay, unfiltered.
    expect(payload.all).toEqual(seeded.get(name)!.payload.all);
    const all = await edge.fetch(`/v1/directions?classifier=${name}`);
    expect(res.headers.get('etag')).not.toBe(all.headers.get('etag'));
  });

  it('a client holding the body from before the counterfactual naming (same key) gets the new one, not a 304', async () => {
    const name = edge.catalog.defaultClassifier!;
    const url = `/v1/directions?classifier=${name}&class=4`;
    // The ETag this reply had before PAYLOAD_REVISION.directions (test/worker/mnist-replies-main.json's
    // recording of main before the counterfactual fields, commit 286a90c): the key and view alone.
    const before = '"5a1567659e61e7be2d011bd13ab88c3c"';
    const res = await edge.fetch(url, { headers: { 'if-none-match': before } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { payload: DirectionsPayload };
    expect(body.payload.counterfactual?.samples).toBeGreaterThan(0);
    const etag = res.headers.get('etag')!;
    expect(etag).not.toBe(before);
    // The current ETag still answers 304.
    expect((await edge.fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('bad queries are problem+json naming the field; nothing is computed inline', async () => {
    const cases: Array<[string, string, number]> = [
      ['/v1/directions?class=12', 'class', 400],
      ['/v1/directions?class=x', 'class', 400],
      ['/v1/directions?count=0', 'count', 400],
      ['/v1/directions?seed=-1', 'seed', 400],
      ['/v1/directions?classifier=Bad%20Name', 'classifier', 400],
      ['/v1/directions?classifier=classifier-none', 'classifier', 404],
    ];
    for (const [p, field, status] of cases) {
      const pr = await problemOf(await edge.fetch(p));
      expect(pr.status, p).toBe(status);
      expect(pr.field, p).toBe(field);
    }
    // Another sweep: not computed; the answer names the job that would compute it.
    const cls = edge.catalog.defaultClassifier!;
    const miss = await edge.fetch(`/v1/directions?classifier=${cls}&seed=7&count=40`);
    expect(miss.status).toBe(404);
    const pr = await problemOf(miss);
    expect(pr.submit).toEqual({
      method: 'POST',
      href: '/v1/jobs',
      body: { kind: 'directions', classifier: cls, seed: 7, count: 40 },
    });
    // Submitted: it waits for the sweep's ranking sums, and reads its frames with the other built-in classifiers.
    const sub = await edge.fetch('/v1/jobs', {
      method: 'POST',
      headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'directions', classifier: cls, seed: 7, count: 40 }),
    });
    expect(sub.status).toBe(202);
    const job = ((await sub.json()) as any).job;
    expect(job.key).toBe(pr.key);
    expect(job.needs).toMatchObject({ status: 'queued' });
    expect(job.spec.compare).toEqual(
      edge.catalog.classifiers
        .filter((c) => c.name !== cls)
        .map((c) => ({ classifier: c.name, classifierId: c.sha256 })),
    );
    expect((await edge.fetch(`/v1/directions?classifier=${cls}&seed=7&count=40`)).status).toBe(202);
  });

  it('is in the OpenAPI document with its payload schema, and has an embed page', async () => {
    const doc = (await getJson('/openapi.json')).body;
    const op = doc.paths['/v1/directions'].get;
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'class',
      'classifier',
      'count',
      'domain',
      'seed',
    ]);
    // The 200 is the named result envelope (`Directions`) whose payload is the DirectionsPayload schema.
    const envelope = op.responses['200'].content['application/json'].schema.$ref.split('/').pop();
    expect(JSON.stringify(doc.components.schemas[envelope].properties.payload)).toContain('DirectionsPayload');
    expect(doc.components.schemas.DirectionsPayload.properties.all).toBeTruthy();
    expect(JSON.stringify(doc.components.schemas.DirectionsPayload.properties.counterfactual)).toContain('edits');
    const page = await edge.fetch('/embed/directions?classifier=classifier-clean&class=3', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<faultlines-directions [^>]*classifier="classifier-clean" class="3"/);
    // Readable by a widget on another origin (CORS on the read endpoints).
    const cross = await edge.fetch('/v1/directions?classifier=classifier-clean', {
      headers: { origin: 'https://dashboards.example' },
    });
    expect(cross.status).toBe(200);
    expect(cross.headers.get('access-control-allow-origin')).toBe('*');
  });

  it("the edge's checks refuse a runner's directions that do not fit the job, naming the field", async () => {
    const name = edge.catalog.defaultClassifier!;
    const stored = seeded.get(name)!;
    const spec = {
      classifier: name,
      seed: stored.sweep.seed,
      count: stored.sweep.count,
      options: stored.options,
      generatorId: stored.generatorId,
      classifierId: stored.classifierId,
      compare: edge.catalog.classifiers
        .filter((c) => c.name !== name)
        .map((c) => ({ classifier: c.name, classifierId: c.sha256 })),
    } as JobSpec;
    const p = stored.payload;
    expect(refusal(p, spec)).toBeNull();
    expect(refusal({ ...p, specHash: 'another-sweep' }, spec)?.field).toBe('payload.specHash');
    expect(refusal({ ...p, classifiers: [...p.classifiers].reverse() }, spec)?.field).toBe('payload.classifiers');
    expect(refusal({ ...p, classes: p.classes.slice(1) }, spec)?.field).toBe('payload.classes');
    expect(refusal({ ...p, extra: 1 }, spec)).not.toBeNull();
    const outside = structuredClone(p);
    outside.all.dims[2].index = 512;
    expect(refusal(outside, spec)?.field).toBe('payload.all.dims.2');
    const swapped = structuredClone(p);
    swapped.all.result!.directions[0].dims = [swapped.all.dims[1].index];
    expect(refusal(swapped, spec)?.field).toBe('payload.all.result.directions.0.dims');
    const moreFlips = structuredClone(p);
    const along = moreFlips.all.result!.directions[0].classifiers[1];
    along.flipped = along.correctAtStart + 1;
    expect(refusal(moreFlips, spec)?.field).toBe('payload.all.result.directions.0.classifiers.1.flipped');
    const badCi = structuredClone(p);
    const e = badCi.classes[4].result!.directions[0].effects[0];
    [e.ciLow, e.ciHigh] = [e.ciHigh + 1, e.ciLow];
    expect(refusal(badCi, spec)?.field).toBe('payload.classes.4.result.directions.0.effects.0.ciLow');
    expect(refusal({ ...p, counterfactual: null }, spec)?.field).toBe('payload.counterfactual');
    expect(refusal({ ...p, counterfactual: undefined }, spec)?.field).toBe('payload.counterfactual');
    const fewer = structuredClone(p);
    fewer.counterfactual!.samples -= 1;
    expect(refusal(fewer, spec)?.field).toBe('payload.counterfactual.samples');
    const unsorted = structuredClone(p);
    const [first, second] = unsorted.counterfactual!.edits;
    expect(first.ratio).toBeGreaterThan(second.ratio);
    unsorted.counterfactual!.edits.splice(0, 2, second, first);
    expect(refusal(unsorted, spec)?.field).toBe('payload.counterfactual.edits.1.ratio');
    const shifted = structuredClone(p);
    shifted.all.weaknesses!.reverse();
    expect(refusal(shifted, spec)?.field).toBe('payload.all.weaknesses.0.id');
    const notPng = structuredClone(p);
    notPng.all.strips[0] = 'data:image/png;base64,PHN2Zz4=';
    expect(refusal(notPng, spec)?.field).toBe('payload.all.strips.0');
  });
});
