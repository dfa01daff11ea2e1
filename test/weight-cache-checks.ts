/**
 * The weight-terms cache's checks on one backend (src/core/nn/weight-terms.ts): images, p_true and
 * d p_true / d s are bit-identical with and without it, it removes the per-call filter flips, and
 * an assignment to a weight is seen by the next call (no stale terms). Run on wasm by
 * test/weight-cache.test.ts (unit tier) and on cpu by test/cpu-backend.test.ts (e2e tier).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import {
  DEFAULT_ANALYSIS_NOISE,
  pTrueGradient,
  sampleNoiseStreams,
  synthesizeImages,
  type AnalysisModels,
} from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { sweepBatch } from '../src/core/analysis/ranking.js';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../src/core/classifier/simple-cnn.js';

const spec = { seed: 11, count: 40, classIndex: null };

/** Assigns seeded values (scale 0.3) to every variable whose name ends with one of `suffixes`. */
function perturb(g: Generator, seed: number, suffixes: string[]): void {
  const rng = createRng(seed);
  for (const name of g.params.names()) {
    if (!suffixes.some((s) => name.endsWith(s))) continue;
    const v = g.params.get(name);
    tf.tidy(() =>
      v.assign(
        tf.tensor(
          normals(rng, v.size).map((x) => 0.3 * x),
          v.shape,
        ),
      ),
    );
  }
}

function models(): AnalysisModels {
  const g = new Generator(DEFAULT_GENERATOR, 3);
  perturb(g, 99, ['noise_strength', '/bias']);
  return {
    generator: g,
    classifier: new SimpleCnn('test-cnn', DEFAULT_CNN_CONFIG, 4),
    generatorId: 'perturbed-3',
    classifierId: 'cnn-4',
    noise: DEFAULT_ANALYSIS_NOISE,
  };
}

async function render(m: AnalysisModels, start: number, n: number): Promise<Float32Array> {
  const { s, w } = populationStyles(m, spec, start, n);
  const img = synthesizeImages(m, s, sampleNoiseStreams(start, n));
  const v = (await img.data()) as Float32Array;
  tf.dispose([s, w, img]);
  return v;
}

function dispose(m: AnalysisModels): void {
  m.generator.dispose();
  (m.classifier as SimpleCnn).dispose();
}

/** The cache's checks on one backend (the cpu backend's run in the e2e tier: minutes on two cores). */
export function weightCacheChecks(backend: 'cpu' | 'wasm'): void {
  describe(`weight-terms cache (${backend})`, () => {
    it('gives bit-identical images, p_true and d p_true / d s with and without the cache (batch 1 and 7)', async () => {
      await useBackend(backend);
      const m = models();
      expect(m.generator.weightCacheEnabled).toBe(true);
      for (const [start, n] of [
        [0, 7],
        [9, 1],
      ]) {
        const cached = { img: await render(m, start, n), sweep: await sweepBatch(m, spec, start, n) };
        m.generator.setWeightCache(false);
        const plain = { img: await render(m, start, n), sweep: await sweepBatch(m, spec, start, n) };
        m.generator.setWeightCache(true);
        expect(Array.from(cached.img)).toEqual(Array.from(plain.img));
        expect(Array.from(cached.sweep.evaluation.pTrue)).toEqual(Array.from(plain.sweep.evaluation.pTrue));
        expect(Array.from(cached.sweep.grads)).toEqual(Array.from(plain.sweep.grads));
        // Not a vacuous comparison: the gradient is non-zero.
        expect(cached.sweep.grads.some((x) => x !== 0)).toBe(true);
      }
      dispose(m);
    });

    it('flips no synthesis filter per call, and does not grow the tensor count', async () => {
      await useBackend(backend);
      const m = models();
      const reverses = async (): Promise<number> => {
        const { s, w, labels } = populationStyles(m, spec, 0, 2);
        const info = await tf.profile(() => {
          const { probs, grad } = pTrueGradient(m, s, labels, sampleNoiseStreams(0, 2));
          return [probs, grad];
        });
        tf.dispose([s, w, info.result as tf.Tensor[]]);
        return info.kernels.filter((k) => k.name === 'Reverse').length;
      };
      await sweepBatch(m, spec, 0, 2); // stale terms after `perturb` are swapped on first use
      const before = tf.memory().numTensors;
      const cachedFlips = await reverses();
      await sweepBatch(m, spec, 0, 3);
      expect(tf.memory().numTensors).toBe(before);
      m.generator.setWeightCache(false);
      const plainFlips = await reverses();
      m.generator.setWeightCache(true);
      // Every synthesis conv and toRGB flips its filter once per gradient without the cache.
      expect(plainFlips - cachedFlips).toBe(m.generator.layout.layers.length);
      dispose(m);
    });

    it('sees an assignment to a weight on the next call (the cache is never stale)', async () => {
      await useBackend(backend);
      const m = models();
      const old = await render(m, 0, 3);
      const oldSweep = await sweepBatch(m, spec, 0, 3);
      // Every synthesis weight (modulated convs and toRGBs) gets new values after the cache is warm.
      perturb(m.generator, 7, ['conv0/weight', 'conv1/weight', 'torgb/weight']);
      const cached = { img: await render(m, 0, 3), sweep: await sweepBatch(m, spec, 0, 3) };
      m.generator.setWeightCache(false);
      const plain = { img: await render(m, 0, 3), sweep: await sweepBatch(m, spec, 0, 3) };
      expect(Array.from(cached.img)).toEqual(Array.from(plain.img));
      expect(Array.from(cached.sweep.grads)).toEqual(Array.from(plain.sweep.grads));
      let changed = 0;
      for (let i = 0; i < old.length; i++) if (old[i] !== cached.img[i]) changed++;
      expect(changed).toBeGreaterThan(old.length / 2);
      expect(Array.from(cached.sweep.grads)).not.toEqual(Array.from(oldSweep.grads));
      dispose(m);
    });
  });
}
