/**
 * POST /v1/explain end to end, as a user and a runner meet it: bad inputs are refused with
 * problem+json naming the field and nothing is queued; a real test digit is queued as one `explain`
 * job, a real runner process (wasm, Node) computes it against the real worker bundle in workerd, and
 * GET /v1/explain/{key} serves it. What it serves passes the edge's own payload checks and equals,
 * value for value, the report.json that `npx faultlines explain` writes for the same file, label,
 * seed, steps and top (both on wasm; the CLI reads the same ranking sums from data/precomputed). The
 * same request again (the PNG as a data URL this time) is answered from the cache at once. A budget
 * within EXPLAIN_INLINE is computed by the edge itself, answered 200 at once, equal to the CLI too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import { checkExplainPayload } from '../../src/worker/jobs/explain-payload.js';
import { EXPLAIN_INLINE } from '../../src/protocol/explain.js';
import { SUBMIT_AUTH, startEdge, type EdgeServer } from '../worker/harness.js';
import { faultlines } from '../cli-helpers.js';
import { RunnerPool, ensureRunnerBuilt, explainTestDigit, watchJob } from './helpers.js';

let edge: EdgeServer;
const pool = new RunnerPool(() => edge);
const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-explain-api-'));

/** Bound for a stuck run on a loaded machine (the runner's job and the CLI side by side), not a timing. */
const COMPUTE_TIMEOUT_MS = 900_000;

/** The test digit, read before the edge starts (reading the split takes seconds, and an idle connection to workerd may be closed meanwhile). */
let digit: { bytes: Uint8Array; label: number };

beforeAll(async () => {
  digit = explainTestDigit();
  [edge] = await Promise.all([startEdge(), ensureRunnerBuilt()]);
}, COMPUTE_TIMEOUT_MS);

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

