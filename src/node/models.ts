/** The built-in models, loaded from weights/ and verified. */
import { SimpleCnn, parseCnnConfig } from '../core/classifier/simple-cnn.js';
import type { WeightsManifest } from '../core/weights/manifest.js';
import { readModelWeights, readWeightsDir } from './weights-fs.js';
import { Generator } from '../core/generator/generator.js';
import type { Classifier } from '../core/classifier/classifier.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import path from 'node:path';

/** Names of the built-in classifiers, in the order reports compare them. */
export const BUILTIN_CLASSIFIERS = ['classifier-clean', 'classifier-corrupted'] as const;
export type BuiltinClassifier = (typeof BUILTIN_CLASSIFIERS)[number];

export function loadBuiltinClassifier(name: string): { classifier: SimpleCnn; manifest: WeightsManifest } {
  const { manifest, tensors, dir } = readModelWeights(name);
  const file = path.join(dir, manifest.weightsFile);
  if (manifest.kind !== 'classifier') throw new Error(`${file}: model "${name}" is a ${manifest.kind}, not a classifier`);
  return { classifier: SimpleCnn.fromWeights(name, parseCnnConfig(manifest.architecture, file), tensors, file), manifest };
}

/**
 * The generator: the built-in `weights/generator`, or any folder in the weights format (a training
 * checkpoint's EMA generator, a user's generator).
 */
export function loadGenerator(dir?: string): { generator: Generator; manifest: WeightsManifest } {
  const { manifest, tensors, dir: from } = dir ? readWeightsDir(dir) : readModelWeights('generator');
  const generator = Generator.fromWeights(manifest, tensors, path.join(from, manifest.weightsFile));
  return { generator, manifest };
}

/** AnalysisModels for a generator and a built-in classifier, identified by their weights' sha256. */
export function analysisModels(gen: { generator: Generator; manifest: WeightsManifest }, cls: { classifier: Classifier; manifest: WeightsManifest }): AnalysisModels {
  return { generator: gen.generator, classifier: cls.classifier, generatorId: gen.manifest.sha256, classifierId: cls.manifest.sha256 };
}
