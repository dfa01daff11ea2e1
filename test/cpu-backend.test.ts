/**
 * tfjs's pure-JS cpu backend against wasm: the ranking's top dims and the weight-terms cache. The
 * cpu backend is ~10x slower than wasm, so these run in the e2e tier (vitest.config.ts); the unit
 * tier checks the same code on wasm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { rankDimensions, rankingSweep } from '../src/core/analysis/ranking.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { weightCacheChecks } from './weight-cache-checks.js';

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

weightCacheChecks('cpu');
