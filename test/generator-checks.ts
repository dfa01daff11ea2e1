/**
 * The generator's checks that run on either tfjs backend, and the helpers they render with: the
 * unit tier runs them on wasm (test/generator.test.ts), the e2e tier on tfjs's pure-JS cpu backend
 * (test/cpu-backend.test.ts: ~10x slower), where the cpu-against-wasm comparisons also are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend, type NodeBackend } from '../src/node/backend.js';
import { readWeightsDir, writeWeightsDir } from '../src/node/weights-fs.js';
import { createRng, latentBatch, normals } from '../src/core/random.js';
import {
  DEFAULT_GENERATOR,
  Discriminator,
  Generator,
  r1Penalty,
  styleDimName,
  styleIndex,
} from '../src/core/generator/index.js';
import { lrelu, lreluFused } from '../src/core/generator/layers.js';
import { WeightsError } from '../src/core/weights/codec.js';
import {
  DEFAULT_ANALYSIS_NOISE,
  sampleNoiseStreams,
  synthesizeImages,
  type AnalysisModels,
  type AnalysisNoise,
} from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { centralDifferences } from './finite-differences.js';

const N = 3;
const Z_SEED = 11;
export const CLASSES = [0, 7, 3];

export function zBatch(n = N, seed = Z_SEED): tf.Tensor2D {
  return tf.tensor2d(latentBatch(seed, 0, n, DEFAULT_GENERATOR.zDim), [n, DEFAULT_GENERATOR.zDim]);
}

export async function host(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A generator whose weights are trained-ish: styles and noise strengths away from their init. */
export function perturbedGenerator(seed = 3): Generator {
  const g = new Generator(DEFAULT_GENERATOR, seed);
  const rng = createRng(99);
  for (const name of g.params.names()) {
    if (name.endsWith('noise_strength') || name.endsWith('/bias')) {
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
  return g;
}

/** The population of the per-sample noise checks. */
export const NOISE_SPEC = { seed: 11, count: 40, classIndex: null };
/** Images of samples [start, start + n) of NOISE_SPEC as the analyses render them. */
export const renderSamples = async (models: AnalysisModels, start: number, n: number) => {
  const { s, w } = populationStyles(models, NOISE_SPEC, start, n);
  const img = await host(synthesizeImages(models, s, sampleNoiseStreams(start, n)));
  tf.dispose([s, w]);
  return img;
};
/** A perturbed generator and a seeded CNN on `backend`, rendering with `noise`. */
export const noiseModelsOn = async (
  backend: 'cpu' | 'wasm',
  noise: AnalysisNoise = DEFAULT_ANALYSIS_NOISE,
): Promise<AnalysisModels> => {
  await useBackend(backend);
  return {
    generator: perturbedGenerator(),
    classifier: new SimpleCnn('test-cnn', DEFAULT_CNN_CONFIG, 4),
    generatorId: 'perturbed-3',
    classifierId: 'cnn-4',
    noise,
  };
};
export const disposeModels = (m: AnalysisModels) => {
  m.generator.dispose();
  (m.classifier as SimpleCnn).dispose();
};

/**
 * The generator's own checks on `backend`: each stage's shapes and range, generate = synthesis(styles
 * (mapping)), the noise modes and streams, the s-gradient against finite differences, the weights
 * format's round trip, R1's second-order gradient.
 */
export function generatorChecks(backend: NodeBackend): void {
  describe(`generator on ${backend}`, () => {
    let g: Generator;
    beforeAll(async () => {
      await useBackend(backend);
      g = perturbedGenerator();
    });
    afterAll(() => g.dispose());

    it('runs each stage alone with the documented shapes and range', async () => {
      const z = zBatch();
      const w = g.mapping(z, CLASSES);
      expect(w.shape).toEqual([N, 128]);
      const s = g.styles(w);
      expect(s.shape).toEqual([N, g.styleSize]);
      const img = g.synthesis(s);
      expect(img.shape).toEqual([N, 32, 32, 1]);
      const v = await host(img);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThanOrEqual(1);
      tf.dispose([z, w, s]);
    });

    it('generate equals synthesis(styles(mapping))', async () => {
      const z = zBatch();
      const a = await host(tf.tidy(() => g.synthesis(g.styles(g.mapping(z, CLASSES)))));
      const b = await host(g.generate(z, CLASSES));
      expect(maxAbsDiff(a, b)).toBe(0);
      // One-hot class tensors are accepted too.
      const c = await host(
        tf.tidy(() => g.generate(z, tf.cast(tf.oneHot(tf.tensor1d(CLASSES, 'int32'), 10), 'float32') as tf.Tensor2D)),
      );
      expect(maxAbsDiff(a, c)).toBe(0);
      z.dispose();
    });

    it('noise modes: const deterministic, none different, random seeded and batch-independent', async () => {
      const s = tf.tidy(() => g.styles(g.mapping(zBatch(), CLASSES)));
      const c1 = await host(g.synthesisRaw(s, { noiseMode: 'const' }));
      const c2 = await host(g.synthesisRaw(s));
      expect(maxAbsDiff(c1, c2)).toBe(0);
      const none = await host(g.synthesisRaw(s, { noiseMode: 'none' }));
      expect(maxAbsDiff(c1, none)).toBeGreaterThan(1e-3);
      const r1 = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 5 }));
      const r2 = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 5 }));
      const r3 = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 6 }));
      expect(maxAbsDiff(r1, r2)).toBe(0);
      expect(maxAbsDiff(r1, r3)).toBeGreaterThan(1e-3);
      // Sample 0 alone gets the same noise as in the batch.
      const alone = await host(
        tf.tidy(() =>
          g.synthesisRaw(tf.slice(s, [0, 0], [1, -1]) as tf.Tensor2D, { noiseMode: 'random', noiseSeed: 5 }),
        ),
      );
      expect(maxAbsDiff(alone, r1.subarray(0, 1024))).toBeLessThan(1e-5);
      const q1 = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseRng: createRng(1) }));
      const q2 = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseRng: createRng(1) }));
      expect(maxAbsDiff(q1, q2)).toBe(0);
      expect(() => g.synthesisRaw(s, { noiseMode: 'random' })).toThrow();
      s.dispose();
    });

    it('noiseStreams: row i draws stream (noiseSeed, noiseStreams[i]); rows sharing a stream share the noise', async () => {
      const s = tf.tidy(() => g.styles(g.mapping(zBatch(), CLASSES)));
      const byRow = await host(g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 5 }));
      // Explicit streams [0, 1, 2] are the default (the row index).
      expect(
        maxAbsDiff(
          await host(g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 5, noiseStreams: [0, 1, 2] })),
          byRow,
        ),
      ).toBe(0);
      // Row 0's style three times: streams [7, 7, 8] give two identical images and a third that differs.
      const s0 = tf.tidy(() => tf.tile(tf.slice(s, [0, 0], [1, -1]), [3, 1]) as tf.Tensor2D);
      const shared = await host(g.synthesisRaw(s0, { noiseMode: 'random', noiseSeed: 5, noiseStreams: [7, 7, 8] }));
      expect(maxAbsDiff(shared.subarray(0, 1024), shared.subarray(1024, 2048))).toBe(0);
      expect(maxAbsDiff(shared.subarray(0, 1024), shared.subarray(2048))).toBeGreaterThan(1e-3);
      // Stream 7 alone (a batch of one) gives the same image as in the batch.
      const alone = await host(
        tf.tidy(() =>
          g.synthesisRaw(tf.slice(s, [0, 0], [1, -1]) as tf.Tensor2D, {
            noiseMode: 'random',
            noiseSeed: 5,
            noiseStreams: [7],
          }),
        ),
      );
      expect(maxAbsDiff(alone, shared.subarray(0, 1024))).toBeLessThan(1e-5);
      expect(maxAbsDiff(alone, byRow.subarray(0, 1024))).toBeGreaterThan(1e-3);
      expect(() => g.synthesisRaw(s, { noiseMode: 'random', noiseSeed: 5, noiseStreams: [0, 1] })).toThrow(
        /noiseStreams/,
      );
      expect(() => g.synthesisRaw(s, { noiseMode: 'random', noiseRng: createRng(1), noiseStreams: [0, 1, 2] })).toThrow(
        /noiseStreams/,
      );
      tf.dispose([s, s0]);
    });

    it('gradient w.r.t. s matches central finite differences', async () => {
      // float32 forward passes: eps 1e-3 balances truncation against rounding; errors are measured
      // against the norm of the tested gradient entries (single small entries drown in rounding).
      const s0 = tf.tidy(() => g.styles(g.mapping(zBatch(1), [4])));
      const proj = tf.tensor4d(normals(createRng(7), 1024), [1, 32, 32, 1]);
      const f = (s: tf.Tensor) => tf.sum(tf.mul(g.synthesisRaw(s as tf.Tensor2D, { noiseMode: 'const' }), proj));
      const grad = await host(tf.grad(f)(s0));
      const sv = await s0.data();
      const layout = g.layout;
      const dims = [
        'b4.conv1',
        'b4.torgb',
        'b8.conv0',
        'b16.conv1',
        'b16.torgb',
        'b32.conv0',
        'b32.conv1',
        'b32.torgb',
      ].map((layer) => styleIndex(layout, { layer, channel: 2 }));
      const fds = centralDifferences(f, sv, dims);
      const gs = dims.map((d) => grad[d]);
      const norm = Math.hypot(...gs);
      expect(norm).toBeGreaterThan(0);
      const err = Math.hypot(...fds.map((fd, i) => fd - gs[i]));
      expect(err / norm, `fd ${fds} vs grad ${gs}`).toBeLessThan(1e-2);
      dims.forEach((d, i) => expect(Math.abs(fds[i] - gs[i]) / norm, styleDimName(layout, d)).toBeLessThan(1e-2));
      tf.dispose([s0, proj]);
    });

    it('round-trips through the weights format (save -> load -> identical output)', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-gen-'));
      try {
        writeWeightsDir(dir, g.weightsInfo('generator'), await g.toHost());
        const loaded = readWeightsDir(dir);
        expect(loaded.manifest.kind).toBe('generator');
        expect(loaded.manifest.architecture.styleSize).toBe(512);
        const g2 = Generator.fromWeights(loaded.manifest, loaded.tensors, dir);
        const z = zBatch();
        const a = await host(g.generate(z, CLASSES));
        const b = await host(g2.generate(z, CLASSES));
        expect(maxAbsDiff(a, b)).toBe(0);
        // A generator with other initial weights differs until it loads the file.
        const g3 = new Generator(DEFAULT_GENERATOR, 12345);
        expect(maxAbsDiff(a, await host(g3.generate(z, CLASSES)))).toBeGreaterThan(1e-3);
        g3.load(loaded.tensors, dir);
        expect(maxAbsDiff(a, await host(g3.generate(z, CLASSES)))).toBe(0);
        // Wrong architecture: rejected with the file named.
        const small = new Generator({ ...DEFAULT_GENERATOR, channels: [32, 32, 16, 8] });
        expect(() => small.load(loaded.tensors, dir)).toThrow(WeightsError);
        tf.dispose([z]);
        g2.dispose();
        g3.dispose();
        small.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('R1 second-order gradient matches finite differences on a D weight', async () => {
      const d = new Discriminator();
      const reals = tf.tensor4d(
        normals(createRng(8), 4 * 1024).map((x) => 0.5 * x),
        [4, 32, 32, 1],
      );
      const labels = [1, 2, 3, 4];
      const names = ['D/b8/conv1/weight', 'D/b4/out/weight'];
      const vars = names.map((n) => d.params.get(n));
      const { grads } = tf.variableGrads(() => r1Penalty(d, reals, labels), vars);
      // Weights whose penalty is smooth around the point (weights near the input move leaky-ReLU kinks).
      for (const [k, v] of vars.entries()) {
        const gv = await grads[v.name].data();
        const base = (await v.data()).slice();
        for (const idx of [1, 5]) {
          const at = (delta: number) => {
            const vals = Float32Array.from(base);
            vals[idx] += delta;
            tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
            return tf.tidy(() => r1Penalty(d, reals, labels).dataSync()[0]);
          };
          const eps = 3e-2;
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
          const rel = Math.abs(fd - gv[idx]) / Math.max(Math.abs(fd), Math.abs(gv[idx]));
          expect(Math.abs(gv[idx]), names[k]).toBeGreaterThan(0);
          expect(rel, `${names[k]}[${idx}]: fd ${fd} vs grad ${gv[idx]}`).toBeLessThan(1e-2);
        }
      }
      tf.dispose(Object.values(grads));
      reals.dispose();
      d.dispose();
    });
  });
}

