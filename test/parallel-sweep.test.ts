/**
 * The sweep over worker threads (src/node/parallel-sweep.ts) against the in-process sweep: the same
 * sums bit for bit, the same batches in the same order for the population, and the same report
 * from `analyze` with the pool injected. The workers run the bundled dist/sweep-worker.mjs, built
 * here; the main thread runs the TypeScript sources.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBuild } from '../esbuild.config.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { emptyPopulation, recordBatch, type Population, type PopulationSpec } from '../src/core/analysis/population.js';
import {
  mergeRankingSums,
  rankDimensions,
  rankingSweep,
  type RankingSums,
  type RankingSweepOptions,
} from '../src/core/analysis/ranking.js';
import { analyze } from '../src/core/analysis/report.js';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { SWEEP_WORKER_BUNDLE, SweepPool, sweepModelSource } from '../src/node/parallel-sweep.js';
import { setConv3x3Algorithm } from '../src/core/nn/conv3x3/conv3x3-kernel.js';

const workerFile = path.resolve('dist', SWEEP_WORKER_BUNDLE);
let models: AnalysisModels;
let pool: SweepPool;
const spec: PopulationSpec = { seed: 11, count: 96, classIndex: null };

beforeAll(async () => {
  await Promise.all([
    build({ ...nodeBuild, entryPoints: { 'sweep-worker': 'src/node/sweep-worker.ts' } }),
    useBackend('wasm'),
  ]);
  const generator = new Generator(DEFAULT_GENERATOR, 3);
  // Noise inputs with weight (a fresh generator's strengths are 0), so the per-sample noise matters.
  for (const name of generator.params.names())
    if (name.endsWith('/noise_strength')) tf.tidy(() => generator.params.get(name).assign(tf.tensor([0.5])));
  const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
  models = { generator, classifier, generatorId: 'random-init-3', classifierId: manifest.sha256 };
  pool = await SweepPool.start(await sweepModelSource(models), { threads: 2, backend: 'wasm', workerFile });
});

afterAll(async () => {
  await pool?.close();
});

/** Every element equal as float64 bits (Object.is: also tells -0 from 0). */
function expectBitIdentical(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  expect(a.length, what).toBe(b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
  expect(diff, `${what}: elements that differ`).toBe(0);
}

function expectSameSums(a: RankingSums, b: RankingSums) {
  expect(a.specHash).toBe(b.specHash);
  expect(a.ranges).toEqual(b.ranges);
  expect(a.count).toEqual(b.count);
  expect(a.correct).toEqual(b.correct);
  for (const key of ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const)
    expectBitIdentical(a[key], b[key], key);
}

/** A sweep that records the population and the order of its batches. */
async function sweepRecording(sweep: typeof rankingSweep, opts: RankingSweepOptions) {
  const pop = emptyPopulation(models, spec);
  const starts: number[] = [];
  const progress: number[] = [];
  const sums = await sweep(models, spec, {
    ...opts,
    onBatch: (b) => {
      starts.push(b.start);
      recordBatch(pop, b.start, b.labels, b.styles, b.evaluation);
    },
    onProgress: (p) => progress.push(p.done),
  });
  return { sums, pop, starts, progress };
}

function expectSamePopulation(a: Population, b: Population) {
  for (const key of ['styles', 'pTrue', 'labels', 'predicted', 'correct'] as const)
    expectBitIdentical(a[key], b[key], key);
}

describe('sweep over worker threads', () => {
  it('gives bit-identical sums and the same population as the in-process sweep (2 workers, batch 64 and 16)', async () => {
    for (const batchSize of [64, 16]) {
      const one = await sweepRecording(rankingSweep, { batchSize });
      const two = await sweepRecording(pool.sweep, { batchSize });
      expectSameSums(two.sums, one.sums);
      expectSamePopulation(two.pop, one.pop);
      // onBatch and onProgress in sample order, whatever order the workers finish in.
      expect(two.starts).toEqual(one.starts);
      expect(two.progress).toEqual(one.progress);
      expect(two.progress.at(-1)).toBe(spec.count);
    }
    // The ranking that comes out is then the same too.
    const sums = await pool.sweep(models, spec);
    expect(rankDimensions(sums, models.generator.layout)).toEqual(
      rankDimensions(await rankingSweep(models, spec), models.generator.layout),
    );
  });

  it('sweeps sub-ranges (shards) like the in-process sweep, and their merge is the one-pass result', async () => {
    const a = await pool.sweep(models, spec, { start: 0, end: 40, batchSize: 16 });
    const b = await pool.sweep(models, spec, { start: 40, end: 96, batchSize: 16 });
    expectSameSums(a, await rankingSweep(models, spec, { start: 0, end: 40, batchSize: 16 }));
    expectSameSums(b, await rankingSweep(models, spec, { start: 40, end: 96, batchSize: 16 }));
    // Merging regroups float64 additions: equal to the one-pass sums up to float64 rounding, at
    // most n * 2^-52 * sum|g| <= n * 2^-52 * sqrt(n * sum g^2) (Cauchy-Schwarz), n = 96.
    const merged = mergeRankingSums([b, a]);
    const whole = await rankingSweep(models, spec, { batchSize: 16 });
    expect(merged.ranges).toEqual([[0, 96]]);
    expect(merged.count).toEqual(whole.count);
    let worst = 0;
    for (let i = 0; i < whole.gradSum.length; i++)
      worst = Math.max(
        worst,
        Math.abs(merged.gradSum[i] - whole.gradSum[i]) /
          (96 * 2 ** -52 * Math.sqrt(96 * whole.gradSqSum[i]) + Number.MIN_VALUE),
      );
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('gives analyze the same report as the in-process sweep', async () => {
    const options = {
      seed: 11,
      samples: 96,
      classIndex: 3,
      traversalDims: 1,
      cornerCasesPerClass: 1,
      jointDims: 2,
      embeddingSamples: 40,
      batchSize: 32,
    };
    const before = tf.memory().numTensors;
    const one = await analyze(models, options);
    const two = await analyze(models, options, undefined, undefined, { sweep: pool.sweep });
    expect(tf.memory().numTensors).toBe(before);
    const strip = (r: typeof one) => ({ ...r, timings: {} });
    expect(strip(two)).toEqual(strip(one));
  });

  it("renders with the models' noise: a const-noise pool matches the in-process const sweep, and differs from per-sample", async () => {
    const constModels: AnalysisModels = { ...models, noise: { mode: 'const' } };
    const constPool = await SweepPool.start(await sweepModelSource(constModels), {
      threads: 2,
      backend: 'wasm',
      workerFile,
    });
    try {
      const one = await rankingSweep(constModels, spec, { batchSize: 32 });
      expectSameSums(await constPool.sweep(constModels, spec, { batchSize: 32 }), one);
      const perSample = await pool.sweep(models, spec, { batchSize: 32 });
      expect(perSample.specHash).not.toBe(one.specHash);
      let differ = 0;
      for (let i = 0; i < one.gradSum.length; i++) if (one.gradSum[i] !== perSample.gradSum[i]) differ++;
      expect(differ).toBeGreaterThan(one.gradSum.length / 2);
      await expect(pool.sweep(constModels, spec)).rejects.toThrow(/noise/);
    } finally {
      await constPool.close();
    }
  });

  it("takes the main thread's 3x3 conv algorithm: a Winograd pool matches the in-process Winograd sweep, not the direct one", async () => {
    const small: PopulationSpec = { ...spec, count: 32 };
    const direct = await rankingSweep(models, small, { batchSize: 16 });
    // The pool started above (before any switch) runs the default, the direct kernel.
    expectSameSums(await pool.sweep(models, small, { batchSize: 16 }), direct);
    setConv3x3Algorithm('winograd');
    try {
      const winoPool = await SweepPool.start(await sweepModelSource(models), {
        threads: 2,
        backend: 'wasm',
        workerFile,
      });
      try {
        const one = await rankingSweep(models, small, { batchSize: 16 });
        expectSameSums(await winoPool.sweep(models, small, { batchSize: 16 }), one);
        let differ = 0;
        for (let i = 0; i < one.gradSum.length; i++) if (one.gradSum[i] !== direct.gradSum[i]) differ++;
        expect(differ).toBeGreaterThan(one.gradSum.length / 2);
      } finally {
        await winoPool.close();
      }
    } finally {
      setConv3x3Algorithm('direct');
    }
  });

  it('refuses other models, bad ranges and a missing worker bundle with clear errors', async () => {
    const other: AnalysisModels = { ...models, generatorId: 'another-generator' };
    await expect(pool.sweep(other, spec)).rejects.toThrow(/other models/);
    await expect(pool.sweep(models, spec, { start: 90, end: 100 })).rejects.toThrow(/sample range/);
    await expect(
      SweepPool.start(await sweepModelSource(models), {
        threads: 1,
        backend: 'wasm',
        workerFile: path.resolve('dist', 'no-such-worker.mjs'),
      }),
    ).rejects.toThrow(/sweep worker 0/);
    const closed = await SweepPool.start(await sweepModelSource(models), { threads: 1, backend: 'wasm', workerFile });
    await closed.close();
    await expect(closed.sweep(models, spec)).rejects.toThrow(/closed/);
  });
});
