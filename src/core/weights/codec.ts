import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { WEIGHTS_FORMAT, WeightsManifestSchema, type TensorEntry, type WeightsManifest } from './manifest.js';

/** A weights file that must not be used, with the file and the problem named. */
export class WeightsError extends Error {
  constructor(
    /** The file (or URL, or asset key) at fault. */
    readonly file: string,
    /** Short machine-readable problem. */
    readonly problem:
      | 'invalid-manifest'
      | 'truncated'
      | 'oversized'
      | 'checksum'
      | 'missing-tensor'
      | 'shape-mismatch'
      | 'bad-layout',
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'WeightsError';
  }
}

/** One decoded tensor: row-major values and shape. */
export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

export type HostTensorMap = Map<string, HostTensor>;

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parses and validates a manifest object (from JSON). */
export function parseManifest(json: unknown, file: string): WeightsManifest {
  const parsed = WeightsManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WeightsError(file, 'invalid-manifest', `invalid manifest at "${issue.path.join('.')}": ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Decodes a weights binary against its manifest. Checks, in order: the byte length (truncated or
 * oversized file), the sha256, and that every tensor lies inside the file with a byte length that
 * matches its shape. Never returns partially valid weights.
 */
export function decodeWeights(
  manifest: WeightsManifest,
  bytes: Uint8Array,
  file: string = manifest.weightsFile,
): HostTensorMap {
  if (bytes.byteLength < manifest.byteLength) {
    throw new WeightsError(
      file,
      'truncated',
      `truncated weights file: ${bytes.byteLength} bytes, manifest says ${manifest.byteLength}`,
    );
  }
  if (bytes.byteLength > manifest.byteLength) {
    throw new WeightsError(
      file,
      'oversized',
      `weights file has ${bytes.byteLength} bytes, manifest says ${manifest.byteLength}`,
    );
  }
  const digest = sha256Hex(bytes);
  if (digest !== manifest.sha256) {
    throw new WeightsError(
      file,
      'checksum',
      `wrong checksum: sha256 ${digest}, manifest says ${manifest.sha256} (file corrupted or from another model)`,
    );
  }
  const out: HostTensorMap = new Map();
  for (const t of manifest.tensors) {
    const expectedBytes = count(t.shape) * 4;
    if (t.byteLength !== expectedBytes || t.offset % 4 !== 0 || t.offset + t.byteLength > bytes.byteLength) {
      throw new WeightsError(file, 'bad-layout', `tensor "${t.name}" does not fit the file layout`);
    }
    if (out.has(t.name)) throw new WeightsError(file, 'bad-layout', `tensor "${t.name}" listed twice`);
    // Copy: the values must be aligned and independent of the caller's buffer.
    const values = new Float32Array(count(t.shape));
    new Uint8Array(values.buffer).set(bytes.subarray(t.offset, t.offset + t.byteLength));
    out.set(t.name, { shape: [...t.shape], values });
  }
  return out;
}

/** Checks that `tensors` holds exactly the expected names with the expected shapes. */
export function checkTensorShapes(
  tensors: HostTensorMap,
  expected: ReadonlyMap<string, readonly number[]>,
  file: string,
): void {
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (t === undefined) throw new WeightsError(file, 'missing-tensor', `missing tensor "${name}"`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsError(
        file,
        'shape-mismatch',
        `tensor "${name}" has shape [${t.shape}], the model expects [${shape}]`,
      );
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) {
      throw new WeightsError(file, 'bad-layout', `unexpected tensor "${name}" (not part of the model)`);
    }
  }
}

/** Everything of a manifest except what encoding computes. */
export type ManifestInfo = Omit<WeightsManifest, 'format' | 'byteLength' | 'sha256' | 'tensors'>;

/** Encodes named tensors into one little-endian float32 binary and its manifest. */
export function encodeWeights(
  info: ManifestInfo,
  tensors: ReadonlyArray<readonly [string, HostTensor]>,
): { manifest: WeightsManifest; bytes: Uint8Array } {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const byteLength = count(t.shape) * 4;
    if (t.values.length * 4 !== byteLength) throw new Error(`tensor "${name}": values do not match shape`);
    entries.push({ name, shape: [...t.shape], dtype: 'float32', offset, byteLength });
    offset += byteLength;
  }
  const bytes = new Uint8Array(offset);
  for (let i = 0; i < entries.length; i++) {
    const v = tensors[i][1].values;
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), entries[i].offset);
  }
  const manifest: WeightsManifest = {
    format: WEIGHTS_FORMAT,
    ...info,
    byteLength: bytes.byteLength,
    sha256: sha256Hex(bytes),
    tensors: entries,
  };
  return { manifest, bytes };
}
