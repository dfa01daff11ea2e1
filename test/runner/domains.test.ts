/**
 * Jobs of any domain (issue 15), end to end on the real worker bundle in workerd and a real wasm
 * runner process: a Fashion-MNIST ranking sweep submitted with `?domain=fashion` is leased, computed
 * with the fashion generator and classifier the runner fetches from the edge (by the ids the job
 * names), merged and served under `?domain=fashion`; the served ranking equals the same sweep
 * computed here with the committed fashion models; a fashion explanation (a 20-sample sweep, 4
 * projection steps) is computed with the fashion feature extractor. Small, to stay cheap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankDimensions, rankingSweep } from '../../src/core/analysis/ranking.js';
import { FASHION } from '../../src/core/data/domain.js';
import { localModels } from '../../src/gpu-runner/local.js';
import { resultKey } from '../../src/protocol/result-keys.js';
import { ExplainAnswerSchema } from '../../src/protocol/explain.js';
import { useBackend } from '../../src/node/backend.js';
import { SUBMIT_AUTH, startEdge, type EdgeServer } from '../worker/harness.js';
import { RunnerPool, SCORE_RELATIVE_TOLERANCE, compareTopDims, ensureRunnerBuilt, watchJob } from './helpers.js';

let edge: EdgeServer;
const pool = new RunnerPool(() => edge);
/** The one wasm runner of this file, started by the first test that needs it. */
const runner = () =>
  pool.started[0] ?? pool.start('wasm-fashion', ['--backend', 'wasm', '--lease-ms', '60000', '--batch', '20']);

beforeAll(async () => {
  [edge] = await Promise.all([startEdge(), ensureRunnerBuilt()]);
  await useBackend('wasm');
}, 600_000);

afterAll(async () => {
  await pool.stopAll();
  await edge?.close();
});

describe('jobs of another domain', () => {
  it('a fashion explanation is computed by the runner with the fashion feature extractor and served with its domain', async () => {
    // A fashion image: the edge's own render of (seed 3, class 3) as a 32x32 PNG.
    const png = Buffer.from(
      await (await edge.fetch(`/v1/render?domain=${FASHION.name}&seed=3&class=3&format=png&scale=1`)).arrayBuffer(),
    ).toString('base64');
    const res = await edge.fetch('/v1/explain', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...SUBMIT_AUTH },
      body: JSON.stringify({ domain: FASHION.name, image: png, label: 3, steps: 4, top: 2, sweepSamples: 20 }),
    });
    expect(res.status).toBe(202);
    const sub = (await res.json()) as { statusUrl: string; resultUrl: string };
    runner();
    await watchJob(edge, sub.statusUrl, 170_000, () => pool.tails());
    // As the edge documents it (src/protocol/explain.ts), with the domain it was explained in.
    const answer = ExplainAnswerSchema.parse(await (await edge.fetch(sub.resultUrl)).json());
    const fashion = edge.catalog.domains!.find((d) => d.name === FASHION.name)!;
    expect([answer.domain, answer.generatorId, answer.classifierId]).toEqual([
      FASHION.name,
      fashion.generator!.sha256,
      fashion.classifiers[0].sha256,
    ]);
    expect(answer.explanation.label).toBe(3);
    expect(answer.request).toMatchObject({ steps: 4, top: 2, sweepSamples: 20 });
  });

  it('a fashion ranking job is computed by a wasm runner and served under ?domain=fashion', async () => {
    const sweep = { seed: 12, count: 40 };
    const fashion = edge.catalog.domains!.find((d) => d.name === FASHION.name)!;
    const res = await edge.fetch(`/v1/jobs?domain=${FASHION.name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...SUBMIT_AUTH },
      body: JSON.stringify({ kind: 'ranking-sums', ...sweep, shardSize: 20 }),
    });
    expect(res.status).toBe(202);
    const sub = (await res.json()) as { statusUrl: string; job: { key: string; shards: { total: number } } };
    expect(sub.job.shards.total).toBe(2);

    // Not served as MNIST's: the same sweep without the domain is another (uncomputed) result.
    expect((await edge.fetch(`/v1/rankings?seed=${sweep.seed}&count=${sweep.count}`)).status).toBe(404);

    await watchJob(edge, sub.statusUrl, 170_000, () => pool.tails());
    // The runner says which domain it computed.
    expect(runner().output()).toContain(`(${FASHION.name} classifier-clean, seed ${sweep.seed}`);

    const served = (await (
      await edge.fetch(`/v1/rankings?domain=${FASHION.name}&seed=${sweep.seed}&count=${sweep.count}&top=10`)
    ).json()) as {
      key: string;
      domain: string;
      generatorId: string;
      classifierId: string;
      payload: { count: number; dims: Array<{ index: number; score: number }> };
    };
    expect(served.key).toBe(sub.job.key);
    expect(served.key).toBe(
      resultKey({
        kind: 'ranking-sums',
        generatorId: fashion.generator!.sha256,
        classifierId: fashion.classifiers[0].sha256,
        sweep,
        domain: FASHION.name,
      }),
    );
    expect([served.domain, served.generatorId, served.classifierId]).toEqual([
      FASHION.name,
      fashion.generator!.sha256,
      fashion.classifiers[0].sha256,
    ]);
    expect(served.payload.count).toBe(sweep.count);

    // The same sweep here, with the committed fashion models the edge serves.
    const models = localModels(edge.assets, undefined, FASHION.name);
    const local = rankDimensions(await rankingSweep(models, { ...sweep, classIndex: null }), models.generator.layout);
    const { worstScore, worstOrder } = compareTopDims(local, served.payload as never);
    expect(worstScore).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
    expect(worstOrder).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
    // And it is not MNIST's ranking of that sweep.
    const mnist = localModels(edge.assets);
    const mnistRanking = rankDimensions(
      await rankingSweep(mnist, { ...sweep, classIndex: null }),
      mnist.generator.layout,
    );
    expect(compareTopDims(mnistRanking, served.payload as never).worstScore).toBeGreaterThan(SCORE_RELATIVE_TOLERANCE);
  });
});
