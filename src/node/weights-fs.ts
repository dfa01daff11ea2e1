/** Reading and writing `weights/<model>/manifest.json` + binary on the file system. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderSource, loadModelFilesSync, type LoadedModelFiles } from '../core/loading/model-files.js';
import { encodeWeights, type HostTensor, type ManifestInfo } from '../core/weights/codec.js';
import type { WeightsManifest } from '../core/weights/manifest.js';

/** The repository's weights/ folder (dist/ and src/node/ both sit two levels below the root's children). */
export function weightsRoot(): string {
  if (process.env.FAULTLINES_WEIGHTS) return path.resolve(process.env.FAULTLINES_WEIGHTS);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      readFileSync(path.join(dir, 'package.json'));
      return path.join(dir, 'weights');
    } catch {
      dir = path.dirname(dir);
    }
  }
  return path.resolve('weights');
}

export interface LoadedWeights extends LoadedModelFiles {
  dir: string;
}

/** Loads and verifies a model folder (manifest + binary); throws WeightsError naming the file. */
export function readWeightsDir(dir: string): LoadedWeights {
  return { ...loadModelFilesSync(folderSource(dir, (f) => readFileSync(f), path.join)), dir };
}

/** Loads a built-in model by name from weights/. */
export function readModelWeights(name: string): LoadedWeights {
  return readWeightsDir(path.join(weightsRoot(), name));
}

/** Writes a model folder atomically (temp files renamed into place). */
export function writeWeightsDir(
  dir: string,
  info: ManifestInfo,
  tensors: ReadonlyArray<readonly [string, HostTensor]>,
): WeightsManifest {
  const { manifest, bytes } = encodeWeights(info, tensors);
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, manifest.weightsFile);
  const man = path.join(dir, 'manifest.json');
  writeFileSync(bin + '.tmp', bytes);
  writeFileSync(man + '.tmp', JSON.stringify(manifest, null, 2) + '\n');
  renameSync(bin + '.tmp', bin);
  renameSync(man + '.tmp', man);
  return manifest;
}
