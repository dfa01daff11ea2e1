/**
 * The generator's weight-terms cache (src/core/nn/weight-terms.ts) on wasm (the checks are in
 * test/weight-cache-checks.ts; on cpu they run in the e2e tier, test/cpu-backend.test.ts), and off
 * while training.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { GanTrainer, DEFAULT_HYPER } from '../src/node/training/gan-trainer.js';
import type { DigitSet } from '../src/core/data/digits.js';
import { weightCacheChecks } from './weight-cache-checks.js';

weightCacheChecks('wasm');

describe('weight-terms cache and training', () => {
  it('is off on the trained generator, so gradients reach its synthesis weights', async () => {
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
    // What being off buys: the gradient of a synthesis weight exists (a cached term would cut it).
    const g = new Generator(DEFAULT_GENERATOR, 3);
    const weight = g.params.get('synthesis/b8.conv0/weight');
    const s = tf.ones([2, g.styleSize]) as tf.Tensor2D;
    const loss = () => tf.sum(g.synthesisRaw(s, { noiseMode: 'none' })) as tf.Scalar;
    g.setWeightCache(false);
    const { grads, value } = tf.variableGrads(loss, [weight]);
    expect(grads[weight.name]).toBeDefined();
    expect(Math.max(...Array.from(await tf.abs(grads[weight.name]).data()))).toBeGreaterThan(0);
    tf.dispose([s, value, ...Object.values(grads)]);
    g.dispose();
  });
});
