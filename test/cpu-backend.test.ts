/**
 * tfjs's pure-JS cpu backend against wasm: the ranking's top dims, the projection into S, the
 * weight-terms cache, the generator's checks and its images, s-gradients and per-sample noise, the
 * fused leaky ReLU. The cpu backend is ~10x slower than wasm, so these run in the e2e tier
 * (vitest.config.ts); the unit tier checks the same code on wasm (test/weight-cache.test.ts,
 * test/generator.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { rankDimensions, rankingSweep } from '../src/core/analysis/ranking.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import * as tf from '../src/core/tf.js';
import { useBackend, type NodeBackend } from '../src/node/backend.js';
import { DEFAULT_ANALYSIS_NOISE } from '../src/core/analysis/noise.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { projectImages } from '../src/core/analysis/projection.js';
import { generated, models as projectionModels } from './projection-samples.js';
import { weightCacheChecks } from './weight-cache-checks.js';
import {
  CLASSES,
  disposeModels,
  generatorChecks,
  host,
  lreluFusedCheck,
  maxAbsDiff,
  noiseModelsOn,
  perturbedGenerator,
  renderSamples,
  zBatch,
} from './generator-checks.js';

describe('ranking sweep', () => {
  let models: AnalysisModels;
  const spec = { seed: 11, count: 96, classIndex: null };
  beforeAll(async () => {
    await useBackend('wasm');
    const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
    models = {
      generator: new Generator(DEFAULT_GENERATOR, 3),
      classifier,
      generatorId: 'random-init-3',
      classifierId: manifest.sha256,
    };
  });

  it('gives the same top-10 order and scores on cpu and wasm', async () => {
    await useBackend('cpu');
    const onCpu = await rankingSweep(models, { ...spec, count: 48 });
    await useBackend('wasm');
    const onWasm = await rankingSweep(models, { ...spec, count: 48 });
    const a = rankDimensions(onCpu, models.generator.layout).dims.slice(0, 10);
    const b = rankDimensions(onWasm, models.generator.layout).dims.slice(0, 10);
    expect(b.map((d) => d.index)).toEqual(a.map((d) => d.index));
    // Stated tolerance: scores within 1e-3 relative.
    a.forEach((d, i) => expect(Math.abs(b[i].score - d.score)).toBeLessThan(1e-3 * Math.abs(d.score)));
  });
});

describe('projection into S', () => {
  it('gives the same projection on cpu and wasm (within float tolerance)', async () => {
    const out: Record<string, Float32Array[]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const m = await projectionModels();
      const truth = await generated(m, 2);
      const r = await projectImages(m, truth.images, truth.labels, { steps: 8 });
      out[backend] = r.images.map((im) => im.style);
      m.generator.dispose();
      m.featureExtractor.dispose();
    }
    // Stated tolerance: every style dim within 1e-3 of its scale (max |s|) across backends after 8 Adam steps.
    for (let i = 0; i < 2; i++) {
      const a = out.cpu[i];
      const b = out.wasm[i];
      let diff = 0;
      let scale = 1e-12;
      for (let j = 0; j < a.length; j++) {
        diff = Math.max(diff, Math.abs(a[j] - b[j]));
        scale = Math.max(scale, Math.abs(a[j]));
      }
      expect(diff / scale).toBeLessThan(1e-3);
    }
  }, 600_000);
});

weightCacheChecks('cpu');

generatorChecks('cpu');

describe('cpu and wasm agree', () => {
  it('on images and s-gradients', async () => {
    const run = async (backend: NodeBackend) => {
      await useBackend(backend);
      const g = perturbedGenerator();
      const z = zBatch();
      const s = tf.tidy(() => g.styles(g.mapping(z, CLASSES)));
      const img = await host(g.synthesis(s, { noiseMode: 'random', noiseSeed: 3 }));
      const grad = await host(tf.grad((x: tf.Tensor) => tf.sum(tf.square(g.synthesisRaw(x as tf.Tensor2D))))(s));
      tf.dispose([z, s]);
      g.dispose();
      return { img, grad };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(maxAbsDiff(cpu.img, wasm.img)).toBeLessThan(1e-4);
    const scale = Math.max(...cpu.grad.map(Math.abs));
    expect(maxAbsDiff(cpu.grad, wasm.grad) / scale).toBeLessThan(1e-3);
  });
});

describe('per-sample analysis noise (src/core/analysis/noise.ts)', () => {
  it('gives the same images on cpu and wasm (noise drawn on the host)', async () => {
    expect(DEFAULT_ANALYSIS_NOISE.mode).toBe('per-sample');
    const images: Float32Array[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      const m = await noiseModelsOn(backend);
      images.push(await renderSamples(m, 5, 6));
      disposeModels(m);
    }
    expect(maxAbsDiff(images[0], images[1])).toBeLessThan(1e-4);
  });
});

describe('fused leaky ReLU', () => {
  lreluFusedCheck('cpu');
});
