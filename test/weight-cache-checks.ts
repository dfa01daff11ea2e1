/**
 * The weight-terms caches of the generator (mapping, affines, synthesis) and of the classifier CNN
 * (src/core/nn/weight-terms.ts), per backend: s of z, images, p_true and d p_true / d s are
 * bit-identical with and without them, they remove the per-call filter flips and weight transposes,
 * an assignment to a weight is seen by the next call (no stale terms), and disposing a model frees
 * every cached term. Run on wasm by test/weight-cache.test.ts (unit tier) and on tfjs's slower cpu
 * backend by test/cpu-backend.test.ts (e2e tier).
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
import type { ParameterSet } from '../src/core/nn/params.js';

const spec = { seed: 11, count: 40, classIndex: null };

/** Assigns seeded values (scale 0.3) to every variable whose name ends with one of `suffixes`. */
function perturb(params: ParameterSet, seed: number, suffixes: string[]): number {
  const rng = createRng(seed);
  let assigned = 0;
  for (const name of params.names()) {
    if (!suffixes.some((s) => name.endsWith(s))) continue;
    assigned++;
    const v = params.get(name);
    tf.tidy(() =>
      v.assign(
        tf.tensor(
          normals(rng, v.size).map((x) => 0.3 * x),
          v.shape,
        ),
      ),
    );
  }
  return assigned;
}

