/** Reading a user's TF.js model folder (model.json + weight shards) and adapter from disk. */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAdapter, type Adapter } from '../core/classifier/adapter.js';
import { tfjsClassifierId } from '../core/classifier/tfjs-classifier-id.js';
import { TfjsClassifier } from '../core/classifier/tfjs-model.js';
import { ModelFormatError, type TfjsModelFiles } from '../core/classifier/tfjs-model-json.js';
import { sha256Hex } from '../core/weights/codec.js';
import type * as tf from '../core/tf.js';

/** Upper bound on a model folder's weights (a classifier for 32x32 images needs far less). */
export const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** Reads model.json and its shards (in manifest order); the id is the sha256 of all bytes. */
export function readTfjsModelDir(dir: string): { files: TfjsModelFiles; id: string } {
  const jsonFile = path.join(dir, 'model.json');
  let raw: Buffer;
  try {
    raw = readFileSync(jsonFile);
  } catch (err) {
    throw new ModelFormatError(jsonFile, `cannot read: ${(err as Error).message}`);
  }
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ModelFormatError(jsonFile, `not JSON: ${(err as Error).message}`);
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology)
    throw new ModelFormatError(jsonFile, 'no modelTopology: not a TF.js model.json');
  const parts: Buffer[] = [raw];
  let total = 0;
  const shards: Buffer[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    for (const p of group.paths) {
      const file = path.resolve(dir, p);
      if (path.relative(dir, file).startsWith('..'))
        throw new ModelFormatError(jsonFile, `weight path "${p}" leaves the model folder`);
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        throw new ModelFormatError(file, 'weight shard listed in model.json is missing');
      }
      total += size;
      if (total > MAX_MODEL_BYTES) throw new ModelFormatError(dir, `weights exceed ${MAX_MODEL_BYTES} bytes`);
      const b = readFileSync(file);
      shards.push(b);
      parts.push(b);
    }
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { files: { modelJson, weightData }, id: sha256Hex(Buffer.concat(parts)) };
}

export function readAdapter(file: string): Adapter {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read adapter: ${(err as Error).message}`);
  }
  return parseAdapter(json, file);
}

/**
 * A user classifier, checked against its adapter. Its id hashes the model's bytes and the adapter
 * (`tfjsClassifierId`): the id the edge API gives the same files when they are registered there.
 */
export async function loadUserClassifier(
  dir: string,
  adapterFile: string,
): Promise<{ classifier: TfjsClassifier; id: string }> {
  const { files, id: modelSha256 } = readTfjsModelDir(dir);
  const adapter = readAdapter(adapterFile);
  const classifier = await TfjsClassifier.create(path.basename(path.resolve(dir)), files, adapter, dir);
  return { classifier, id: tfjsClassifierId(modelSha256, adapter) };
}
