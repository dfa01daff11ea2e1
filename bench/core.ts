/**
 * `npm run bench:core` — speed of the method's core per backend: the gradient sweep (synthesis from s
 * + classifier + d p_true / d s) in samples/s at batch 1, 16 and 64, a 9-frame forward batch, and one
 * corner-case search. Medians of repeated runs, all measured in this one process; figures go to
 * bench/results/core.json. Not a test: these machines are shared and noisy.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '../src/core/tf.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import type { AnalysisModels } from '../src/core/analysis/models.js';
import { pTrueGradient } from '../src/core/analysis/models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { rankDimensions, rankingSweep } from '../src/core/analysis/ranking.js';
import { classAverageStyle, findCornerCases } from '../src/core/analysis/corner-cases.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import { NODE_BACKENDS, useBackend, type NodeBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/models.js';
import { weightsRoot } from '../src/node/weights-fs.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt(fn: () => Promise<void>, repeats: number): Promise<number[]> {
  await fn(); // warm-up (kernel compilation, allocation)
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

async function benchBackend(backend: NodeBackend, models: AnalysisModels) {
  await useBackend(backend);
  const spec = { seed: 1, count: 1_000_000, classIndex: null };
  const S = models.generator.styleSize;
  const sweep: Record<string, number> = {};
  for (const batch of [1, 16, 64]) {
    const { s, w, labels } = populationStyles(models, spec, 0, batch);
    w.dispose();
    const rounds = batch === 1 ? 32 : batch === 16 ? 4 : 1;
    const times = await timeIt(async () => {
      for (let r = 0; r < rounds; r++) {
        const { probs, grad } = pTrueGradient(models, s, labels);
        await grad.data();
        tf.dispose([probs, grad]);
      }
    }, backend === 'cpu' ? 3 : 7);
    sweep[`batch${batch}`] = (batch * rounds) / median(times);
    s.dispose();
  }
  // The full sweep path (mapping + styles + gradient + host accumulation) at batch 64.
  const n = backend === 'cpu' ? 128 : 512;
  const full = await timeIt(async () => void (await rankingSweep(models, { ...spec, count: n }, { batchSize: 64 })), backend === 'cpu' ? 1 : 3);
  const sums = await rankingSweep(models, { ...spec, count: 256 });
  const ranking = rankDimensions(sums, models.generator.layout, 3);
  const s0 = classAverageStyle(sums, 3);
  const d = ranking.dims[0];
  const frames = await timeIt(async () => void (await evaluateShifts(models, { s0, classIndex: 3, dim: d.index, std: d.std, direction: 1 }, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2], true)), 15);
  const corner = await timeIt(async () => void (await findCornerCases(models, sums, models.generator.layout, { classes: [3], perClass: 1, maxCandidates: 10 })), backend === 'cpu' ? 2 : 7);
  return {
    sweepSamplesPerSecond: sweep,
    fullSweepSamplesPerSecond: n / median(full),
    nineFrameForwardMs: 1000 * median(frames),
    cornerCaseSearchMs: 1000 * median(corner),
    memoryTensors: tf.memory().numTensors,
  };
}

const backends = (process.argv[2]?.split(',') ?? NODE_BACKENDS) as NodeBackend[];
await useBackend(backends[0]); // models are created on an initialised backend
const generatorOnDisk = existsSync(path.join(weightsRoot(), 'generator', 'manifest.json'));
const gen = generatorOnDisk ? loadGenerator() : { generator: new Generator(DEFAULT_GENERATOR, 1), manifest: { sha256: 'random-init' } };
const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
const models: AnalysisModels = { generator: gen.generator, classifier, generatorId: gen.manifest.sha256, classifierId: manifest.sha256 };
const results: Record<string, unknown> = {};
for (const b of backends) {
  process.stderr.write(`bench:core on ${b}...\n`);
  results[b] = await benchBackend(b, models);
  process.stderr.write(`${JSON.stringify(results[b])}\n`);
}
const generatorParams = gen.generator.params.size();
const report = {
  bench: 'core',
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg() },
  models: {
    generator: generatorOnDisk ? 'weights/generator' : 'random init of the default architecture (same cost as trained)',
    generatorParameters: generatorParams,
    styleSize: gen.generator.styleSize,
    channels: gen.generator.arch.channels,
    classifier: 'classifier-clean',
    classifierParameters: classifier instanceof Object && 'params' in classifier ? (classifier as { params: { size(): number } }).params.size() : null,
  },
  results,
  reference: {
    note: 'Figures from the method issue, measured earlier on this kind of machine for a half-width generator (S = 576) + CNN at batch 64; PyTorch cannot be installed here (no PyPI), so they are quoted, not re-measured.',
    tfjsWasmStockGradients: 51,
    tfjsWasmForwardConvGradients: 158,
    pytorchDebian2Threads: 256,
    pytorchTuned2Threads: 1222,
  },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/core.json', JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
