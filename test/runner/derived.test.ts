/**
 * Histograms, accuracy curves and corner cases computed by a real runner process (wasm, Node) on
 * the real worker bundle in workerd: for a registered classifier (the mlp-layers fixture), whose
 * derived jobs wait for the ranking-sums job their submission queued, and for the default built-in
 * classifier on the default sweep, whose seeded results this test removes from the edge's assets
 * first so a runner must compute them again under the same keys. A Deno runner on WebGPU (the
 * bundle re-launched in Deno; lavapipe here) computes one too.
 *
 * Tolerances: a runner and this process run the same core code (src/core/analysis/derived-results.ts) on
 * wasm in Node with the same batches, so the registered classifier's served payloads equal the
 * in-process ones exactly. Against the seeded files: histograms are equal; the corner cases'
 * numbers within 1e-4 relative (measured 3.1e-6, a p_true) and their images within 1 gray level
 * (measured 1). The files were derived from the sums before they were rounded to 9 significant
 * digits for storage, the runner from the stored sums (as `npm run seed:edge` now derives them too):
 * class averages and stds from rounded sums move the float32 forward passes by a few ulps. (Seeded
 * payloads from before payloads carried their spec hash lack it; it is compared where present.)
 * WebGPU vs wasm: the same dims (they come from the stored sums alone) and well-classified counts
 * within one sample (float32 kernels summing in other orders may flip a verdict at p = 0.5).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { decode } from 'fast-png';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DERIVED_KINDS, derivedResult, type DerivedKind } from '../../src/core/analysis/derived-results.js';
import { useBackend } from '../../src/node/backend.js';
import { EdgeClient } from '../../src/gpu-runner/client.js';
import { jobModels } from '../../src/gpu-runner/job-models.js';
import { generatorId, type Catalog } from '../../src/protocol/catalog.js';
import {
  DEFAULT_OPTIONS,
  DEFAULT_SWEEP,
  resultKey,
  resultPath,
  type StoredResult,
  COMPARING_KINDS,
} from '../../src/protocol/result-keys.js';
import { checkDerivedPayload } from '../../src/worker/jobs/payloads.js';
import type { JobSpec } from '../../src/protocol/job.js';
import { ProblemError } from '../../src/worker/problem.js';
import {
  RUNNER_TOKEN,
  SUBMIT_AUTH,
  classifierUpload,
  fixture,
  recordLease,
  startEdge,
  withLease,
  type EdgeServer,
} from '../worker/harness.js';
import { RunnerPool, ensureRunnerBuilt, watchJob } from './helpers.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';

let edge: EdgeServer;
let catalog: Catalog;
const pool = new RunnerPool(() => edge);
/** The default classifier's seeded derived results, removed from the edge's assets: by kind. */
const seeded = new Map<DerivedKind, StoredResult>();
/** Whether the seeded ranking sums of the default sweep are current (the derived ones derive from them). */
let seededSums = false;
/** Corner cases, runner vs seeded file: relative difference of any number, of any pixel (see the header). */
const SEEDED_TOLERANCE = { relative: 1e-4, grayLevels: 1 };

const RUNNER_AUTH = { authorization: `Bearer ${RUNNER_TOKEN}` };
/**
 * The in-process computations here block this process's event loop for many seconds (minutes on a
 * loaded machine), so workerd may close a pooled keep-alive connection without this process
 * noticing: a request that fails on such a stale connection, before any answer, is sent once more.
 * Every request here may be repeated: reads, content-addressed uploads and submissions, and runner
 * calls whose answer the test asserts.
 */
async function againIfStale(send: () => Promise<Response>): Promise<Response> {
  try {
    return await send();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (!/EPIPE|ECONNRESET|UND_ERR_SOCKET|other side closed/.test(`${cause?.code ?? ''} ${cause?.message ?? ''}`))
      throw e;
    return send();
  }
}
const call = async (p: string, body?: unknown, headers: Record<string, string> = SUBMIT_AUTH) => {
  const res = await againIfStale(() =>
    edge.fetch(
      p,
      body === undefined
        ? {}
        : {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(withLease(p, body)),
          },
    ),
  );
  const text = await res.text();
  const out = { status: res.status, body: text ? JSON.parse(text) : null } as { status: number; body: any };
  if (p === '/v1/runner/lease' && res.status === 200) recordLease((body as { runner: string }).runner, out.body);
  return out;
};
const get = async (p: string) => (await call(p)).body;
const runner = (name: string) =>
  pool.start(name, ['--backend', 'wasm', '--lease-ms', '60000', '--heartbeat-ms', '1000']);