const png = (width: number, height: number, channels: number, data?: Uint8Array) =>
  encode({ width, height, channels, depth: 8, data: data ?? new Uint8Array(width * height * channels) });
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const post = async (body: unknown, headers: Record<string, string> = SUBMIT_AUTH) => {
  const res = await edge.fetch('/v1/explain', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
};
const get = async (p: string) => {
  const res = await edge.fetch(p);
  return { status: res.status, body: (await res.json()) as any };
};
const explainJobs = async () =>
  ((await get('/v1/jobs?limit=100')).body.jobs as Array<{ kind: string }>).filter((j) => j.kind === 'explain');

describe('POST /v1/explain', () => {
  it('refuses bad input with problem+json naming the field, and queues nothing', async () => {
    const ok = b64(png(28, 28, 1));
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ image: b64(new TextEncoder().encode('hello')), label: 3 }, 400, 'image', /image is not a PNG/],
      [{ image: '%%%not base64%%%', label: 3 }, 400, 'image', /base64/],
      [{ image: b64(png(64, 64, 1)), label: 3 }, 400, 'image', /image is 64x64; this domain's images are 32x32/],
      [{ image: b64(png(32, 32, 3)), label: 3 }, 400, 'image', /image has 3 channel\(s\) \(RGB\)/],
      [{ image: b64(png(32, 32, 2)), label: 3 }, 400, 'image', /grey \+ alpha/],
      [{ image: ok, label: 10 }, 400, 'label', /label must be an integer in \[0, 9\], got 10/],
      [{ image: ok, label: -1 }, 400, 'label', /label/],
      [{ image: ok }, 400, 'label', /label/],
      [{ image: ok, label: 3, steps: 100_000 }, 400, 'steps', /steps/],
      [{ image: ok, label: 3, top: 0 }, 400, 'top', /top/],
      [{ image: ok, label: 3, classifier: 'no-such-classifier' }, 404, 'classifier', /no-such-classifier/],
      [{ image: ok, label: 3, extra: 1 }, 400, '', /extra|unrecognized/i],
    ];
    for (const [body, status, field, detail] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.type).toMatch(/application\/problem\+json/);
      if (field) expect(r.body.field).toBe(field);
      expect(r.body.detail).toMatch(detail);
    }
    // Without the submitter token: 401, before the body is read.
    expect((await post({ image: ok, label: 3 }, {})).status).toBe(401);
    expect(await explainJobs()).toEqual([]);
    // An unknown key is a 404 naming it; a malformed one a 400.
    expect((await get(`/v1/explain/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get('/v1/explain/nope')).body.field).toBe('key');
    // A widget on another origin may read an explanation (CORS on the GET only).
    const read = await edge.fetch(`/v1/explain/${'0'.repeat(64)}`, { headers: { origin: 'http://elsewhere.test' } });
    expect(read.headers.get('access-control-allow-origin')).toBe('*');
    // The embed page: the widget with the key; without one, refused naming it.
    const key = 'a'.repeat(64);
    const embed = await edge.fetch(`/embed/explain?key=${key}`);
    expect(embed.status).toBe(200);
    expect(await embed.text()).toMatch(new RegExp(`<faultlines-explain [^>]*key="${key}"`));
    expect((await get('/embed/explain')).body.field).toBe('key');
  });

  it(
    'a real misread digit past the inline budget: one explain job, computed by a wasm runner, ' +
      'served equal to the CLI’s report.json; a repeat is answered from the cache',
    async () => {
      const { bytes, label } = digit;
      // One step past the inline budget (EXPLAIN_INLINE): a job.
      const request = { image: b64(bytes), label, classifier: 'classifier-clean', steps: 9, seed: 1, top: 2 };
      const sub = await post(request);
      expect(sub.status, JSON.stringify(sub.body)).toBe(202);
      const { key, statusUrl, resultUrl, job } = sub.body;
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(resultUrl).toBe(`/v1/explain/${key}`);
      expect(job).toMatchObject({ kind: 'explain', key, status: 'queued' });
      expect(job.shards.total).toBe(1);
      // The built-in classifier's sums are seeded: nothing to wait for.
      expect(job.needs ?? null).toBeNull();
      expect(job.spec.options).toEqual({ image: request.image, label, steps: 9, seed: 1, top: 2 });
      expect((await get(resultUrl)).status).toBe(202);
      // Submitting the same again while queued: the same job.
      const again = await post(request);
      expect(again.status).toBe(202);
      expect(again.body.job.id).toBe(job.id);

      // The CLI on the same file, side by side with the runner.
      const file = path.join(dir, 'digit.png');
      writeFileSync(file, bytes);
      const out = path.join(dir, 'cli');
      pool.start('explain', ['--backend', 'wasm', '--lease-ms', '120000', '--heartbeat-ms', '2000']);
      const [cli] = await Promise.all([
        faultlines(
          'explain',
          file,
          '--label',
          String(label),
          '--steps',
          '9',
          '--seed',
          '1',
          '--top',
          '2',
          '--backend',
          'wasm',
          '--out',
          out,
        ),
        watchJob(edge, statusUrl, COMPUTE_TIMEOUT_MS - 60_000, () => pool.tails()),
      ]);
      expect(cli.code, cli.stderr).toBe(0);

      const served = await get(resultUrl);
      expect(served.status).toBe(200);
      expect(served.body).toMatchObject({
        status: 'done',
        key,
        classifier: 'classifier-clean',
        request: { label, steps: 9, seed: 1, top: 2, sweepSamples: 2000 },
        image: `data:image/png;base64,${request.image}`,
      });
      expect(served.body.computed).toMatchObject({ backend: 'wasm' });
      const e = served.body.explanation;
      const arch = GeneratorArchitectureSchema.parse(edge.catalog.generatorArchitecture);
      expect(() =>
        checkExplainPayload(e, { styleSize: buildStyleLayout(arch).size, numClasses: arch.numClasses }, job.spec),
      ).not.toThrow();
      expect(e.label).toBe(label);
      expect(e.original.predicted).not.toBe(label);
      expect(e.deviations).toHaveLength(2);
      expect(e.counterfactual).not.toBeNull();

      const {
        image: _file,
        classifier: _c,
        backend: _b,
        sums,
        seconds: _s,
        ...report
      } = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(sums).toBe('precomputed');
      const { seconds: _t, ...api } = e;
      expect(api).toEqual(report);

      // The same request again, the PNG as a data URL: the cached answer at once, no new job.
      const repeat = await post({ ...request, image: `data:image/png;base64,${request.image}` });
      expect(repeat.status).toBe(200);
      expect(repeat.body).toEqual(served.body);
      expect((await explainJobs()).length).toBe(1);
    },
    COMPUTE_TIMEOUT_MS,
  );
  it(
    'a small budget is computed inline and answered 200 at once, equal to the CLI’s report.json; nothing is queued',
    async () => {
      const { bytes, label } = digit;
      const request = { image: b64(bytes), label, classifier: 'classifier-clean', steps: EXPLAIN_INLINE.steps, top: 2 };
      const file = path.join(dir, 'digit-inline.png');
      writeFileSync(file, bytes);
      const out = path.join(dir, 'cli-inline');
      const jobsBefore = (await explainJobs()).length;
      const [sub, cli] = await Promise.all([
        post(request),
        faultlines(
          'explain',
          file,
          '--label',
          String(label),
          '--steps',
          String(EXPLAIN_INLINE.steps),
          '--top',
          '2',
          '--backend',
          'wasm',
          '--out',
          out,
        ),
      ]);
      expect(sub.status, JSON.stringify(sub.body)).toBe(200);
      expect(cli.code, cli.stderr).toBe(0);
      expect(sub.body).toMatchObject({
        status: 'done',
        classifier: 'classifier-clean',
        request: { label, steps: EXPLAIN_INLINE.steps, seed: 1, top: 2, sweepSamples: 2000 },
        computed: { backend: 'wasm', inline: true },
      });
      expect((await explainJobs()).length).toBe(jobsBefore);
      const {
        image: _f,
        classifier: _c,
        backend: _b,
        sums: _u,
        seconds: _s,
        ...report
      } = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      const { seconds: _t, ...inline } = sub.body.explanation;
      expect(inline).toEqual(report);
      // Stored under its key like a runner's answer: GET serves the same.
      const served = await get(`/v1/explain/${sub.body.key}`);
      expect(served.status).toBe(200);
      expect(served.body).toEqual(sub.body);
    },
    COMPUTE_TIMEOUT_MS,
  );
});
