/**
 * The committed generator (weights/generator): it loads through the checked weight loader, its
 * manifest carries the quality figures `npm run eval:generator -- --update-manifest` measured, and a
 * few hundred seeded, unfiltered samples reproduce them: class consistency, the classifier's
 * accuracy on real corrupted digits, and the Fréchet ratio (recomputed on the same measure,
 * `generatorQuality`, over 600 generated, 600 real and 600 real-floor digits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseCnnConfig, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { selectDigits } from '../src/core/data/digits.js';
import { generateSamples, generatorQuality } from '../src/core/evaluation/generator-quality.js';
import type { Generator } from '../src/core/generator/index.js';
import * as tf from '../src/core/tf.js';
import type { WeightsManifest } from '../src/core/weights/manifest.js';
import { useBackend } from '../src/node/backend.js';
import { loadDigits } from '../src/node/mnist.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/models.js';
import { readModelWeights } from '../src/node/weights-fs.js';

interface RecordedQuality {
  classConsistency: number;
  classifierRealAccuracy: number;
  frechet: number;
  frechetFloor: number;
  frechetRatio: number;
  samples: number;
}

/** Samples of each set the recomputation uses. */
const N = 600;
/** How far the Fréchet ratio on 600 samples may sit from the 10,000-sample one (measured: see the log line). */
const FRECHET_RATIO_TOLERANCE = 1;

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
    // The recorded figures agree with each other and with the classifier's own manifest (`npm run evaluate`).
    expect(q!.frechetRatio).toBeCloseTo(q!.frechet / q!.frechetFloor, 12);
    const corrupted = JSON.parse(readFileSync('weights/classifier-corrupted/manifest.json', 'utf8')) as { metrics: { accuracy_test_corrupted: number } };
    expect(q!.classifierRealAccuracy).toBe(corrupted.metrics.accuracy_test_corrupted);
  });

  it('reproduces its recorded quality on 600 seeded samples', async () => {
    const q = (manifest.metrics as { quality: RecordedQuality }).quality;
    const { classifier } = loadBuiltinClassifier('classifier-corrupted');
    const set = await generateSamples(generator, N, 7, 200);
    expect(set.images.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    const predicted = tf.tidy(() => tf.argMax(classifier.logits(tf.tensor4d(set.images, [set.count, 32, 32, 1])), 1).dataSync());
    let hits = 0;
    predicted.forEach((p, i) => {
      hits += p === set.labels[i] ? 1 : 0;
    });
    const consistency = hits / set.count;
    // Binomial standard error at 600 samples is about 1.5 points: 4.5 points is 3 of them.
    console.log(`class consistency on ${N} samples: ${(100 * consistency).toFixed(1)}% (manifest, ${q.samples} samples: ${(100 * q.classConsistency).toFixed(1)}%)`);
    expect(Math.abs(consistency - q.classConsistency)).toBeLessThan(0.045);

    // The other figures, by the measure eval:generator uses, on evenly spread real subsets as it takes them.
    const fx = readModelWeights('feature-extractor');
    const extractor = SimpleCnn.fromWeights('feature-extractor', parseCnnConfig(fx.manifest.architecture, fx.dir), fx.tensors, fx.dir);
    const spread = (total: number, n: number) => Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
    const real = loadDigits('test', 'corrupted');
    const floor = loadDigits('train', 'corrupted');
    const m = await generatorQuality(set, selectDigits(real, spread(real.count, N)), selectDigits(floor, spread(floor.count, N)), classifier, extractor);
    console.log(`on ${N} samples: real accuracy ${(100 * m.classConsistency.realAccuracy).toFixed(1)}% (manifest ${(100 * q.classifierRealAccuracy).toFixed(1)}%), Fréchet ${m.frechet.generatedVsReal.toFixed(2)} / floor ${m.frechet.realVsReal.toFixed(2)} = ratio ${m.frechet.ratio.toFixed(2)} (manifest ${q.frechetRatio.toFixed(2)})`);
    expect(m.classConsistency.generated).toBe(consistency);
    // Binomial standard error of a 98% accuracy at 600 digits is 0.6 points: 2 points is 3 of them.
    expect(Math.abs(m.classConsistency.realAccuracy - q.classifierRealAccuracy)).toBeLessThan(0.02);
    // The targets, on the recomputed figures: consistency within 5 points of the real
    // accuracy, the Fréchet ratio at most 3.
    expect(m.classConsistency.realAccuracy - consistency).toBeLessThan(0.05);
    expect(m.frechet.ratio).toBeLessThanOrEqual(3);
    expect(Math.abs(m.frechet.ratio - q.frechetRatio)).toBeLessThan(FRECHET_RATIO_TOLERANCE);
  });
});
