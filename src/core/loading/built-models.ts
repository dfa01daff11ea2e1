/**
 * Models built from checked model files (src/core/loading/model-files.ts), and the placeholder
 * generator every runtime uses when no generator weights exist. One builder each, so the edge, the
 * runner, the seeding script and the Node commands build the same model from the same files.
 */
import { SimpleCnn, parseCnnConfig } from '../classifier/simple-cnn.js';
import { DEFAULT_GENERATOR } from '../generator/architecture.js';
import { Generator } from '../generator/generator.js';
import { WeightsError } from '../weights/codec.js';
import type { LoadedModelFiles } from './model-files.js';
import { RANDOM_INIT_SEED } from './placeholder-id.js';

/** The untrained placeholder generator: seeded, so every runtime renders the same images with it. */
export function placeholderGenerator(): Generator {
  return new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED);
}

/** The generator a model's files hold. */
export function buildGenerator(files: Pick<LoadedModelFiles, 'manifest' | 'tensors' | 'weightsWhere'>): Generator {
  return Generator.fromWeights(files.manifest, files.tensors, files.weightsWhere);
}

/** The built-in classifier (a SimpleCnn) a model's files hold; refuses files of another kind. */
export function buildClassifier(
  name: string,
  files: Pick<LoadedModelFiles, 'manifest' | 'tensors' | 'weightsWhere'>,
): SimpleCnn {
  const { manifest, tensors, weightsWhere } = files;
  if (manifest.kind !== 'classifier')
    throw new WeightsError(weightsWhere, 'invalid-manifest', `model "${name}" is a ${manifest.kind}, not a classifier`);
  return SimpleCnn.fromWeights(name, parseCnnConfig(manifest.architecture, weightsWhere), tensors, weightsWhere);
}

/** The evaluation CNN (`weights/feature-extractor`) a model's files hold; refuses files of another kind. */
export function buildFeatureExtractor(
  files: Pick<LoadedModelFiles, 'manifest' | 'tensors' | 'weightsWhere'>,
): SimpleCnn {
  const { manifest, tensors, weightsWhere } = files;
  if (manifest.kind !== 'feature-extractor')
    throw new WeightsError(weightsWhere, 'invalid-manifest', `model is a ${manifest.kind}, not a feature extractor`);
  return SimpleCnn.fromWeights(
    'feature-extractor',
    parseCnnConfig(manifest.architecture, weightsWhere),
    tensors,
    weightsWhere,
  );
}