/**
 * Each test waits for real computations (a runner's jobs, then the same computation in this
 * process), which a loaded machine slows by an order of magnitude: measured past the default 120 s
 * at load average 20 on 2 cores. Bounds for a stuck run, not timings.
 */
const COMPUTE_TIMEOUT_MS = 600_000;
const watch = (statusUrl: string) => watchJob(edge, statusUrl, 400_000, () => pool.tails());
const query = (kind: DerivedKind, classifier: string, sweep: { seed: number; count: number }) =>
  `/v1/${kind}?classifier=${classifier}&seed=${sweep.seed}&count=${sweep.count}`;

beforeAll(async () => {
  [edge] = await Promise.all([
    startEdge((assets, cat) => {
      const cls = cat.classifiers.find((c) => c.name === cat.defaultClassifier)!;
      const key = (kind: 'ranking-sums' | DerivedKind) =>
        resultKey({ kind, generatorId: generatorId(cat), classifierId: cls.sha256, sweep: DEFAULT_SWEEP });
      seededSums = existsSync(path.join(assets, resultPath(key('ranking-sums'))));
      for (const kind of DERIVED_KINDS) {
        const file = path.join(assets, resultPath(key(kind)));
        if (!existsSync(file)) continue; // stale (seeded with other options) or never seeded
        seeded.set(kind, JSON.parse(readFileSync(file, 'utf8')) as StoredResult);
        rmSync(file);
      }
    }),
    ensureRunnerBuilt(),
  ]);
  catalog = edge.catalog;
  await useBackend('wasm');
});

afterEach(async () => {
  await pool.stopAll();
});

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

const PNG_URL = 'data:image/png;base64,';
/** Largest difference of two same-sized gray PNG data URLs, in gray levels (Infinity: not comparable). */
function pixelDifference(a: string, b: string): number {
  const [x, y] = [a, b].map((u) => decode(Buffer.from(u.slice(PNG_URL.length), 'base64')));
  if (x.width !== y.width || x.height !== y.height || x.data.length !== y.data.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.data.length; i++) m = Math.max(m, Math.abs(x.data[i] - y.data[i]));
  return m;
}

/**
 * The largest relative difference between the numbers of `actual` and `expected`, and the largest
 * difference of their PNG images in gray levels (anything else must be equal, or it is Infinity),
 * with where they are.
 */
function worstDifference(
  actual: unknown,
  expected: unknown,
  at = 'payload',
): { rel: number; at: string; pixels: number; pixelsAt: string } {
  let worst = { rel: 0, at: '', pixels: 0, pixelsAt: '' };
  const visit = (a: unknown, e: unknown, p: string) => {
    let rel = 0;
    if (typeof e === 'string' && typeof a === 'string' && e.startsWith(PNG_URL) && a.startsWith(PNG_URL)) {
      const px = pixelDifference(a, e);
      if (px > worst.pixels) worst = { ...worst, pixels: px, pixelsAt: p };
    } else if (typeof e === 'number' && typeof a === 'number')
      rel = Math.abs(a - e) / Math.max(Math.abs(a), Math.abs(e), 1e-12);
    else if (Array.isArray(e) && Array.isArray(a) && a.length === e.length)
      e.forEach((x, i) => visit(a[i], x, `${p}.${i}`));
    else if (
      e !== null &&
      typeof e === 'object' &&
      a !== null &&
      typeof a === 'object' &&
      !Array.isArray(a) &&
      Object.keys(a).sort().join() === Object.keys(e).sort().join()
    ) {
      for (const [k, v] of Object.entries(e)) visit((a as Record<string, unknown>)[k], v, `${p}.${k}`);
    } else if (a !== e) rel = Infinity;
    if (rel > worst.rel)
      worst = { ...worst, rel, at: `${p}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(e)?.slice(0, 80)}` };
  };
  visit(actual, expected, at);
  return worst;
}

/** The 400 problem `checkDerivedPayload` answers for `payload`, or null when it accepts it. */
function refusal(kind: DerivedKind, payload: unknown, spec: JobSpec): { field?: unknown; detail: string } | null {
  try {
    checkDerivedPayload(kind, payload, { styleSize: 512, numClasses: 10 }, spec);
    return null;
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    expect(e.problem.status).toBe(400);
    return e.problem as unknown as { field?: unknown; detail: string };
  }
}

