/**
 * Embeddings of a registered classifier (the mlp-layers fixture) as a job: not computed, GET
 * /v1/embeddings names the job to submit; submitted, it is one shard with no ranking sums to wait
 * for, and answers 202 while queued; a real runner process (wasm, Node) computes it against the
 * real worker bundle in workerd, and GET /v1/embeddings serves it. The served payload passes the
 * edge's own checks, has the built-in embeddings' shape, and equals the same computation in this
 * process (the core function, the same models fetched and verified as a runner does) exactly, and
 * what `analyze --seed 0 --samples 60` computes for its embedding stage (the same function with the
 * CLI's batch of 256 and UMAP seeded with --seed: 0, as the job's options seed it), points rounded
 * as stored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embeddingsResult, storedEmbedding, sweepHeadEmbedding } from '../../src/core/analysis/embeddings-result.js';
import { useBackend } from '../../src/node/backend.js';
import { EdgeClient } from '../../src/gpu-runner/client.js';
import { jobModels } from '../../src/gpu-runner/job-models.js';
import { generatorId } from '../../src/protocol/catalog.js';
import { DEFAULT_OPTIONS, DEFAULT_SWEEP } from '../../src/protocol/result-keys.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { EmbeddingsPayloadSchema } from '../../src/protocol/embeddings-payload.js';
import { checkEmbeddingsPayload } from '../../src/worker/jobs/embeddings-payload.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, classifierUpload, fixture, startEdge, type EdgeServer } from '../worker/harness.js';
import { RunnerPool, ensureRunnerBuilt, watchJob } from './helpers.js';
import { runnerPseudonym } from '../../src/worker/jobs/pseudonym.js';

let edge: EdgeServer;
const pool = new RunnerPool(() => edge);

/** Bound for a stuck run on a loaded machine (a runner's job, then the same computation here), not a timing. */
const COMPUTE_TIMEOUT_MS = 600_000;

beforeAll(async () => {
  [edge] = await Promise.all([startEdge(), ensureRunnerBuilt()]);
  await useBackend('wasm');
}, COMPUTE_TIMEOUT_MS);

afterEach(async () => {
  await pool.stopAll();
});

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

