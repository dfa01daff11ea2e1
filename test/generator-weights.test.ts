/**
 * The committed generator (weights/generator): it loads through the checked weight loader, its
 * manifest carries the quality figures `npm run eval:generator -- --update-manifest` measured, and a
 * few hundred seeded, unfiltered samples reproduce its class consistency.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSamples } from '../src/core/evaluation/generator-quality.js';
import type { Generator } from '../src/core/generator/index.js';
import * as tf from '../src/core/tf.js';
import type { WeightsManifest } from '../src/core/weights/manifest.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/models.js';

interface RecordedQuality {
  classConsistency: number;
  classifierRealAccuracy: number;
  frechetRatio: number;
  samples: number;
}

let generator: Generator;
let manifest: WeightsManifest;

beforeAll(async () => {
  await useBackend('wasm');
  ({ generator, manifest } = loadGenerator());
});

describe('the committed generator', () => {
  it('records its training and quality in the manifest', () => {
    const provenance = manifest.provenance as { iteration: number; trainSeconds: number; images: number };
    expect(provenance.iteration).toBeGreaterThan(5000);
    expect(provenance.images).toBe(provenance.iteration * 32);
    const q = (manifest.metrics as { quality?: RecordedQuality }).quality;
    expect(q, 'run npm run eval:generator -- --update-manifest').toBeDefined();
    expect(q!.samples).toBeGreaterThanOrEqual(10_000);
    expect(generator.styleSize).toBe(512);
  });

  it('reproduces its recorded class consistency on 600 seeded samples', async () => {
    const q = (manifest.metrics as { quality: RecordedQuality }).quality;
    const { classifier } = loadBuiltinClassifier('classifier-corrupted');
    const set = await generateSamples(generator, 600, 7, 200);
    expect(set.images.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    const predicted = tf.tidy(() => tf.argMax(classifier.logits(tf.tensor4d(set.images, [set.count, 32, 32, 1])), 1).dataSync());
    let hits = 0;
    predicted.forEach((p, i) => (hits += p === set.labels[i] ? 1 : 0));
    const consistency = hits / set.count;
    // Binomial standard error at 600 samples is about 1.5 points: 4.5 points is 3 of them.
    console.log(`class consistency on 600 samples: ${(100 * consistency).toFixed(1)}% (manifest, ${q.samples} samples: ${(100 * q.classConsistency).toFixed(1)}%)`);
    expect(Math.abs(consistency - q.classConsistency)).toBeLessThan(0.045);
    // The target: within 5 points of the classifier's accuracy on real corrupted digits.
    expect(q.classifierRealAccuracy - consistency).toBeLessThan(0.05);
    expect(q.frechetRatio).toBeLessThanOrEqual(3);
  });
});
