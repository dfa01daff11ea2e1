/** The identity of a user's TF.js classifier: the content hash of its files and adapter. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { contentHash } from '../hash.js';
import type { Adapter } from './adapter.js';

/** sha256 of model.json's bytes followed by its weight shards in manifest order (the model's content). */
export function tfjsModelSha256(modelJsonBytes: Uint8Array, shards: readonly Uint8Array[]): string {
  const h = sha256.create();
  h.update(modelJsonBytes);
  for (const s of shards) h.update(s);
  return bytesToHex(h.digest());
}

/**
 * Identity of a user classifier: its model's content (`tfjsModelSha256`) and its adapter (parsed, so
 * defaults spelt out or left out give the same id). The same for the CLI and the edge API, and the
 * classifier's id in result cache keys.
 */
export function tfjsClassifierId(modelSha256: string, adapter: Adapter): string {
  return contentHash({ schema: 'faultlines.tfjs-classifier/1', model: modelSha256, adapter });
}
