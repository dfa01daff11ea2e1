/**
 * The committed generator and feature extractor, and generated images whose style is known: what the
 * projection tests (wasm, unit tier) and its cpu-backend parity check (e2e tier) project.
 */
import { analysisSynthesisOptions, classNoiseStreams } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import * as tf from '../src/core/tf.js';
import { loadFeatureExtractor, loadGenerator } from '../src/node/builtin-models.js';

export async function models() {
  const { generator } = loadGenerator();
  const { featureExtractor } = loadFeatureExtractor();
  return { generator, featureExtractor };
}

/**
 * Generated images of population {seed 77}: samples 0..n-1, their styles and labels; rendered with
 * the class streams (the projection's noise).
 */
export async function generated(m: Awaited<ReturnType<typeof models>>, n: number) {
  const { s, w, labels } = populationStyles(m, { seed: 77, count: 100, classIndex: null }, 0, n);
  const img = m.generator.synthesis(s, analysisSynthesisOptions({}, n, classNoiseStreams(labels)));
  const out = { styles: (await s.data()) as Float32Array, images: (await img.data()) as Float32Array, labels };
  tf.dispose([s, w, img]);
  return out;
}
