/** Reading and writing `weights/<model>/manifest.json` + binary on the file system. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  WeightsError,
  decodeWeights,
  encodeWeights,
  parseManifest,
  type HostTensor,
  type HostTensorMap,
  type ManifestInfo,
} from '../core/weights/codec.js';
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

export interface LoadedWeights {
  manifest: WeightsManifest;
  tensors: HostTensorMap;
  dir: string;
}

/** Loads and verifies a model folder (manifest + binary); throws WeightsError naming the file. */
export function readWeightsDir(dir: string): LoadedWeights {
  const manifestFile = path.join(dir, 'manifest.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    throw new WeightsError(manifestFile, 'invalid-manifest', `cannot read manifest: ${(err as Error).message}`);
  }
  const manifest = parseManifest(json, manifestFile);
  const binFile = path.join(dir, manifest.weightsFile);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(binFile);
  } catch (err) {
    throw new WeightsError(binFile, 'truncated', `cannot read weights: ${(err as Error).message}`);
  }
  return { manifest, tensors: decodeWeights(manifest, bytes, binFile), dir };
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
