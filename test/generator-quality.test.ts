/**
 * The generator quality figures on RGB data (coloured MNIST): with real images standing in for the
 * generated ones, class consistency must equal the classifier's accuracy counted by hand, the
 * Fréchet distance of a set to itself must be 0, and corruption coverage (grey blur/noise measures
 * against corruption metadata) must be absent; on grey corrupted MNIST it stays measured.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { selectDigits, type DigitSet } from '../src/core/data/digits.js';
import { generatorQuality, type GeneratedSet } from '../src/core/evaluation/generator-quality.js';
import { useBackend } from '../src/node/backend.js';
import { loadDomainSet } from '../src/node/domain-data.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const spread = (set: DigitSet, n: number, offset: number) =>
  selectDigits(
    set,
    Array.from({ length: n }, (_, i) => (offset + Math.floor((i * set.count) / n)) % set.count),
  );

const asGenerated = (set: DigitSet): GeneratedSet => ({
  count: set.count,
  ...(set.channels === undefined ? {} : { channels: set.channels }),
  images: set.images,
  labels: set.labels,
});

describe('generator quality', () => {
  it('measures RGB images: consistency = accuracy counted by hand, Fréchet(set, set) = 0, no coverage', async () => {
    const test = loadDomainSet('colored-mnist', 'test', 'independent');
    const real = spread(test, 120, 0);
    const floor = spread(test, 120, 37);
    expect(real.channels).toBe(3);
    const { classifier } = loadBuiltinClassifier('classifier-independent', 'colored-mnist');
    // The classifier doubles as the feature extractor: any 3-channel CNN gives a feature space.
    const q = await generatorQuality(asGenerated(real), real, floor, classifier, classifier);
    const predicted = tf.tidy(() =>
      tf.argMax(classifier.logits(tf.tensor4d(real.images, [real.count, 32, 32, 3])), 1).dataSync(),
    );
    let hits = 0;
    predicted.forEach((p, i) => (hits += p === real.labels[i] ? 1 : 0));
    expect(q.classConsistency.generated).toBe(hits / real.count);
    expect(q.classConsistency.realAccuracy).toBe(hits / real.count);
    expect(hits / real.count).toBeGreaterThan(0.8);
    expect(q.frechet.generatedVsReal).toBeLessThan(1e-6);
    expect(q.frechet.realVsReal).toBeGreaterThan(1e-3);
    expect(q.coverage).toBeNull();
  });

  it('keeps measuring corruption coverage on grey corrupted MNIST', async () => {
    const test = loadDomainSet('mnist', 'test', 'corrupted');
    const real = spread(test, 200, 0);
    const { classifier } = loadBuiltinClassifier('classifier-corrupted');
    const q = await generatorQuality(asGenerated(real), real, spread(test, 200, 11), classifier, classifier);
    expect(q.coverage).not.toBeNull();
    // The same images on both sides: the same shares.
    expect(q.coverage!.generated.noisy).toBe(q.coverage!.real.noisy);
    expect(q.coverage!.detectorBalancedAccuracy.noise).toBeGreaterThan(0.8);
  });

  it('refuses generated and real images of different channel counts', async () => {
    const grey = spread(loadDomainSet('mnist', 'test', 'corrupted'), 20, 0);
    const colour = spread(loadDomainSet('colored-mnist', 'test', 'independent'), 20, 0);
    const { classifier } = loadBuiltinClassifier('classifier-independent', 'colored-mnist');
    await expect(generatorQuality(asGenerated(grey), colour, colour, classifier, classifier)).rejects.toThrow(
      /1 channel\(s\), the real ones 3/,
    );
  });
});
