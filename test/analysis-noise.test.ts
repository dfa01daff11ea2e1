/**
 * Per-pixel noise of the analyses (src/core/analysis/noise.ts): carried with each sample through
 * the sweep, the population, the comparison pass and traversals; part of every spec hash and
 * result key; and the measurement behind docs/analysis/noise-modes.json (residual correlation of
 * noisy generated digits per mode against real corrupted digits).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { analysisModels, loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { loadDigits } from '../src/node/mnist.js';
import {
  analysisNoiseOf,
  DEFAULT_ANALYSIS_NOISE,
  type AnalysisModels,
  type AnalysisNoise,
} from '../src/core/analysis/analysis-models.js';
import {
  classifyPopulation,
  populationSpecHash,
  samplePopulation,
  type PopulationSpec,
} from '../src/core/analysis/population.js';
import { analyze } from '../src/core/analysis/report.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import { measureNoiseCorrelation, type NoiseCorrelationReport } from '../src/core/evaluation/noise-correlation.js';
import type { Generator } from '../src/core/generator/generator.js';
import { resultKey } from '../src/protocol/result-keys.js';

/** The trained generator with its noise inputs given weight (its own noise strengths are ~1e-3). */
function withNoiseStrength(g: Generator, strength: number): Generator {
  for (const name of g.params.names())
    if (name.endsWith('noise_strength')) tf.tidy(() => g.params.get(name).assign(tf.tensor([strength])));
  return g;
}

let noisy: AnalysisModels;
const spec: PopulationSpec = { seed: 3, count: 24, classIndex: null };

beforeAll(async () => {
  await useBackend('wasm');
  const gen = loadGenerator();
  withNoiseStrength(gen.generator, 0.3);
  noisy = { ...analysisModels(gen, loadBuiltinClassifier('classifier-clean')), generatorId: 'trained-with-noise-0.3' };
});

describe('per-sample noise is carried with the sample', () => {
  it('a traversal from sample i with noiseStream i starts at the population verdict; another stream does not', async () => {
    const pop = await samplePopulation(noisy, { ...spec, batchSize: 7 });
    const S = pop.styleSize;
    let moved = 0;
    for (const i of [0, 5, 13, 23]) {
      const s0 = pop.styles.slice(i * S, (i + 1) * S);
      const path = { s0, classIndex: pop.labels[i], dim: 0, std: 1, direction: 1 as const };
      const [own] = await evaluateShifts(noisy, { ...path, noiseStream: i }, [0]);
      expect(own.pTrue, `sample ${i}`).toBeCloseTo(pop.pTrue[i], 5);
      const [other] = await evaluateShifts(noisy, path, [0]); // the class's reserved stream
      moved = Math.max(moved, Math.abs(other.pTrue - pop.pTrue[i]));
    }
    expect(moved).toBeGreaterThan(1e-4);
  });

  it('the comparison pass classifies the same images (sample streams), so the same classifier agrees with itself', async () => {
    const pop = await samplePopulation(noisy, spec);
    const again = await classifyPopulation(noisy, pop, 5);
    let worst = 0;
    for (let i = 0; i < pop.count; i++) worst = Math.max(worst, Math.abs(again.pTrue[i] - pop.pTrue[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(again.predicted).toEqual(pop.predicted);
  });

  it('noise mode and seed are part of the population spec hash and the edge result key', () => {
    const hash = (noise?: AnalysisNoise) => populationSpecHash({ ...noisy, noise }, spec);
    expect(hash()).toBe(hash(DEFAULT_ANALYSIS_NOISE));
    const hashes = new Set([
      hash(analysisNoiseOf('const')),
      hash(analysisNoiseOf('per-sample', 1)),
      hash(analysisNoiseOf('per-sample', 2)),
    ]);
    expect(hashes.size).toBe(3);
    const key = (noise?: AnalysisNoise) =>
      resultKey({ kind: 'ranking-sums', generatorId: 'g', classifierId: 'c', sweep: { seed: 1, count: 10 }, noise });
    expect(key()).toBe(key(DEFAULT_ANALYSIS_NOISE));
    expect(key(analysisNoiseOf('const'))).not.toBe(key(analysisNoiseOf('per-sample')));
    expect(() => populationSpecHash({ ...noisy, noise: { mode: 'per-sample', seed: -1 } }, spec)).toThrow(/noise seed/);
  });

  it('analyze refuses to compare classifiers on differently rendered images', async () => {
    await expect(analyze(noisy, { samples: 10 }, { ...noisy, noise: analysisNoiseOf('const') })).rejects.toThrow(
      /noise/,
    );
  });
});

describe('residual correlation of generated noise (docs/analysis/noise-modes.json)', () => {
  const count = 200;
  const real = () => loadDigits('test', 'corrupted');
  const byName = (r: NoiseCorrelationReport, prefix: string) => r.sets.find((s) => s.name.startsWith(prefix))!;

  it('when the noise inputs carry weight, per-sample noise is as independent as real noise and const noise is one pattern', async () => {
    const r = await measureNoiseCorrelation(noisy.generator, noisy.generatorId, real(), { seed: 1, count });
    const constant = byName(r, 'generated, const');
    const perSample = byName(r, 'generated, per-sample');
    const realSet = byName(r, 'real');
    expect(realSet.mean).toBeLessThan(0.05);
    expect(Math.abs(perSample.mean - realSet.mean)).toBeLessThan(0.03);
    expect(constant.mean).toBeGreaterThan(0.5);
    // The shared pattern is an aligned one: shifting by 1 px removes it.
    expect(constant.shifted.mean).toBeLessThan(0.05);
  });

  it('matches the recorded measurement of the committed generator (regenerate: faultlines noise-correlation)', async () => {
    const gen = loadGenerator();
    const recorded = JSON.parse(readFileSync('docs/analysis/noise-modes.json', 'utf8')) as NoiseCorrelationReport;
    expect(recorded.generatorId).toBe(gen.manifest.sha256);
    const r = await measureNoiseCorrelation(gen.generator, gen.manifest.sha256, real(), {
      seed: recorded.seed,
      count: recorded.count,
    });
    expect(r.sets.map((s) => s.name)).toEqual(recorded.sets.map((s) => s.name));
    r.sets.forEach((s, k) => {
      const want = recorded.sets[k];
      for (const key of ['mean', 'median', 'max'] as const)
        expect(Math.abs(s[key] - want[key]), `${s.name} ${key}`).toBeLessThan(2e-3);
      expect(Math.abs(s.shifted.mean - want.shifted.mean)).toBeLessThan(2e-3);
    });
    // What it says: this generator's noise inputs carry almost no weight, so both modes share one
    // synthesised texture (per-sample is never more correlated than const).
    expect(byName(r, 'generated, per-sample').mean).toBeLessThanOrEqual(byName(r, 'generated, const').mean + 0.01);
    gen.generator.dispose();
  });
});
