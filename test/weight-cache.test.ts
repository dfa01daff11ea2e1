/**
 * The weight-terms caches on wasm (the checks: test/weight-cache-checks.ts; on cpu in the e2e tier,
 * test/cpu-backend.test.ts), and off while training.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { GanTrainer, DEFAULT_HYPER } from '../src/node/training/gan-trainer.js';
import type { DigitSet } from '../src/core/data/digits.js';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { weightCacheChecks } from './weight-cache-checks.js';

weightCacheChecks('wasm');

describe('weight-terms cache and training', () => {
  it('is off on the trained generator, so gradients reach its mapping, affine and synthesis weights', async () => {
    await useBackend('cpu');
    const data: DigitSet = {
      count: 8,
      images: new Float32Array(8 * 1024),
      labels: Uint8Array.from({ length: 8 }, (_, i) => i),
      blur: new Uint8Array(8),
      noise: new Uint8Array(8),
    };
    const trainer = new GanTrainer(data, { ...DEFAULT_HYPER, batch: 4 });
    expect(trainer.G.weightCacheEnabled).toBe(false);
    expect(trainer.Gema.weightCacheEnabled).toBe(true);
    trainer.dispose();
    // What being off buys: gradients reach the mapping, affine and synthesis weights (a cached
    // term would cut them).
    const g = new Generator(DEFAULT_GENERATOR, 3);
    const names = [
      'synthesis/b8.conv0/weight',
      'synthesis/b8.conv0/affine/weight',
      'mapping/embed/weight',
      'mapping/fc0/weight',
      'mapping/fc1/bias',
    ];
    const weights = names.map((n) => g.params.get(n));
    const z = tf.tensor2d(normals(createRng(1), 2 * g.arch.zDim), [2, g.arch.zDim]);
    const loss = () => tf.sum(g.synthesisRaw(g.styles(g.mapping(z, [1, 2])), { noiseMode: 'none' })) as tf.Scalar;
    g.setWeightCache(false);
    const { grads, value } = tf.variableGrads(loss, weights);
    for (const [i, v] of weights.entries()) {
      expect(grads[v.name], names[i]).toBeDefined();
      expect(Math.max(...Array.from(await tf.abs(grads[v.name]).data())), names[i]).toBeGreaterThan(0);
    }
    tf.dispose([z, value, ...Object.values(grads)]);
    g.dispose();
  });

  it("leaves the classifier's own weight gradients unchanged (its cache stays on in training)", async () => {
    await useBackend('cpu');
    const cnn = new SimpleCnn('test-cnn', DEFAULT_CNN_CONFIG, 4);
    const images = tf.tensor4d(
      normals(createRng(2), 3 * 32 * 32).map((v) => Math.abs(v) / 3),
      [3, 32, 32, 1],
    );
    const onehot = tf.cast(tf.oneHot([1, 5, 7], 10), 'float32');
    const loss = () => tf.losses.softmaxCrossEntropy(onehot, cnn.logits(images)) as tf.Scalar;
    const gradients = async () => {
      const { grads, value } = tf.variableGrads(loss, cnn.params.list());
      for (const [i, v] of cnn.params.list().entries()) expect(grads[v.name], cnn.params.names()[i]).toBeDefined();
      const out = await Promise.all(cnn.params.list().map(async (v) => Array.from(await grads[v.name].data())));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const cached = await gradients();
    cnn.setWeightCache(false);
    const plain = await gradients();
    expect(cached).toEqual(plain);
    expect(cached.every((g) => g.some((x) => x !== 0))).toBe(true);
    tf.dispose([images, onehot]);
    cnn.dispose();
  });
});