function models(): AnalysisModels {
  const g = new Generator(DEFAULT_GENERATOR, 3);
  perturb(g.params, 99, ['noise_strength', '/bias']);
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

/** s of z (mapping network and affines) for `n` population samples from `start`. */
async function stylesOf(m: AnalysisModels, start: number, n: number): Promise<Float32Array> {
  const { s, w } = populationStyles(m, spec, start, n);
  const v = (await s.data()) as Float32Array;
  tf.dispose([s, w]);
  return v;
}

/** Both models' caches on or off. */
function setCaches(m: AnalysisModels, on: boolean): void {
  m.generator.setWeightCache(on);
  (m.classifier as SimpleCnn).setWeightCache(on);
}

/** Kernels of one d p_true / d s call at batch 2, by name. */
async function gradientKernels(m: AnalysisModels): Promise<Map<string, number>> {
  const { s, w, labels } = populationStyles(m, spec, 0, 2);
  const info = await tf.profile(() => {
    const { probs, grad } = pTrueGradient(m, s, labels, sampleNoiseStreams(0, 2));
    return [probs, grad];
  });
  tf.dispose([s, w, info.result as tf.Tensor[]]);
  const counts = new Map<string, number>();
  for (const k of info.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
  return counts;
}

function dispose(m: AnalysisModels): void {
  m.generator.dispose();
  (m.classifier as SimpleCnn).dispose();
}

export function weightCacheChecks(backend: 'cpu' | 'wasm'): void {
  describe(`weight-terms cache (${backend})`, () => {
    it('gives bit-identical images, p_true and d p_true / d s with and without the cache (batch 1 and 7)', async () => {
      await useBackend(backend);
      const m = models();
      expect(m.generator.weightCacheEnabled).toBe(true);
      expect((m.classifier as SimpleCnn).weightCacheEnabled).toBe(true);
      for (const [start, n] of [
        [0, 7],
        [9, 1],
      ]) {
        const run = async () => ({
          s: await stylesOf(m, start, n),
          img: await render(m, start, n),
          sweep: await sweepBatch(m, spec, start, n),
        });
        const cached = await run();
        setCaches(m, false);
        const plain = await run();
        setCaches(m, true);
        expect(Array.from(cached.s)).toEqual(Array.from(plain.s));
        expect(Array.from(cached.img)).toEqual(Array.from(plain.img));
        expect(Array.from(cached.sweep.evaluation.pTrue)).toEqual(Array.from(plain.sweep.evaluation.pTrue));
        expect(Array.from(cached.sweep.grads)).toEqual(Array.from(plain.sweep.grads));
        // Not a vacuous comparison: the gradient is non-zero.
        expect(cached.sweep.grads.some((x) => x !== 0)).toBe(true);
      }
      dispose(m);
    });

    it('flips and transposes no weight per gradient call, and does not grow the tensor count', async () => {
      await useBackend(backend);
      const m = models();
      await sweepBatch(m, spec, 0, 2); // stale terms after `perturb` are swapped on first use
      const before = tf.memory().numTensors;
      const cached = await gradientKernels(m);
      await sweepBatch(m, spec, 0, 3);
      expect(tf.memory().numTensors).toBe(before);
      setCaches(m, false);
      const plain = await gradientKernels(m);
      setCaches(m, true);
      const layers = m.generator.layout.layers;
      const filters = layers.length + DEFAULT_CNN_CONFIG.channels.length;
      const modulatedConvs = layers.filter((l) => l.kind === 'conv').length;
      // Without the caches every synthesis conv and toRGB and every classifier conv flips its filter
      // per gradient (a Reverse and a Transpose each); the modulated convs' demodulation sums and the
      // classifier's two dense kernels are transposed for the matMul gradient.
      expect(plain.get('Reverse')).toBe(filters);
      expect(plain.get('Transpose')).toBe(filters + modulatedConvs + 2);
      expect(cached.get('Reverse') ?? 0).toBe(0);
      expect(cached.get('Transpose') ?? 0).toBe(0);
      dispose(m);
    });

    it('sees an assignment to a weight on the next call (the cache is never stale)', async () => {
      await useBackend(backend);
      const m = models();
      const old = await render(m, 0, 3);
      const oldSweep = await sweepBatch(m, spec, 0, 3);
      // Every synthesis weight (modulated convs and toRGBs) gets new values after the cache is warm.
      perturb(m.generator.params, 7, ['conv0/weight', 'conv1/weight', 'torgb/weight']);
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

    it('sees an assignment to a mapping, affine or classifier weight on the next call', async () => {
      await useBackend(backend);
      const m = models();
      const cnn = m.classifier as SimpleCnn;
      const old = { s: await stylesOf(m, 0, 3), sweep: await sweepBatch(m, spec, 0, 3) };
      // After the caches are warm: the class embedding, a mapping layer's weight and its bias (scaled
      // by the mapping's lrMul), every affine, and every classifier kernel (flipped or transposed
      // for the image gradient) get new values.
      const assigned = perturb(m.generator.params, 5, ['embed/weight', 'fc1/weight', 'fc1/bias', 'affine/weight']);
      expect(assigned).toBe(3 + m.generator.layout.layers.length);
      expect(perturb(cnn.params, 6, ['/kernel'])).toBe(DEFAULT_CNN_CONFIG.channels.length + 2);
      const run = async () => ({ s: await stylesOf(m, 0, 3), sweep: await sweepBatch(m, spec, 0, 3) });
      const cached = await run();
      // The new values' terms replaced the old ones: the gradient still flips and transposes nothing.
      const kernels = await gradientKernels(m);
      expect(kernels.get('Reverse') ?? 0).toBe(0);
      expect(kernels.get('Transpose') ?? 0).toBe(0);
      setCaches(m, false);
      const plain = await run();
      expect(Array.from(cached.s)).toEqual(Array.from(plain.s));
      expect(Array.from(cached.sweep.evaluation.pTrue)).toEqual(Array.from(plain.sweep.evaluation.pTrue));
      expect(Array.from(cached.sweep.grads)).toEqual(Array.from(plain.sweep.grads));
      expect(Array.from(cached.s)).not.toEqual(Array.from(old.s));
      expect(Array.from(cached.sweep.grads)).not.toEqual(Array.from(old.sweep.grads));
      dispose(m);
    });

    it('frees every cached term and initial value when the models are disposed', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const m = models();
      const params = m.generator.params.names().length + (m.classifier as SimpleCnn).params.names().length;
      await sweepBatch(m, spec, 0, 2);
      // The caches hold tensors beyond the variables themselves...
      expect(tf.memory().numTensors).toBeGreaterThan(before + params);
      dispose(m);
      // ...and none of them outlives the models.
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
