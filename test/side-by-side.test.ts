/**
 * The side-by-side (src/core/analysis/side-by-side.ts) checked by independent computations: p_true
 * after the shift by rendering and classifying the moved styles with `evaluateStyles`, and the
 * score by central finite differences of the mean p_true along the dim.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateStyles, type AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { sampleNoiseStreams } from '../src/core/analysis/noise.js';
import { samplePopulation, type Population } from '../src/core/analysis/population.js';
import type { RankedDim } from '../src/core/analysis/ranking.js';
import { sideBySide } from '../src/core/analysis/side-by-side.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';

const N = 6;
let clean: AnalysisModels;
let corrupted: AnalysisModels;
let pop: Population;

/** Mean p_true of the population's first N samples with dim j moved by `shift`. */
async function meanPTrue(m: AnalysisModels, j: number, shift: number): Promise<number> {
  const S = pop.styleSize;
  const s = Float32Array.from(pop.styles.subarray(0, N * S));
  for (let k = 0; k < N; k++) s[k * S + j] += shift;
  const ev = await evaluateStyles(m, s, pop.labels.subarray(0, N), sampleNoiseStreams(0, N));
  return ev.pTrue.reduce((a, b) => a + b, 0) / N;
}

beforeAll(async () => {
  await useBackend('wasm');
  const generator = new Generator(DEFAULT_GENERATOR, 5);
  const a = loadBuiltinClassifier('classifier-clean');
  const b = loadBuiltinClassifier('classifier-corrupted');
  clean = { generator, classifier: a.classifier, generatorId: 'g', classifierId: a.manifest.sha256 };
  corrupted = { generator, classifier: b.classifier, generatorId: 'g', classifierId: b.manifest.sha256 };
  pop = await samplePopulation(clean, { seed: 3, count: N, classIndex: null });
}, 120_000);

describe('side by side', () => {
  it('agrees with re-rendering the moved styles and with finite differences of p_true', async () => {
    const dim = (index: number, std: number, direction: 'increase' | 'decrease', rank: number): RankedDim => ({
      rank,
      index,
      layer: 'l',
      channel: index,
      score: 0,
      meanGradient: 0,
      standardError: 0,
      direction,
      mean: 0,
      std,
    });
    const dims = [dim(7, 0.8, 'increase', 1), dim(300, 1.3, 'decrease', 2)];
    const r = await sideBySide([corrupted, clean], ['corrupted', 'clean'], pop, dims, {
      t: 2,
      samples: N,
      batchSize: 4,
    });
    expect(r.classifiers).toEqual(['corrupted', 'clean']);
    expect(r.samples).toBe(N);
    for (const [d, rd] of dims.entries()) {
      for (const [c, m] of [corrupted, clean].entries()) {
        const cell = r.dims[d].cells[c];
        const shift = 2 * rd.std * (rd.direction === 'increase' ? 1 : -1);
        expect(cell.pTrue).toBeCloseTo(await meanPTrue(m, rd.index, 0), 5);
        expect(cell.pTrueAfter).toBeCloseTo(await meanPTrue(m, rd.index, shift), 5);
        // Finite differences of the mean p_true: -d/ds_j * std.
        const h = 0.05;
        const fd = (-((await meanPTrue(m, rd.index, h)) - (await meanPTrue(m, rd.index, -h))) / (2 * h)) * rd.std;
        expect(Math.abs(cell.score! - fd)).toBeLessThan(0.05 * Math.abs(fd) + 1e-4);
      }
    }
  }, 300_000);
});
