/**
 * The generator (src/core/generator/): its StyleSpace layout, its checks on wasm (shared with the
 * e2e tier's cpu run through test/generator-checks.ts), the per-sample analysis noise, a training
 * step, and the fused leaky ReLU.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import {
  DEFAULT_GENERATOR,
  buildStyleLayout,
  styleDim,
  styleDimName,
  styleIndex,
} from '../src/core/generator/index.js';
import { isBufferName } from '../src/core/generator/generator.js';
import type { HostTensorMap } from '../src/core/weights/codec.js';
import { GanTrainer, DEFAULT_HYPER } from '../src/node/training/gan-trainer.js';
import type { DigitSet } from '../src/core/data/digits.js';
import { samplePopulation } from '../src/core/analysis/population.js';
import { sweepBatch } from '../src/core/analysis/ranking.js';
import {
  NOISE_SPEC,
  disposeModels,
  generatorChecks,
  lreluFusedCheck,
  maxAbsDiff,
  noiseModelsOn,
  renderSamples,
} from './generator-checks.js';

describe('style layout', () => {
  const layout = buildStyleLayout(DEFAULT_GENERATOR);
  it('covers every modulated conv and toRGB layer', () => {
    expect(layout.layers.map((l) => l.name)).toEqual([
      'b4.conv1',
      'b4.torgb',
      'b8.conv0',
      'b8.conv1',
      'b8.torgb',
      'b16.conv0',
      'b16.conv1',
      'b16.torgb',
      'b32.conv0',
      'b32.conv1',
      'b32.torgb',
    ]);
    expect(layout.size).toBe(512);
    expect(layout.layers.reduce((a, l) => a + l.channels, 0)).toBe(layout.size);
  });
  it('addresses dims as {layer, channel} and back', () => {
    for (let i = 0; i < layout.size; i++) expect(styleIndex(layout, styleDim(layout, i))).toBe(i);
    expect(styleDim(layout, 64)).toEqual({ layer: 'b4.torgb', channel: 0 });
    expect(styleDimName(layout, 511)).toBe('b32.torgb:15');
    expect(() => styleDim(layout, 512)).toThrow(RangeError);
    expect(() => styleIndex(layout, { layer: 'b8.conv0', channel: 64 })).toThrow(RangeError);
    expect(() => styleIndex(layout, { layer: 'nope', channel: 0 })).toThrow(RangeError);
  });
});

generatorChecks('wasm');

describe('per-sample analysis noise (src/core/analysis/noise.ts)', () => {
  it("sample i's image and verdict do not depend on the batch size or where the range starts", async () => {
    const m = await noiseModelsOn('wasm');
    const whole = await renderSamples(m, 0, 12);
    for (const [start, n] of [
      [3, 4],
      [7, 5],
      [11, 1],
    ]) {
      expect(
        maxAbsDiff(await renderSamples(m, start, n), whole.subarray(start * 1024, (start + n) * 1024)),
        `[${start}, ${start + n})`,
      ).toBeLessThan(1e-5);
    }
    // Samples get different noise: the same style with its own stream vs another sample's differs.
    const constImages = await renderSamples({ ...m, noise: { mode: 'const' } }, 0, 12);
    expect(maxAbsDiff(constImages, whole)).toBeGreaterThan(1e-3);
    // The sweep carries the global index: a shard [7, 12) equals the same samples in [0, 12).
    const all = await sweepBatch(m, NOISE_SPEC, 0, 12);
    const shard = await sweepBatch(m, NOISE_SPEC, 7, 5);
    expect(maxAbsDiff(shard.evaluation.pTrue, all.evaluation.pTrue.subarray(7))).toBeLessThan(1e-6);
    expect(maxAbsDiff(shard.grads, all.grads.subarray(7 * m.generator.styleSize))).toBeLessThan(1e-6);
    // ... and the population records the same verdicts in any batch size.
    const pop = await samplePopulation(m, { ...NOISE_SPEC, count: 12, batchSize: 5 });
    expect(maxAbsDiff(pop.pTrue, all.evaluation.pTrue)).toBeLessThan(1e-6);
    disposeModels(m);
  });
});

/** `count` random black-and-white 32x32 images, classes 0-9 in turn: data for a few training steps. */
function randomBinaryDigits(count: number, seed: number): DigitSet {
  return {
    count,
    images: Float32Array.from(normals(createRng(seed), count * 1024), (x) => (x > 1 ? 1 : 0)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    blur: new Uint8Array(count),
    noise: new Uint8Array(count),
  };
}

describe('training step (wasm)', () => {
  it('trains, does not leak tensors, and resumes exactly from its state', async () => {
    await useBackend('wasm');
    const data = randomBinaryDigits(64, 5);
    const hyper = { ...DEFAULT_HYPER, batch: 8, r1Interval: 2 };
    const a = new GanTrainer(data, hyper);
    a.step();
    a.step();
    const tensors = tf.memory().numTensors;
    a.step();
    a.step();
    expect(tf.memory().numTensors).toBe(tensors);
    const state = await a.stateTensors();
    const b = new GanTrainer(data, hyper);
    await b.loadState(new Map(state), 'state', a.iteration);
    const la = a.step();
    const lb = b.step();
    // Exact up to float rounding: tfjs Adam recomputes its bias corrections as beta^t on restore.
    expect(lb.r1).toBe(la.r1);
    for (const k of ['lossG', 'lossDreal', 'lossDfake'] as const)
      expect(Math.abs((lb[k] ?? Number.NaN) - (la[k] ?? Number.NaN))).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
  }, 300_000); // ~9 s alone, 104 s measured at a load average of 30: a bound, not a timing

  it("the discriminator's warm-up trains D only, then G and G_ema move", async () => {
    await useBackend('wasm');
    const data = randomBinaryDigits(32, 6);
    const t = new GanTrainer(data, { ...DEFAULT_HYPER, batch: 8, discriminatorWarmUp: 2 });
    const snapshot = async () => ({
      G: new Map(await t.G.toHost()),
      Gema: new Map(await t.Gema.toHost()),
      D: new Map(await t.D.params.toHost()),
    });
    const changed = (a: HostTensorMap, b: HostTensorMap) =>
      [...a.keys()].filter((k) => maxAbsDiff(a.get(k)!.values, b.get(k)!.values) > 0).length;
    const start = await snapshot();
    const warm = [t.step(), t.step()];
    const afterWarmUp = await snapshot();
    expect(warm.map((l) => l.lossG)).toEqual([null, null]);
    expect(changed(start.D, afterWarmUp.D)).toBeGreaterThan(0);
    // The mapping's running w average is a buffer the D step updates; every trained tensor stays.
    const trained = (m: HostTensorMap): HostTensorMap => new Map([...m].filter(([k]) => !isBufferName(k)));
    expect(changed(trained(start.G), trained(afterWarmUp.G))).toBe(0);
    expect(changed(start.Gema, afterWarmUp.Gema)).toBe(0);
    // A checkpoint while G's optimiser has not stepped yet leaks nothing (it used to leak its step count).
    const tensors = tf.memory().numTensors;
    await t.stateTensors();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(t.step().lossG).not.toBeNull();
    const after = await snapshot();
    expect(changed(trained(afterWarmUp.G), trained(after.G))).toBeGreaterThan(0);
    expect(changed(trained(afterWarmUp.Gema), trained(after.Gema))).toBeGreaterThan(0);
    t.dispose();
  }, 300_000);
});

describe('fused leaky ReLU and shared wasm buffers', () => {
  lreluFusedCheck('wasm');

  it('wasm Identity and same-dtype Cast share the buffer (no copy) and free it with the last tensor', async () => {
    await useBackend('wasm');
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const id = tf.clone(x);
    const c = tf.cast(x, 'float32');
    const i = tf.cast(x, 'int32');
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 2); // x (shared by id and c) + the int32 cast
    x.dispose();
    expect(Array.from(await id.data())).toEqual([1, 2, 3]);
    id.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3]);
    expect(Array.from(await i.data())).toEqual([1, 2, 3]);
    tf.dispose([c, i]);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });
});
