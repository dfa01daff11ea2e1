/**
 * The synthesis layers' fused epilogue on wasm (src/core/generator/synthesis-epilogue.ts): the
 * generator runs it (one kernel each way per conv layer instead of the stock chain), and images,
 * d(images)/d s and the weights' gradients in training are bit-identical to the stock ops'.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import type { Generator } from '../src/core/generator/index.js';
import { perturbedGenerator } from './generator-checks.js';
import {
  SYNTHESIS_EPILOGUE,
  SYNTHESIS_EPILOGUE_GRAD,
  synthesisEpilogue,
} from '../src/core/generator/synthesis-epilogue.js';
import type { SynthesisOptions } from '../src/core/generator/generator.js';

/** Seeded generator whose biases and noise strengths are non-zero (they are zero at init). */
const generator = (): Generator => perturbedGenerator(5);

const bitsDiffer = (a: Float32Array, b: Float32Array) => a.filter((x, i) => !Object.is(x, b[i])).length;

/** Image, d sum(image * u) / d s, and the kernels that ran, with the epilogue fused or not. */
async function imagesAndStyleGradient(g: Generator, fused: boolean, opts: SynthesisOptions) {
  g.setFusedEpilogue(fused);
  const n = 3;
  const s = tf.tensor2d(
    normals(createRng(4), n * g.styleSize).map((x) => 1 + 0.5 * x),
    [n, g.styleSize],
  );
  const u = tf.tensor4d(normals(createRng(6), n * 32 * 32), [n, 32, 32, 1]);
  let image: Float32Array = new Float32Array();
  let grad: Float32Array = new Float32Array();
  const profile = await tf.profile(async () => {
    const x = g.synthesis(s, opts);
    image = (await x.data()) as Float32Array;
    const dS = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g.synthesis(t as tf.Tensor2D, opts), u)))(s);
    grad = (await dS.data()) as Float32Array;
    tf.dispose([x, dS]);
  });
  tf.dispose([s, u]);
  return { image, grad, kernels: new Set(profile.kernels.map((k) => k.name)), calls: profile.kernels.length };
}

describe('fused synthesis epilogue (wasm)', () => {
  it('runs in the generator and gives bit-identical images and style gradients', async () => {
    await useBackend('wasm');
    expect(tf.getKernel(SYNTHESIS_EPILOGUE, 'wasm')).toBeDefined();
    const g = generator();
    for (const opts of [
      { noiseMode: 'random', noiseSeed: 3, noiseStreams: [7, 8, 9] },
      { noiseMode: 'const' }, // noise [1, R, R, 1], broadcast over the batch
    ] as SynthesisOptions[]) {
      const fused = await imagesAndStyleGradient(g, true, opts);
      const stock = await imagesAndStyleGradient(g, false, opts);
      expect(fused.kernels.has(SYNTHESIS_EPILOGUE), opts.noiseMode).toBe(true);
      expect(fused.kernels.has(SYNTHESIS_EPILOGUE_GRAD), opts.noiseMode).toBe(true);
      expect(stock.kernels.has(SYNTHESIS_EPILOGUE), opts.noiseMode).toBe(false);
      expect(fused.calls, 'kernels run').toBeLessThan(stock.calls - 7 * 4);
      expect(bitsDiffer(fused.image, stock.image), `${opts.noiseMode} images`).toBe(0);
      expect(bitsDiffer(fused.grad, stock.grad), `${opts.noiseMode} d/ds`).toBe(0);
      expect(Math.max(...fused.grad.map(Math.abs))).toBeGreaterThan(0);
    }
    g.dispose();
  });

  it('gives bit-identical weight gradients in training (conv weight, bias, noise strength, affine)', async () => {
    await useBackend('wasm');
    const g = generator();
    g.setWeightCache(false);
    const names = [
      'synthesis/b8.conv0/weight',
      'synthesis/b16.conv1/bias',
      'synthesis/b32.conv0/noise_strength',
      'synthesis/b32.conv1/affine/weight',
    ];
    const weights = names.map((n) => g.params.get(n));
    const z = tf.tensor2d(normals(createRng(1), 2 * g.arch.zDim), [2, g.arch.zDim]);
    const grads = async (fused: boolean) => {
      g.setFusedEpilogue(fused);
      const loss = () =>
        tf.sum(tf.square(g.synthesisRaw(g.styles(g.mapping(z, [1, 2])), { noiseMode: 'random', noiseSeed: 2 })));
      const { grads: gs, value } = tf.variableGrads(loss as () => tf.Scalar, weights);
      const out = await Promise.all(weights.map(async (v) => (await gs[v.name].data()) as Float32Array));
      tf.dispose([value, ...Object.values(gs)]);
      return out;
    };
    const fused = await grads(true);
    const stock = await grads(false);
    names.forEach((name, i) => {
      expect(bitsDiffer(fused[i], stock[i]), name).toBe(0);
      expect(Math.max(...fused[i].map(Math.abs)), name).toBeGreaterThan(0);
    });
    z.dispose();
    g.dispose();
  });

  it('agrees with the stock ops at signs, zeros and a NaN, per input', async () => {
    await useBackend('wasm');
    const [n, h, w, c] = [2, 4, 4, 8];
    const vals = normals(createRng(9), n * h * w * c);
    vals[0] = 0;
    vals[1] = -0;
    vals[2] = Number.NaN;
    const y = tf.tensor4d(vals, [n, h, w, c]);
    const d = tf.tensor2d(normals(createRng(10), n * c), [n, c]);
    const noise = tf.tensor4d(normals(createRng(11), n * h * w), [n, h, w, 1]);
    const bias = tf.zeros([c]);
    const u = tf.tensor4d(normals(createRng(12), n * h * w * c), [n, h, w, c]);
    const run = (fused: boolean) => {
      const f = (a: tf.Tensor, b: tf.Tensor, e: tf.Tensor, k: tf.Tensor) =>
        tf.sum(tf.mul(synthesisEpilogue(a as tf.Tensor4D, b as tf.Tensor2D, e as tf.Tensor4D, k, fused), u));
      return [synthesisEpilogue(y, d, noise, bias, fused), ...tf.grads(f)([y, d, noise, bias])].map(
        (t) => t.dataSync() as Float32Array,
      );
    };
    const fused = run(true);
    const stock = run(false);
    fused.forEach((a, i) => expect(bitsDiffer(a, stock[i]), `output ${i}`).toBe(0));
    tf.dispose([y, d, noise, bias, u]);
  });
});
