/**
 * Traversal frames share their prefix (issue 19): the frames of one traversal have the same styles
 * in every layer before the traversed dim's and the same noise, so those layers run once (batch 1)
 * and are broadcast (SynthesisOptions.sharedStyleDims, which evaluatePath sets). Images, p_true
 * and the predictions must be bit-identical to the plain computation at the full batch, for dims
 * in the first, a middle and the last layer, in both noise modes, on wasm (the Node and edge backend; the same checks passed on cpu, 20 s, by hand).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { createRng, normals } from '../src/core/random.js';
import type { SynthesisOptions } from '../src/core/generator/generator.js';
import { synthesizeImages, type AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import { disposeModels, noiseModelsOn } from './generator-checks.js';

const SHIFTS = [-4, -3, -2, -1, 0, 1, 2, 3, 4];
const bitsDiffer = (a: Float32Array, b: Float32Array) => a.filter((x, i) => !Object.is(x, b[i])).length;

/** Dims in the first, a middle and the last synthesis layer (not on the layer's first channel). */
function dimsToTraverse(models: AnalysisModels): number[] {
  const layers = models.generator.layout.layers;
  return [0, Math.floor(layers.length / 2), layers.length - 1].map((i) => layers[i].offset + 1);
}

/** The frames' styles: s0 + shift * e_dim, one row per shift. */
function frames(S: number, dim: number): Float32Array {
  const s0 = normals(createRng(21), S).map((x) => 1 + 0.4 * x);
  const host = new Float32Array(SHIFTS.length * S);
  SHIFTS.forEach((shift, i) => {
    host.set(s0, i * S);
    host[i * S + dim] = s0[dim] + shift * 0.7;
  });
  return host;
}

for (const backend of ['wasm'] as const) {
  describe(`shared style prefix on ${backend}`, () => {
    let models: AnalysisModels;
    afterAll(() => disposeModels(models));

    it('renders the same bits with the shared layers run once', async () => {
      models = await noiseModelsOn(backend);
      const g = models.generator;
      const S = g.styleSize;
      const n = SHIFTS.length;
      for (const dim of dimsToTraverse(models)) {
        const s = tf.tensor2d(frames(S, dim), [n, S]);
        for (const noise of [
          { noiseMode: 'random', noiseSeed: 3, noiseStreams: new Uint32Array(n).fill(7) },
          { noiseMode: 'const' },
        ] as SynthesisOptions[]) {
          const label = `dim ${dim}, ${noise.noiseMode} noise`;
          const plain = g.synthesis(s, noise);
          let shared: tf.Tensor4D | undefined;
          const profile = await tf.profile(() => {
            shared = g.synthesis(s, { ...noise, sharedStyleDims: dim });
          });
          expect(shared!.shape, label).toEqual(plain.shape);
          const [a, b] = [(await plain.data()) as Float32Array, (await shared!.data()) as Float32Array];
          expect(bitsDiffer(a, b), label).toBe(0);
          // It ran once what lies before the dim's layer: one batch-1 conv per such layer.
          const before = g.layout.layers.filter((l) => l.offset + l.channels <= dim && l.kind !== 'paint');
          const batch1Convs = profile.kernels.filter((k) => k.name === 'Conv2D' && k.inputShapes[0]?.[0] === 1);
          expect(batch1Convs.length, label).toBe(before.length);
          tf.dispose([plain, shared!]);
        }
        s.dispose();
      }
    });

    it('evaluateShifts (traversals) gives what the full batch gives', async () => {
      const g = models.generator;
      const S = g.styleSize;
      for (const dim of dimsToTraverse(models)) {
        const s0 = frames(S, dim).subarray(0, S).slice();
        const stream = 5;
        const got = await evaluateShifts(
          models,
          { s0, classIndex: 3, dim, std: 0.7, direction: 1, noiseStream: stream },
          SHIFTS,
          true,
        );
        // The frames as evaluatePath builds them (its step is a Float32Array).
        const host = new Float32Array(SHIFTS.length * S);
        SHIFTS.forEach((shift, i) => {
          host.set(s0, i * S);
          host[i * S + dim] = s0[dim] + shift * Math.fround(0.7);
        });
        const [img, probs] = tf.tidy(() => {
          const x = synthesizeImages(models, tf.tensor2d(host, [SHIFTS.length, S]), new Uint32Array(9).fill(stream));
          return [x, tf.softmax(models.classifier.logits(x))];
        });
        const [px, p] = [(await img.data()) as Float32Array, (await probs.data()) as Float32Array];
        const k = probs.shape[1]!;
        tf.dispose([img, probs]);
        const size = px.length / SHIFTS.length;
        got.forEach((e, i) => {
          expect(bitsDiffer(e.image!, px.subarray(i * size, (i + 1) * size)), `dim ${dim} frame ${i}`).toBe(0);
          expect(Object.is(e.pTrue, p[i * k + 3]), `dim ${dim} frame ${i} p_true`).toBe(true);
        });
      }
    });
  });
}