/** lreluFused against tfjs's lrelu on `backend`: bit for bit in value and gradient, first and second order. */
export function lreluFusedCheck(backend: NodeBackend): void {
  it(`lreluFused equals lrelu bit for bit in value and gradient, first and second order, on ${backend}`, async () => {
    await useBackend(backend);
    const before = tf.memory();
    const values = Float32Array.from([...normals(createRng(5), 4093), 0, -0, 1e-30, -1e-30, 3.4e38, -3.4e38, 1e-45]);
    const x = tf.tensor1d(values);
    const dy = tf.tensor1d(normals(createRng(6), values.length));
    for (const [name, f] of [
      ['value', (t: tf.Tensor) => t],
      ['gradient', (t: tf.Tensor) => tf.mul(t, dy)],
    ] as const) {
      const stock = tf.grad((t: tf.Tensor) => tf.sum(f(lrelu(t))));
      const fused = tf.grad((t: tf.Tensor) => tf.sum(f(lreluFused(t))));
      const a = await host(stock(x));
      const b = await host(fused(x));
      expect(b.filter((v, i) => !Object.is(v, a[i])).length, `${backend} ${name}`).toBe(0);
    }
    const y = [await host(tf.tidy(() => lrelu(x))), await host(tf.tidy(() => lreluFused(x)))];
    expect(y[1].filter((v, i) => !Object.is(v, y[0][i])).length, `${backend} forward`).toBe(0);
    // Second order: d/dx of sum(dy * d lrelu/dx) is zero almost everywhere for both.
    const second = (g: (t: tf.Tensor) => tf.Tensor) =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(g(u), dy)))(t), dy)));
    const s = [await host(second(lrelu)(x)), await host(second(lreluFused)(x))];
    expect(maxAbsDiff(s[0], s[1])).toBe(0);
    tf.dispose([x, dy]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });
}