const json = async (p: string, init?: RequestInit) => {
  const res = await edge.fetch(p, init);
  return { status: res.status, body: (await res.json()) as any };
};
const submit = (body: unknown) =>
  json('/v1/jobs', {
    method: 'POST',
    headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('embeddings of a registered classifier, computed by a runner', () => {
  it(
    'not computed: the 404 names the job; submitted: one shard, 202 while queued; ' +
      'a wasm runner computes it; served, it equals the core computation and the CLI’s',
    async () => {
      const reg = await edge.fetch('/v1/classifiers', {
        method: 'POST',
        headers: SUBMIT_AUTH,
        body: classifierUpload(fixture('mlp-layers'), { name: 'mlp-layers' }),
      });
      expect(reg.status).toBeLessThan(300);
      const id = ((await reg.json()) as { id: string }).id;
      // Seed 0: the job's UMAP seed (DEFAULT_OPTIONS.embeddings.seed), which `analyze` takes from --seed.
      const sweep = { seed: 0, count: 60 };
      const url = `/v1/embeddings?classifier=${id}&seed=${sweep.seed}&count=${sweep.count}`;

      const miss = await json(url);
      expect(miss.status).toBe(404);
      expect(miss.body.submit).toEqual({
        method: 'POST',
        href: '/v1/jobs',
        body: { kind: 'embeddings', classifier: id, ...sweep },
      });

      const sub = await submit(miss.body.submit.body);
      expect(sub.status, JSON.stringify(sub.body)).toBe(202);
      const job = sub.body.job;
      // Computed whole, from the models alone: no ranking sums named or waited for.
      expect(job.spec).toMatchObject({ kind: 'embeddings', classifier: id, classifierFormat: 'tfjs', ...sweep });
      expect(job.spec.options).toEqual(DEFAULT_OPTIONS.embeddings);
      expect(job.spec.sums).toBeUndefined();
      expect(job.needs ?? null).toBeNull();
      expect(job.shards.total).toBe(1);
      expect(job.key).toBe(miss.body.key);
      const pending = await json(url);
      expect(pending.status).toBe(202);
      expect(pending.body.statusUrl).toBe(sub.body.statusUrl);

      pool.start('embeddings-registered', ['--backend', 'wasm', '--lease-ms', '60000', '--heartbeat-ms', '1000']);
      await watchJob(edge, sub.body.statusUrl, 400_000, () => pool.tails());

      const served = await json(url);
      expect(served.status).toBe(200);
      const gid = generatorId(edge.catalog);
      expect(served.body).toMatchObject({
        key: job.key,
        kind: 'embeddings',
        classifier: id,
        classifierId: id,
        generatorId: gid,
        sweep,
        options: DEFAULT_OPTIONS.embeddings,
      });
      expect(served.body.computed).toMatchObject({
        backend: 'wasm',
        runners: [runnerPseudonym('embeddings-registered')],
      });
      const payload = served.body.payload;
      // The built-in embeddings' shape, and the edge's own checks run again on what it serves.
      expect(EmbeddingsPayloadSchema.safeParse(payload).success).toBe(true);
      const arch = GeneratorArchitectureSchema.parse(edge.catalog.generatorArchitecture);
      const K = arch.numClasses;
      const S = (payload.spaces as Array<{ space: string; dims: number }>).find((s) => s.space === 'S')!.dims;
      expect(() =>
        checkEmbeddingsPayload(payload, { styleSize: S, numClasses: K, zDim: arch.zDim, wDim: arch.wDim }, job.spec),
      ).not.toThrow();
      expect(payload.count).toBe(60);
      // A classifier on 60 samples has both verdicts here (else the kNN AUROC would be null).
      expect(new Set(payload.correct).size).toBe(2);

      // The same computation in this process: the same models, fetched and verified as a runner does.
      const models = await jobModels(new EdgeClient(edge.url.origin, RUNNER_TOKEN), gid, id, 'tfjs');
      expect(payload).toEqual(await embeddingsResult(models, sweep, DEFAULT_OPTIONS.embeddings));
      // `analyze --seed 0 --samples 60` (embedding samples 1000 > 60): its embedding stage, rounded as stored.
      const cli = await sweepHeadEmbedding(models, { ...sweep, classIndex: null }, 60, { seed: 0, batchSize: 256 });
      expect(payload).toEqual(storedEmbedding(cli));
    },
    COMPUTE_TIMEOUT_MS,
  );

  it('a classifier without a gradient (mlp-graph-equal) has embeddings too: they classify forward only', async () => {
    const reg = await edge.fetch('/v1/classifiers', {
      method: 'POST',
      headers: SUBMIT_AUTH,
      body: classifierUpload(fixture('mlp-graph-equal')),
    });
    expect(reg.status).toBeLessThan(300);
    const rec = (await reg.json()) as { id: string };
    expect((await json(`/v1/classifiers/${rec.id}`)).body).toMatchObject({ differentiable: false });
    // Its ranking-derived kinds are refused; its embeddings are queued.
    expect((await submit({ kind: 'histograms', classifier: rec.id, seed: 0, count: 60 })).status).toBe(422);
    const sub = await submit({ kind: 'embeddings', classifier: rec.id, seed: 0, count: 60 });
    expect(sub.status, JSON.stringify(sub.body)).toBe(202);
    expect(sub.body.job.spec).toMatchObject({ kind: 'embeddings', classifier: rec.id, classifierFormat: 'tfjs' });
  });

  it(
    "the job's computation reproduces the seeded embeddings of the default classifier (computed before this job kind existed)",
    async () => {
      const cls = edge.catalog.classifiers.find((c) => c.name === edge.catalog.defaultClassifier)!;
      const seeded = await json(`/v1/embeddings?classifier=${cls.name}`);
      expect(seeded.status).toBe(200);
      expect(seeded.body.options).toEqual(DEFAULT_OPTIONS.embeddings);
      const gid = generatorId(edge.catalog);
      const models = await jobModels(new EdgeClient(edge.url.origin, RUNNER_TOKEN), gid, cls.sha256);
      const mine = await embeddingsResult(models, DEFAULT_SWEEP, DEFAULT_OPTIONS.embeddings);
      expect(mine).toEqual(seeded.body.payload);
    },
    COMPUTE_TIMEOUT_MS,
  );
});
