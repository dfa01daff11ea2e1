/** Reading a user's TF.js model folder (model.json + weight shards) and adapter from disk. */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAdapter, type Adapter } from '../core/classifier/adapter.js';
import { tfjsClassifierId, tfjsModelSha256 } from '../core/classifier/tfjs-classifier-id.js';
import { TfjsClassifier } from '../core/classifier/tfjs-model.js';
import {
  checkShardSizes,
  ModelFormatError,
  parseModelJson,
  weightPaths,
  type TfjsModelFiles,
} from '../core/classifier/tfjs-model-json.js';

/** Upper bound on a model folder's weights (a classifier for 32x32 images needs far less). */
const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/**
 * Reads model.json and its shards (in manifest order), with the edge API's checks (the core's
 * `parseModelJson` and `checkShardSizes`: a truncated or missing shard is named among several);
 * `modelSha256` is the sha256 of all bytes (`tfjsModelSha256`).
 */
export function readTfjsModelDir(dir: string): { files: TfjsModelFiles; modelSha256: string } {
  const jsonFile = path.join(dir, 'model.json');
  let raw: Buffer;
  try {
    raw = readFileSync(jsonFile);
  } catch (err) {
    throw new ModelFormatError(jsonFile, `cannot read: ${(err as Error).message}`);
  }
  const modelJson = parseModelJson(raw, jsonFile);
  const sizes = new Map<string, number>();
  let total = 0;
  for (const p of weightPaths(modelJson)) {
    const file = path.resolve(dir, p);
    if (path.relative(dir, file).startsWith('..'))
      throw new ModelFormatError(jsonFile, `weight path "${p}" leaves the model folder`);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      throw new ModelFormatError(file, 'weight shard listed in model.json is missing', 'weights');
    }
    sizes.set(p, size);
    total += size;
    if (total > MAX_MODEL_BYTES) throw new ModelFormatError(dir, `weights exceed ${MAX_MODEL_BYTES} bytes`);
  }
  checkShardSizes(modelJson, (p) => sizes.get(p) ?? 0, jsonFile);
  const shards = weightPaths(modelJson).map((p) => readFileSync(path.resolve(dir, p)));
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { files: { modelJson, weightData }, modelSha256: tfjsModelSha256(raw, shards) };
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

/** Folder names that say nothing about the model (what converters and `model.save` examples write into). */
const GENERIC_FOLDERS = new Set([
  'model',
  'models',
  'tfjs',
  'tfjs_model',
  'tfjs-model',
  'web_model',
  'web-model',
  'saved_model',
  'export',
  'exported',
  'output',
  'out',
  'dist',
]);

/**
 * A user model's default name: its folder's name, or, when that is generic (`model`, `web_model`,
 * ...), the folder above it (`my-digits/model` is "my-digits").
 */
function defaultModelName(dir: string): string {
  const abs = path.resolve(dir);
  const base = path.basename(abs);
  const parent = path.basename(path.dirname(abs));
  return GENERIC_FOLDERS.has(base.toLowerCase()) && parent !== '' ? parent : base;
}

/**
 * A user classifier, checked against its adapter, named `name` (default `defaultModelName`). Its
 * id hashes the model's bytes and the adapter (`tfjsClassifierId`): the id the edge API gives the
 * same files when they are registered there.
 */
export async function loadUserClassifier(
  dir: string,
  adapterFile: string,
  name: string = defaultModelName(dir),
): Promise<{ classifier: TfjsClassifier; id: string; modelSha256: string }> {
  const { files, modelSha256 } = readTfjsModelDir(dir);
  const adapter = readAdapter(adapterFile);
  const classifier = await TfjsClassifier.create(name, files, adapter, dir);
  return { classifier, id: tfjsClassifierId(modelSha256, adapter), modelSha256 };
}