describe('derived results (histograms, accuracy curves, corner cases) computed by runners', () => {
  it(
    'a registered classifier: the jobs wait for its ranking sums, a wasm runner computes all four, the served results equal the in-process computation',
    async () => {
      const reg = await edge.fetch('/v1/classifiers', {
        method: 'POST',
        headers: SUBMIT_AUTH,
        body: classifierUpload(fixture('mlp-layers'), { name: 'mlp-layers' }),
      });
      expect(reg.status).toBeLessThan(300);
      const id = ((await reg.json()) as { id: string }).id;
      const sweep = { seed: 3, count: 60 };

      // Not computed: the dashboard's fetches get the job to submit (it prints the curl line).
      const miss = await call(query('histograms', id, sweep));
      expect(miss.status).toBe(404);
      expect(miss.body.submit).toEqual({
        method: 'POST',
        href: '/v1/jobs',
        body: { kind: 'histograms', classifier: id, seed: 3, count: 60 },
      });

      const subs = {} as Record<DerivedKind, any>;
      for (const kind of DERIVED_KINDS) {
        const r = await call('/v1/jobs', { kind, classifier: id, ...sweep });
        expect(r.status, JSON.stringify(r.body)).toBe(202);
        subs[kind] = r.body;
      }
      // The first submission queued the ranking-sums job; every derived job names those sums and waits.
      const sumsKey = subs.histograms.job.spec.sums;
      for (const kind of DERIVED_KINDS) {
        expect(subs[kind].job.spec).toMatchObject({ kind, classifier: id, classifierFormat: 'tfjs', sums: sumsKey });
        expect(subs[kind].job.needs).toMatchObject({ key: sumsKey, status: 'queued' });
        expect(subs[kind].job.shards.total).toBe(1);
      }
      expect(subs['accuracy-curves'].job.spec.compare).toEqual(
        catalog.classifiers.map((c) => ({ classifier: c.name, classifierId: c.sha256 })),
      );
      expect(subs['accuracy-curves'].job.spec.options).toEqual({
        ...DEFAULT_OPTIONS['accuracy-curves'],
        compare: catalog.classifiers.map((c) => c.sha256),
      });
      expect((await call(query('corner-cases', id, sweep))).status).toBe(202);
      // Nothing derived is leasable before the sums are in.
      expect((await call('/v1/runner/lease', { runner: 'probe', kinds: [...DERIVED_KINDS] }, RUNNER_AUTH)).status).toBe(
        204,
      );

      const r = runner('derived-registered');
      for (const kind of DERIVED_KINDS) await watch(subs[kind].statusUrl);
      // One runner, four jobs: the sums first, then the three derived from them.
      await r.waitFor(/(completed in[\s\S]*){4}/, 30_000);

      // The same computation in this process: the same models (fetched and verified as a runner
      // does), the sums as served, the options the jobs carried.
      const client = new EdgeClient(edge.url.origin, RUNNER_TOKEN);
      const gid = generatorId(catalog);
      const models = await jobModels(client, gid, id, 'tfjs');
      const sums = (await get(`/v1/results/${sumsKey}`)).payload;
      const compare = [];
      for (const c of catalog.classifiers)
        compare.push({
          name: c.name,
          classifierId: c.sha256,
          classifier: (await jobModels(client, gid, c.sha256)).classifier,
        });
      for (const kind of DERIVED_KINDS) {
        const served = await call(query(kind, id, sweep));
        expect(served.status).toBe(200);
        const job = subs[kind].job;
        expect(served.body).toMatchObject({
          key: job.key,
          kind,
          classifier: id,
          classifierId: id,
          generatorId: gid,
          sweep,
          options: job.spec.options,
        });
        expect(served.body.computed).toMatchObject({
          backend: 'wasm',
          runners: [runnerPseudonym('derived-registered')],
        });
        // Well-formed: the edge's own checks, run again on what it serves.
        expect(refusal(kind, served.body.payload, job.spec)).toBeNull();
        const local = await derivedResult(
          kind,
          { models, name: id, sweep, sums },
          job.spec.options,
          COMPARING_KINDS.includes(kind) ? compare : [],
        );
        expect(served.body.payload, kind).toEqual(local);
      }
      // A classifier without a gradient has no ranking of its own to derive from: refused at submission.
      const equal = await againIfStale(() =>
        edge.fetch('/v1/classifiers', {
          method: 'POST',
          headers: SUBMIT_AUTH,
          body: classifierUpload(fixture('mlp-graph-equal')),
        }),
      );
      const refused = await call('/v1/jobs', {
        kind: 'histograms',
        classifier: ((await equal.json()) as { id: string }).id,
        ...sweep,
      });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ type: '/problems/not-differentiable', field: 'classifier' });

      const [h, a, cc] = await Promise.all(DERIVED_KINDS.map(async (k) => (await get(query(k, id, sweep))).payload));
      expect(h.wellCount + h.misCount).toBe(60);
      expect(h.dims.map((d: any) => d.group)).toEqual(['top', 'top', 'top', 'random', 'random', 'random']);
      expect(a.curves.map((c: any) => c.classifier)).toEqual([id, ...catalog.classifiers.map((c) => c.name)]);
      expect(a.curves[0].accuracy).toBeCloseTo(sums.correct.reduce((x: number, y: number) => x + y, 0) / 60, 9);
      expect(cc.classes.map((k: any) => k.classIndex)).toEqual([...Array(10).keys()]);
      expect(cc.classes[0].start.image).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);

      // The checks refuse what does not fit the job.
      const spec = subs.histograms.job.spec as JobSpec;
      expect(refusal('histograms', { ...h, specHash: 'not-this-sweep' }, spec)?.field).toBe('payload.specHash');
      expect(refusal('histograms', { ...h, wellCount: h.wellCount + 1 }, spec)?.field).toBe('payload.wellCount');
      expect(refusal('histograms', { ...h, dims: h.dims.slice(1) }, spec)?.field).toBe('payload.dims');
      expect(refusal('histograms', { ...h, extra: 1 }, spec)).not.toBeNull();
      const aSpec = subs['accuracy-curves'].job.spec as JobSpec;
      expect(refusal('accuracy-curves', { ...a, curves: [...a.curves].reverse() }, aSpec)?.field).toBe(
        'payload.curves',
      );
      expect(refusal('accuracy-curves', { ...a, dims: [...a.dims.slice(1), a.dims[0] + 512] }, aSpec)?.field).toBe(
        'payload.dims.99',
      );
      const badBin = structuredClone(a);
      badBin.curves[1].bins[0].correct = badBin.curves[1].bins[0].count + 1;
      expect(refusal('accuracy-curves', badBin, aSpec)?.field).toBe('payload.curves.1.bins.0.correct');
      const cSpec = subs['corner-cases'].job.spec as JobSpec;
      expect(refusal('corner-cases', { ...cc, classes: cc.classes.slice(1) }, cSpec)?.field).toBe('payload.classes');
      const notPng = structuredClone(cc);
      notPng.classes[0].start.image = 'data:image/png;base64,PHN2Zz4=';
      expect(refusal('corner-cases', notPng, cSpec)?.field).toBe('payload.classes.0.start.image');
      expect(refusal('corner-cases', { ...cc, maxSteps: 30 }, cSpec)?.field).toBe('payload.maxSteps');
    },
    COMPUTE_TIMEOUT_MS,
  );

  it(
    'a Deno runner on WebGPU (lavapipe here) computes them too: the same dims, the same samples within a flip',
    async () => {
      const cls = catalog.classifiers[catalog.classifiers.length - 1].name;
      const sweep = { seed: 9, count: 40 };
      const sub = await call('/v1/jobs', { kind: 'histograms', classifier: cls, ...sweep });
      expect(sub.status).toBe(202);
      const gpu = pool.start('derived-webgpu', [
        '--backend',
        'webgpu',
        '--lease-ms',
        '120000',
        '--heartbeat-ms',
        '1000',
      ]);
      await gpu.waitFor(/backend webgpu on deno/, 60_000);
      await watch(sub.body.statusUrl);
      const served = await get(query('histograms', cls, sweep));
      expect(served.computed).toMatchObject({ backend: 'webgpu', runtime: expect.stringMatching(/^deno/) });
      expect(refusal('histograms', served.payload, sub.body.job.spec)).toBeNull();
      // The dims come from the stored sums alone; the verdicts from float32 kernels that sum in other orders.
      const sums = (await get(`/v1/results/${sub.body.job.spec.sums}`)).payload;
      const models = await jobModels(
        new EdgeClient(edge.url.origin, RUNNER_TOKEN),
        generatorId(catalog),
        sub.body.job.spec.classifierId,
      );
      const local = (await derivedResult(
        'histograms',
        { models, name: cls, sweep, sums },
        DEFAULT_OPTIONS.histograms,
      )) as { wellCount: number; dims: Array<{ dim: number }> };
      expect(served.payload.dims.map((d: { dim: number }) => d.dim)).toEqual(local.dims.map((d) => d.dim));
      expect(Math.abs(served.payload.wellCount - local.wellCount)).toBeLessThanOrEqual(1);
    },
    COMPUTE_TIMEOUT_MS,
  );

  it(
    'the default classifier on the default sweep: a runner recomputes the seeded histograms ' +
      'and corner cases under the same keys, with the same payloads; a forged upload is refused',
    async () => {
      // Stale committed results fail here rather than skip the comparison (test/worker/edge-sources.test.ts
      // names what is missing).
      const stale =
        'no current seeded results of the default sweep in the built assets: run npm run seed:edge and commit them';
      expect(seededSums, stale).toBe(true);
      expect([...seeded.keys()].sort(), stale).toEqual([...DERIVED_KINDS].sort());
      const cls = catalog.defaultClassifier!;
      const subs = new Map<DerivedKind, any>();
      for (const [kind, stored] of seeded) {
        const r = await call('/v1/jobs', { kind, classifier: cls, ...DEFAULT_SWEEP });
        expect(r.status).toBe(202);
        // Same key as the seeded file; the seeded sums are there, so nothing to wait for.
        expect(r.body.job.key).toBe(stored.key);
        expect(r.body.job.needs).toBeNull();
        subs.set(kind, r.body);
      }
      // A forger holding the lease: a result of another sweep, or not adding up, is refused; the job stays.
      const [kind0, stored0] = [...seeded][0];
      const lease = await call('/v1/runner/lease', { runner: 'forger', leaseMs: 60_000, kinds: [kind0] }, RUNNER_AUTH);
      expect(lease.body.id).toBe(subs.get(kind0).job.id);
      const spec = lease.body.spec as JobSpec;
      const complete = (payload: unknown) =>
        call(
          `/v1/runner/jobs/${lease.body.id}/complete`,
          { runner: 'forger', shard: 0, payload, computed: {} },
          RUNNER_AUTH,
        );
      const forged = await complete({ ...(stored0.payload as object), specHash: 'f'.repeat(64) });
      expect(forged.status).toBe(400);
      expect(forged.body.field).toBe('payload.specHash');
      expect((await complete({ schema: 'faultlines.histograms/1' })).status).toBe(400);
      expect(refusal(kind0, { ...(stored0.payload as object), specHash: spec.classifierId }, spec)?.field).toBe(
        'payload.specHash',
      );
      expect(
        (await call(`/v1/runner/jobs/${lease.body.id}/release`, { runner: 'forger', shard: 0 }, RUNNER_AUTH)).status,
      ).toBe(200);

      runner('derived-default');
      for (const sub of subs.values()) await watch(sub.statusUrl);
      for (const [kind, stored] of seeded) {
        const served = (await get(query(kind, cls, DEFAULT_SWEEP))) as StoredResult;
        expect(served.key).toBe(stored.key);
        expect(served.options).toEqual(stored.options);
        const payload = { ...(served.payload as Record<string, unknown>) };
        if (!('specHash' in (stored.payload as object))) delete payload.specHash;
        const worst = worstDifference(payload, stored.payload);
        console.log(
          `${kind}: runner vs seeded, largest relative difference ${worst.rel.toExponential(2)}` +
            `${worst.at ? ` at ${worst.at}` : ''}; images ${worst.pixels} gray level(s)${worst.pixelsAt ? ` at ${worst.pixelsAt}` : ''}`,
        );
        if (kind === 'histograms') expect(payload).toEqual(stored.payload);
        expect(worst.rel, worst.at).toBeLessThan(SEEDED_TOLERANCE.relative);
        expect(worst.pixels, worst.pixelsAt).toBeLessThanOrEqual(SEEDED_TOLERANCE.grayLevels);
      }
    },
    COMPUTE_TIMEOUT_MS,
  );
});
