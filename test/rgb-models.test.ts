/**
 * RGB through the stack (coloured MNIST, issue 15): the simple CNN with `inputChannels: 3`, the
 * generator and discriminator with `imageChannels: 3` (shapes, the style space, a finite-difference
 * check of d image / d s, cpu vs wasm), the GAN and classifier trainers on RGB data (the classifier
 * trainer resumed from its state continues exactly), and the grey models exactly as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, latentBatch, normals } from '../src/core/random.js';
import { DEFAULT_DISCRIMINATOR, DEFAULT_GENERATOR, Discriminator, Generator } from '../src/core/generator/index.js';
import { DEFAULT_CNN_CONFIG, parseCnnConfig, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { evaluateClassifier } from '../src/core/classifier/classifier.js';
import type { DigitSet } from '../src/core/data/digits.js';
import { DEFAULT_HYPER, GanTrainer } from '../src/node/training/gan-trainer.js';
import { ClassifierTrainer } from '../src/node/training/classifier-trainer.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { gridPng, imageDataUrl } from '../src/core/image/png.js';
import { startJson } from '../src/core/analysis/corner-case-json.js';
import type { ShiftEvaluation } from '../src/core/analysis/traversal.js';
import { decode } from 'fast-png';
import { centralDifferences } from './finite-differences.js';

const RGB_GENERATOR = { ...DEFAULT_GENERATOR, imageChannels: 3 };
const RGB_CNN = { ...DEFAULT_CNN_CONFIG, inputChannels: 3 };

async function host(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** `count` random RGB images (or grey with channels 1) and labels i mod 10. */
function randomSet(count: number, channels: number, seed = 5): DigitSet {
  return {
    count,
    channels,
    images: Float32Array.from(normals(createRng(seed), count * 1024 * channels), (x) => 1 / (1 + Math.exp(-x))),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    blur: new Uint8Array(count),
    noise: new Uint8Array(count),
  };
}

describe('RGB simple CNN', () => {
  beforeAll(() => useBackend('cpu'));

  it('takes [N, 32, 32, 3], reads every channel, and keeps the grey architecture as it was', async () => {
    const rgb = new SimpleCnn('rgb', RGB_CNN, 1);
    expect(rgb.params.get('conv1/kernel').shape).toEqual([3, 3, 3, 16]);
    const x = randomSet(4, 3).images;
    const logits = rgb.logits(tf.tensor4d(x, [4, 32, 32, 3]));
    expect(logits.shape).toEqual([4, 10]);
    const a = await host(logits);
    // Only the blue channel changes: the logits change.
    const blue = Float32Array.from(x, (v, i) => (i % 3 === 2 ? 1 - v : v));
    const b = await host(rgb.logits(tf.tensor4d(blue, [4, 32, 32, 3])));
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    // evaluateClassifier batches RGB images channels last.
    const r = await evaluateClassifier(rgb, x, [0, 1, 2, 3], 3, undefined, 3);
    expect(r.count).toBe(4);
    await expect(evaluateClassifier(rgb, x, [0, 1, 2, 3], 3, undefined, 2)).rejects.toThrow(
      /not 4 square images of 2 channels/,
    );
    // The architecture record round-trips; a record without inputChannels (every grey manifest) is grey.
    expect(parseCnnConfig({ type: 'simple-cnn', ...RGB_CNN }, 'm').inputChannels).toBe(3);
    expect(parseCnnConfig({ type: 'simple-cnn', ...DEFAULT_CNN_CONFIG }, 'm')).toEqual(DEFAULT_CNN_CONFIG);
    expect(() => parseCnnConfig({ type: 'simple-cnn', ...DEFAULT_CNN_CONFIG, inputChannels: 0 }, 'm')).toThrow(
      /m: architecture is not a valid simple-cnn/,
    );
    const grey = new SimpleCnn('grey', DEFAULT_CNN_CONFIG, 1);
    expect(grey.params.get('conv1/kernel').shape).toEqual([3, 3, 1, 16]);
    expect(grey.params.size()).toBe(155_786);
    expect(rgb.params.size()).toBe(155_786 + 9 * 16 * 2);
    rgb.dispose();
    grey.dispose();
  });

  it('loads the committed grey MNIST classifier as before: one input channel, the same architecture record', async () => {
    await useBackend('wasm');
    const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
    expect(classifier.config.inputChannels).toBeUndefined();
    expect(classifier.params.get('conv1/kernel').shape).toEqual([3, 3, 1, 16]);
    expect(manifest.architecture.input).toBe('[N,32,32,1] float32 in [0,1]');
    classifier.dispose();
    await useBackend('cpu');
  });
});

