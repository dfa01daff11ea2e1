/**
 * The discriminator's colour augmentation (`train-generator --augment-colour P`): channel
 * permutations computed exactly, drawn with the stated probabilities, and applied to what D sees in
 * training — the real batch D gets is each real image with its channels in one of the six orders,
 * some of them permuted, none when the augmentation is off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import { DEFAULT_DISCRIMINATOR, DEFAULT_GENERATOR } from '../src/core/generator/index.js';
import { toGanRange } from '../src/core/generator/generator.js';
import type { DigitSet } from '../src/core/data/digits.js';
import { DEFAULT_HYPER, GanTrainer } from '../src/node/training/gan-trainer.js';
import { CHANNEL_ORDERS, drawChannelOrders, permuteChannels } from '../src/node/training/colour-augment.js';

beforeAll(() => useBackend('wasm'));

function rgbSet(count: number): DigitSet {
  return {
    count,
    channels: 3,
    images: Float32Array.from(normals(createRng(9), count * 1024 * 3), (x) => 1 / (1 + Math.exp(-x))),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    blur: new Uint8Array(count),
    noise: new Uint8Array(count),
  };
}

/** The order k (index into CHANNEL_ORDERS) that turns image a into b, or -1. */
function orderBetween(a: Float32Array, b: Float32Array): number {
  return CHANNEL_ORDERS.findIndex((order) => {
    for (let px = 0; px < a.length / 3; px++)
      for (let d = 0; d < 3; d++) if (Math.abs(b[3 * px + d] - a[3 * px + order[d]]) > 1e-6) return false;
    return true;
  });
}

describe('colour augmentation of the discriminator input', () => {
  it('permutes each image by its own order, exactly', async () => {
    const n = CHANNEL_ORDERS.length;
    const host = Float32Array.from(normals(createRng(3), n * 4 * 4 * 3));
    const orders = Int32Array.from({ length: n }, (_, j) => j);
    const out = await permuteChannels(tf.tensor4d(host, [n, 4, 4, 3]), orders).data();
    const per = 4 * 4 * 3;
    for (let j = 0; j < n; j++) {
      const a = host.subarray(j * per, (j + 1) * per);
      const b = Float32Array.from(out.subarray(j * per, (j + 1) * per));
      expect(orderBetween(a, b)).toBe(j);
    }
  });

  it('draws the identity with probability 1 - p and the five other orders evenly, seeded', () => {
    const n = 20_000;
    const orders = drawChannelOrders(createRng(1, 7), n, 0.5);
    const counts = Array.from({ length: 6 }, (_, k) => orders.filter((o) => o === k).length / n);
    expect(counts[0]).toBeGreaterThan(0.48);
    expect(counts[0]).toBeLessThan(0.52);
    for (let k = 1; k < 6; k++) expect(Math.abs(counts[k] - 0.1)).toBeLessThan(0.01);
    expect(drawChannelOrders(createRng(1, 7), n, 0.5)).toEqual(orders);
    expect(drawChannelOrders(createRng(1, 7), 100, 0).every((o) => o === 0)).toBe(true);
  });

  it('is what D sees of the real batch in training, and nothing changes when off', () => {
    const data = rgbSet(16);
    const arch = { ...DEFAULT_GENERATOR, imageChannels: 3 };
    const dArch = { ...DEFAULT_DISCRIMINATOR, imageChannels: 3 };
    const realsSeen = (augmentColour: number): number[] => {
      const t = new GanTrainer(data, { ...DEFAULT_HYPER, batch: 8, r1Interval: 2, augmentColour }, arch, dArch);
      const inputs: Float32Array[] = [];
      const apply = t.D.apply.bind(t.D);
      t.D.apply = (images, classes) => {
        inputs.push(Float32Array.from(images.dataSync()));
        return apply(images, classes);
      };
      const { images } = t.realBatch(0);
      const reals = Float32Array.from(tf.tidy(() => toGanRange(tf.tensor4d(images, t.realShape(8))).dataSync()));
      t.step();
      t.dispose();
      // D step: fakes, then reals (then the R1 pass on the same reals).
      const seen = inputs[1];
      const per = 32 * 32 * 3;
      return Array.from({ length: 8 }, (_, j) =>
        orderBetween(reals.subarray(j * per, (j + 1) * per), seen.subarray(j * per, (j + 1) * per)),
      );
    };
    const on = realsSeen(0.8);
    expect(on.every((k) => k >= 0)).toBe(true);
    expect(on.filter((k) => k > 0).length).toBeGreaterThan(0);
    expect(realsSeen(0)).toEqual(Array(8).fill(0));
  }, 120_000);

  it('refuses grey data and a probability that would leak', () => {
    const grey = { ...rgbSet(8), channels: 1, images: new Float32Array(8 * 1024) };
    expect(() => new GanTrainer(grey, { ...DEFAULT_HYPER, batch: 4, augmentColour: 0.5 })).toThrow(
      /permutes RGB channels: the data have 1 channel/,
    );
    const arch = { ...DEFAULT_GENERATOR, imageChannels: 3 };
    const dArch = { ...DEFAULT_DISCRIMINATOR, imageChannels: 3 };
    expect(() => new GanTrainer(rgbSet(8), { ...DEFAULT_HYPER, batch: 4, augmentColour: 0.9 }, arch, dArch)).toThrow(
      /below 5\/6/,
    );
  });
});
