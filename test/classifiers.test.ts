/**
 * The committed classifiers, loaded from weights/ as a user gets them, meet their accuracy on the
 * full 10,000-digit test split.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateClassifier } from '../src/core/classifier/classifier.js';
import { useBackend } from '../src/node/backend.js';
import { loadDigits } from '../src/node/mnist.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';

describe('committed classifiers', () => {
  const accuracy: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    await useBackend('wasm');
    for (const name of ['classifier-clean', 'classifier-corrupted']) {
      const { classifier } = loadBuiltinClassifier(name);
      accuracy[name] = {};
      for (const variant of ['clean', 'corrupted'] as const) {
        const test = loadDigits('test', variant);
        accuracy[name][variant] = (await evaluateClassifier(classifier, test.images, test.labels)).accuracy;
      }
      classifier.dispose();
    }
  });

  it("the corruption-trained CNN reaches at least the paper's 97% on corrupted test digits", () => {
    expect(accuracy['classifier-corrupted'].corrupted).toBeGreaterThanOrEqual(0.97);
    expect(accuracy['classifier-corrupted'].clean).toBeGreaterThanOrEqual(0.98);
  });

  it('the clean-trained CNN is accurate on clean digits and clearly drops on corrupted ones', () => {
    expect(accuracy['classifier-clean'].clean).toBeGreaterThanOrEqual(0.98);
    // A clear drop: at least 3 points below its clean accuracy and below the corruption-trained CNN.
    expect(accuracy['classifier-clean'].corrupted).toBeLessThan(accuracy['classifier-clean'].clean - 0.03);
    expect(accuracy['classifier-clean'].corrupted).toBeLessThan(accuracy['classifier-corrupted'].corrupted - 0.02);
  });

  it('reproduces the accuracies recorded in the manifests', () => {
    for (const name of ['classifier-clean', 'classifier-corrupted']) {
      const { manifest, classifier } = loadBuiltinClassifier(name);
      classifier.dispose();
      expect(manifest.metrics.accuracy_test_clean).toBeCloseTo(accuracy[name].clean, 4);
      expect(manifest.metrics.accuracy_test_corrupted).toBeCloseTo(accuracy[name].corrupted, 4);
    }
  });
});
