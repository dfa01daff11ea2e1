/**
 * The committed coloured-MNIST classifiers (weights/colored-mnist/), loaded as a user gets them: their
 * accuracies on the 10,000 test digits in independent and spurious colours reproduce the manifests
 * and docs/colored-mnist/training.md, the spurious-trained one drops on independent colours and its
 * mistakes there follow the digit's colour, the independent-trained one does neither.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateClassifier } from '../src/core/classifier/classifier.js';
import type { ColourDigitSet } from '../src/core/data/colour.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { byColour } from '../src/node/commands/evaluate.js';
import { loadDomainSet } from '../src/node/domain-data.js';

const NAMES = ['classifier-spurious', 'classifier-independent'] as const;
const SPLITS = ['independent', 'spurious'] as const;

describe('committed coloured-MNIST classifiers', () => {
  const accuracy: Record<string, Record<string, number>> = {};
  const recorded: Record<string, Record<string, unknown>> = {};
  const colour: Record<string, Awaited<ReturnType<typeof byColour>>> = {};

  beforeAll(async () => {
    await useBackend('wasm');
    for (const name of NAMES) {
      const { classifier, manifest } = loadBuiltinClassifier(name, 'colored-mnist');
      expect(manifest.domain?.image).toEqual({ size: 32, channels: 3 });
      recorded[name] = manifest.metrics;
      accuracy[name] = {};
      for (const split of SPLITS) {
        const test = loadDomainSet('colored-mnist', 'test', split);
        accuracy[name][split] = (
          await evaluateClassifier(classifier, test.images, test.labels, 500, undefined, 3)
        ).accuracy;
      }
      colour[name] = await byColour(
        classifier,
        loadDomainSet('colored-mnist', 'test', 'independent') as ColourDigitSet,
      );
      classifier.dispose();
    }
  }, 1_800_000); // ~1 min alone; the machine's load sets the bound, not a timing

  it('reproduce the accuracies recorded in the manifests', () => {
    for (const name of NAMES)
      for (const split of SPLITS)
        expect(recorded[name][`accuracy_test_${split}`]).toBeCloseTo(accuracy[name][split], 4);
  });

  it('the spurious-trained CNN drops on independent colours; the independent-trained one does not', () => {
    expect(accuracy['classifier-spurious'].spurious).toBeGreaterThan(0.95);
    expect(accuracy['classifier-spurious'].independent).toBeLessThan(accuracy['classifier-spurious'].spurious - 0.2);
    expect(accuracy['classifier-independent'].independent).toBeGreaterThan(0.95);
    expect(
      Math.abs(accuracy['classifier-independent'].independent - accuracy['classifier-independent'].spurious),
    ).toBeLessThan(0.01);
  });

  it("the spurious-trained CNN's mistakes follow the digit's colour (chance: 1 in 9)", () => {
    const s = colour['classifier-spurious'];
    expect(s.labelColour).toBeGreaterThan(s.otherColour + 0.25);
    expect(s.mistakesNamingTheColour).toBeGreaterThan(0.5);
    const i = colour['classifier-independent'];
    expect(Math.abs(i.labelColour - i.otherColour)).toBeLessThan(0.03);
    expect(i.mistakesNamingTheColour).toBeLessThan(0.2);
  });
});
