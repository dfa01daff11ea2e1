/**
 * POST /v1/explain with a registered classifier (a user's TF.js model, the mlp-normalised fixture):
 * the explain job waits for the ranking-sums job its submission queued (the std units and the class
 * ranking are the user's model's own), one wasm runner computes both against the real worker
 * bundle in workerd, and what GET /v1/explain/{key} serves equals, value for value, the report.json
 * of `npx faultlines explain --classifier DIR --adapter FILE` on the same file, label and budget,
 * given the sums the runner computed (`--sums`, as served by GET /v1/results/{key}): the CLI
 * sweeping on its own would sum in other batches, and the edge stores sums rounded to 9 digits.
 * Its sums then at hand, the same small budget with another seed is computed inline by the edge
 * (200 at once), equal to the CLI too. A small sweep (60 samples) and budget (steps 8, top 2) keep it cheap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import { checkExplainPayload } from '../../src/worker/jobs/explain-payload.js';
import { SUBMIT_AUTH, classifierUpload, fixture, startEdge, type EdgeServer } from '../worker/harness.js';
import { faultlines } from '../cli-helpers.js';
import { RunnerPool, ensureRunnerBuilt, explainTestDigit, watchJob } from './helpers.js';

let edge: EdgeServer;
const pool = new RunnerPool(() => edge);
const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-explain-registered-'));
const MODEL = fixture('mlp-normalised');

/** Bound for a stuck run on a loaded machine, not a timing. */
const COMPUTE_TIMEOUT_MS = 900_000;

/** Test digit 5006 of the corrupted split (a 0), read before the edge starts (reading the split takes seconds). */
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

const getJson = async (p: string) => {
  const res = await edge.fetch(p);
  return { status: res.status, body: (await res.json()) as any };
};

describe('POST /v1/explain with a registered classifier', () => {
  it(
    'waits for its ranking sums, a wasm runner computes both, and the answer equals the CLI’s report.json on the same sums',
    async () => {
      const reg = await edge.fetch('/v1/classifiers', {
        method: 'POST',
        headers: SUBMIT_AUTH,
        body: classifierUpload(path.join(MODEL, 'model'), {
          adapter: JSON.parse(readFileSync(path.join(MODEL, 'adapter.json'), 'utf8')),
          name: 'mlp-normalised',
        }),
      });
      expect(reg.status, await reg.clone().text()).toBe(201);
      const id = ((await reg.json()) as { id: string }).id;

      const { bytes, label } = digit;
      const image = Buffer.from(bytes).toString('base64');
      const budget = { steps: 8, seed: 1, top: 2, sweepSamples: 60 };
      const sub = await edge.fetch('/v1/explain', {
        method: 'POST',
        headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ image, label, classifier: id, ...budget }),
      });
      const pending = (await sub.json()) as any;
      expect(sub.status, JSON.stringify(pending)).toBe(202);
      const { job, statusUrl, resultUrl } = pending;
      // The user's model, fetched by the runner as TF.js; the std units from its own sweep of 60 samples.
      expect(job.kind).toBe('explain');
      expect(job.spec).toMatchObject({ classifier: id, classifierFormat: 'tfjs', seed: 1, count: 60 });
      expect(job.needs).toMatchObject({ key: job.spec.sums, status: 'queued' });

      pool.start('explain-registered', ['--backend', 'wasm', '--lease-ms', '120000', '--heartbeat-ms', '2000']);
      await watchJob(edge, statusUrl, COMPUTE_TIMEOUT_MS - 120_000, () => pool.tails());
      const served = await getJson(resultUrl);
      expect(served.status).toBe(200);
      expect(served.body).toMatchObject({
        status: 'done',
        classifier: id,
        classifierId: id,
        request: { label, ...budget },
      });
      const e = served.body.explanation;
      const arch = GeneratorArchitectureSchema.parse(edge.catalog.generatorArchitecture);
      expect(() =>
        checkExplainPayload(e, { styleSize: buildStyleLayout(arch).size, numClasses: arch.numClasses }, job.spec),
      ).not.toThrow();
      expect(e.deviations).toHaveLength(2);

      // The sums the runner computed, as the edge serves them, then the CLI on the same file and model.
      const sums = await getJson(`/v1/results/${job.spec.sums}`);
      expect(sums.status).toBe(200);
      const sumsFile = path.join(dir, 'sums.json');
      writeFileSync(sumsFile, JSON.stringify(sums.body));
      const file = path.join(dir, 'digit.png');
      writeFileSync(file, bytes);
      const cli = (out: string, sweepSamples: number, seed = 1) =>
        faultlines(
          'explain',
          file,
          '--label',
          String(label),
          '--classifier',
          path.join(MODEL, 'model'),
          '--adapter',
          path.join(MODEL, 'adapter.json'),
          '--sweep-samples',
          String(sweepSamples),
          '--sums',
          sumsFile,
          '--steps',
          '8',
          '--seed',
          String(seed),
          '--top',
          '2',
          '--backend',
          'wasm',
          '--out',
          out,
        );
      const out = path.join(dir, 'cli');
      const r = await cli(out, 60);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ranking sums: file \(seed 1, 60 samples\)/);
      const {
        image: _file,
        classifier: _name,
        classifierId,
        model: _model,
        backend: _b,
        sums: source,
        seconds: _s,
        ...report
      } = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(source).toBe('file');
      // The CLI names the model by the id the edge registered it under (model bytes and adapter).
      expect(classifierId).toBe(id);
      const { seconds: _t, ...api } = e;
      expect(api).toEqual(report);
      const reportOf = (dirOut: string) => {
        const {
          image: _i,
          classifier: _n,
          classifierId: _d,
          model: _m,
          backend: _k,
          sums: _u,
          seconds: _z,
          ...rest
        } = JSON.parse(readFileSync(path.join(dirOut, 'report.json'), 'utf8'));
        return rest;
      };

      // Its sums now at hand, a small budget (another seed: a new key) is computed inline by the
      // edge with the user's model, answered 200 at once, and equal to the CLI on the same sums.
      const [inline, cliSeed2] = await Promise.all([
        edge.fetch('/v1/explain', {
          method: 'POST',
          headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({ image, label, classifier: id, ...budget, seed: 2 }),
        }),
        cli(path.join(dir, 'seed2'), 60, 2),
      ]);
      const inlineBody = (await inline.json()) as any;
      expect(inline.status, JSON.stringify(inlineBody)).toBe(200);
      expect(cliSeed2.code, cliSeed2.stderr).toBe(0);
      expect(inlineBody.computed).toMatchObject({ inline: true });
      const { seconds: _t2, ...inlineApi } = inlineBody.explanation;
      expect(inlineApi).toEqual(reportOf(path.join(dir, 'seed2')));

      // Sums of another sweep are refused, naming the mismatch, before anything is computed.
      const other = await cli(path.join(dir, 'other'), 61);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/--sums .*another population.*61 samples/);
    },
    COMPUTE_TIMEOUT_MS,
  );
});
