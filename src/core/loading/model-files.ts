/**
 * The one model loader: a model's manifest and weights binary, read from wherever the caller's
 * byte source reads them (the edge's static assets, the edge's runner endpoints over HTTP, a folder
 * on disk), checked with the codec and decoded. The source does only the I/O; what a load checks,
 * and the error each failure gives, are the same for every runtime.
 *
 * The steps are written once, as a generator that yields each file it needs, so that one sequence
 * serves both an asynchronous source (`loadModelFiles`) and a synchronous one (`loadModelFilesSync`:
 * the Node commands load models at start-up without awaiting).
 */
import { WeightsError, decodeWeights, parseManifest, type HostTensorMap } from '../weights/codec.js';
import type { WeightsManifest } from '../weights/manifest.js';

/** One of a model's two files: its manifest, or the weights binary the manifest names. */
export type ModelFile = { role: 'manifest' } | { role: 'weights'; weightsFile: string };

/** Where a model's files come from; `R` is `Uint8Array` for a synchronous source, a promise of it otherwise. */
export interface ModelByteSource<R extends Uint8Array | Promise<Uint8Array>> {
  /** The file's location as errors and tensors' provenance name it (path, asset key, URL). */
  where(file: ModelFile): string;
  /** The file's bytes; throws (any error) when it cannot be read. */
  read(file: ModelFile): R;
}

/** What a load expects of the manifest beyond its own checks. */
export interface ModelExpectation {
  /** The sha256 the manifest must declare (a catalog entry's, the id a job names). */
  sha256?: string;
  /** Who expects that sha256, for the error: "the catalog's", "the requested model". */
  sha256Of?: string;
}

/** A model's files, checked: the manifest as read, the binary's bytes and its decoded tensors. */
export interface LoadedModelFiles {
  manifest: WeightsManifest;
  manifestText: string;
  bytes: Uint8Array<ArrayBuffer>;
  tensors: HostTensorMap;
  /** Where the weights binary is (what model builders name in their errors). */
  weightsWhere: string;
}

const MANIFEST: ModelFile = { role: 'manifest' };

/** Wraps a source's read failure as a WeightsError naming the file (a WeightsError passes through). */
function readFailure(where: string, problem: 'invalid-manifest' | 'truncated', what: string, err: unknown): never {
  if (err instanceof WeightsError) throw err;
  throw new WeightsError(where, problem, `cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`);
}

function* loadSteps(
  source: ModelByteSource<Uint8Array | Promise<Uint8Array>>,
  expect: ModelExpectation,
): Generator<ModelFile, LoadedModelFiles, Uint8Array> {
  const manifestWhere = source.where(MANIFEST);
  let manifestText: string;
  let json: unknown;
  try {
    manifestText = new TextDecoder().decode(yield MANIFEST);
    json = JSON.parse(manifestText);
  } catch (err) {
    readFailure(manifestWhere, 'invalid-manifest', 'manifest', err);
  }
  const manifest = parseManifest(json, manifestWhere);
  if (expect.sha256 !== undefined && manifest.sha256 !== expect.sha256) {
    throw new WeightsError(
      manifestWhere,
      'checksum',
      `manifest sha256 ${manifest.sha256} is not ${expect.sha256Of ?? 'the expected'} ${expect.sha256}`,
    );
  }
  const weightsFile: ModelFile = { role: 'weights', weightsFile: manifest.weightsFile };
  const weightsWhere = source.where(weightsFile);
  let read: Uint8Array;
  try {
    read = yield weightsFile;
  } catch (err) {
    readFailure(weightsWhere, 'truncated', 'weights', err);
  }
  // `bytes.buffer` is exactly the file (callers hand it on as an ArrayBuffer): copied only when the
  // source gave a view into something larger (Node's pooled Buffers) or shared memory.
  const exact =
    read.buffer instanceof ArrayBuffer && read.byteOffset === 0 && read.byteLength === read.buffer.byteLength;
  const bytes = (exact ? read : new Uint8Array(read)) as Uint8Array<ArrayBuffer>;
  return { manifest, manifestText, bytes, tensors: decodeWeights(manifest, bytes, weightsWhere), weightsWhere };
}

/** Loads and checks a model from an asynchronous source; throws WeightsError naming the file at fault. */
export async function loadModelFiles(
  source: ModelByteSource<Promise<Uint8Array>>,
  expect: ModelExpectation = {},
): Promise<LoadedModelFiles> {
  const steps = loadSteps(source, expect);
  let next = steps.next();
  while (!next.done) {
    let bytes: Uint8Array;
    try {
      bytes = await source.read(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(bytes);
  }
  return next.value;
}

/** `loadModelFiles` for a synchronous source (a file system read without awaiting). */
export function loadModelFilesSync(
  source: ModelByteSource<Uint8Array>,
  expect: ModelExpectation = {},
): LoadedModelFiles {
  const steps = loadSteps(source, expect);
  let next = steps.next();
  while (!next.done) {
    let bytes: Uint8Array;
    try {
      bytes = source.read(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(bytes);
  }
  return next.value;
}

/**
 * A source for a model folder read through `readFile` (a folder on disk, a prefix of the static
 * assets): `manifest.json` and the manifest's weights file, both under `base`.
 */
export function folderSource<R extends Uint8Array | Promise<Uint8Array>>(
  base: string,
  readFile: (where: string) => R,
  join: (base: string, name: string) => string = (b, n) => `${b}${n}`,
): ModelByteSource<R> {
  const where = (f: ModelFile) => join(base, f.role === 'manifest' ? 'manifest.json' : f.weightsFile);
  return { where, read: (f) => readFile(where(f)) };
}