describe('RGB generator and discriminator', () => {
  let g: Generator;
  beforeAll(async () => {
    await useBackend('cpu');
    g = new Generator(RGB_GENERATOR, 3);
  });
  afterAll(() => g.dispose());

  it('makes [N, 32, 32, 3] images in [0, 1] from the same style space as the grey generator', async () => {
    const grey = new Generator(DEFAULT_GENERATOR, 3);
    expect(g.styleSize).toBe(grey.styleSize); // toRGB is modulated by its input features, not its output
    expect(g.params.get('synthesis/b32.torgb/weight').shape).toEqual([1, 1, 16, 3]);
    expect(g.params.get('synthesis/b32.torgb/bias').shape).toEqual([3]);
    const z = tf.tensor2d(latentBatch(11, 0, 3, 64), [3, 64]);
    const img = g.generate(z, [0, 7, 3]);
    expect(img.shape).toEqual([3, 32, 32, 3]);
    const v = await host(img);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    // The three channels differ (not one grey channel broadcast).
    expect(
      maxAbsDiff(
        v.filter((_, i) => i % 3 === 0),
        v.filter((_, i) => i % 3 === 1),
      ),
    ).toBeGreaterThan(1e-3);
    const d = new Discriminator({ ...DEFAULT_DISCRIMINATOR, imageChannels: 3 }, 2);
    const logits = d.apply(tf.tensor4d(randomSet(4, 3).images, [4, 32, 32, 3]), [0, 1, 2, 3]);
    expect(logits.shape).toEqual([4]);
    tf.dispose([z, logits]);
    d.dispose();
    grey.dispose();
  });

  it('gradient of an RGB image w.r.t. s matches central finite differences', async () => {
    const s0 = tf.tidy(() => g.styles(g.mapping(tf.tensor2d(latentBatch(11, 0, 1, 64), [1, 64]), [4])));
    const proj = tf.tensor4d(normals(createRng(7), 1024 * 3), [1, 32, 32, 3]);
    const f = (s: tf.Tensor) => tf.sum(tf.mul(g.synthesisRaw(s as tf.Tensor2D, { noiseMode: 'const' }), proj));
    const grad = await host(tf.grad(f)(s0));
    const sv = await s0.data();
    // Dims of the 4x4 and 32x32 convs and of every toRGB layer.
    const dims = g.layout.layers
      .filter((l) => l.kind === 'torgb' || l.resolution === 4 || l.resolution === 32)
      .map((l) => l.offset + 2);
    const fds = centralDifferences(f, sv, dims);
    const gs = dims.map((d) => grad[d]);
    const norm = Math.hypot(...gs);
    expect(norm).toBeGreaterThan(0);
    expect(Math.hypot(...fds.map((fd, i) => fd - gs[i])) / norm, `fd ${fds} vs grad ${gs}`).toBeLessThan(1e-2);
    tf.dispose([s0, proj]);
  });

  it('gives the same RGB images on cpu and wasm', async () => {
    const z = latentBatch(11, 0, 2, 64);
    const run = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      const gen = new Generator(RGB_GENERATOR, 3);
      const v = await host(gen.generate(tf.tensor2d(z, [2, 64]), [1, 8]));
      gen.dispose();
      return v;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(maxAbsDiff(cpu, wasm)).toBeLessThan(1e-4);
    await useBackend('cpu');
  });

  it('draws RGB sample grids as RGB PNGs', () => {
    const red = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const png = decode(gridPng([red, red], { size: 4, columns: 2, channels: 3 }));
    expect(png.channels).toBe(3);
    expect(Array.from(png.data.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(() => gridPng([red], { size: 4, columns: 1 })).toThrow(/tile 0 has 48 values, expected 16/);
  });

  it('carries one image as a PNG data URL of its own channels (report.json, the API, corner cases)', () => {
    const pngOf = (url: string) => decode(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
    const red = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const rgb = pngOf(imageDataUrl(red, 4));
    expect([rgb.width, rgb.height, rgb.channels]).toEqual([4, 4, 3]);
    expect(Array.from(rgb.data.subarray(0, 6))).toEqual([255, 0, 0, 255, 0, 0]);
    const grey = pngOf(imageDataUrl(new Float32Array(16).fill(0.5), 4));
    expect([grey.width, grey.channels, grey.data[0]]).toEqual([4, 1, 128]);
    expect(() => imageDataUrl(new Float32Array(20), 4)).toThrow(/side 4 has 16 or 48 values, got 20/);
  });

  it("draws an RGB generator's corner cases, start included, in colour", async () => {
    const g = new Generator(RGB_GENERATOR, 6);
    const img = await host(
      g.generate(tf.tensor2d(latentBatch(4, 0, 1, RGB_GENERATOR.zDim), [1, RGB_GENERATOR.zDim]), [2], {
        noiseMode: 'const',
      }),
    );
    const start = startJson({ shift: 0, pTrue: 0.9, predicted: 2, image: img } as ShiftEvaluation);
    const png = decode(Buffer.from(start.image.slice(start.image.indexOf(',') + 1), 'base64'));
    expect([png.width, png.channels]).toEqual([32, 3]);
    // The pixels are the image's, channel by channel.
    expect(png.data[1]).toBe(Math.round(Math.min(1, Math.max(0, img[1])) * 255));
    g.dispose();
  });
});

describe('trainers on RGB data (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  it('runs GAN steps on RGB data and refuses data whose channels the networks do not take', () => {
    const data = randomSet(32, 3);
    const hyper = { ...DEFAULT_HYPER, batch: 8, r1Interval: 2 };
    const t = new GanTrainer(data, hyper, RGB_GENERATOR, { ...DEFAULT_DISCRIMINATOR, imageChannels: 3 });
    for (let i = 0; i < 2; i++) {
      const l = t.step();
      expect([l.lossG, l.lossDreal, l.lossDfake].every(Number.isFinite)).toBe(true);
    }
    t.dispose();
    expect(() => new GanTrainer(randomSet(8, 1), hyper, RGB_GENERATOR, DEFAULT_DISCRIMINATOR)).toThrow(
      /the data have 1 channel\(s\) but the generator makes 3 and the discriminator takes 1/,
    );
  }, 300_000);

  it('trains the RGB CNN and, resumed from its state mid-run, continues exactly', async () => {
    const data = randomSet(48, 3);
    const schedule = { epochs: 2, batch: 8, seed: 1 };
    const straight = new ClassifierTrainer(new SimpleCnn('a', RGB_CNN, 1), data, schedule);
    const losses: number[] = [];
    while (!straight.done) losses.push(await straight.trainStep());
    expect(losses).toHaveLength(12);
    const stopped = new ClassifierTrainer(new SimpleCnn('b', RGB_CNN, 1), data, schedule);
    for (let i = 0; i < 7; i++) await stopped.trainStep(); // into the second (slow-Adam) epoch
    const state = await stopped.stateTensors();
    const resumed = new ClassifierTrainer(new SimpleCnn('c', RGB_CNN, 99), data, schedule);
    await resumed.loadState(new Map(state), 'state', stopped.step);
    const rest: number[] = [];
    while (!resumed.done) rest.push(await resumed.trainStep());
    // Exact up to float rounding: tfjs Adam recomputes its bias corrections as beta^t on restore.
    expect(maxAbsDiff(rest, losses.slice(7))).toBeLessThan(1e-5);
    const wa = await straight.model.params.toHost();
    const wc = await resumed.model.params.toHost();
    wa.forEach(([name, t], i) => expect(maxAbsDiff(t.values, wc[i][1].values), name).toBeLessThan(1e-5));
    await expect(resumed.loadState(new Map(state), 'state', 99)).rejects.toThrow(
      /step 99 is outside this run's 0\.\.12/,
    );
    expect(() => new ClassifierTrainer(new SimpleCnn('d', DEFAULT_CNN_CONFIG), data, schedule)).toThrow(
      /d takes 1-channel images but the data have 3/,
    );
    for (const t of [straight, stopped, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  }, 300_000);
});
