/** The built-in models, loaded from weights/ and verified. */
import { SimpleCnn, parseCnnConfig } from '../core/classifier/simple-cnn.js';
import type { WeightsManifest } from '../core/weights/manifest.js';
import { readModelWeights } from './weights-fs.js';
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
