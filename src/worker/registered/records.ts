/**
 * Registered classifiers' storage (issue #9): users' own TF.js models (a LayersModel or GraphModel, as
 * `model.save` or `tensorflowjs_converter` write them) with their input adapter, uploaded to the
 * edge or fetched from an operator-allowed URL, checked at registration and stored in R2 under their
 * content hash:
 *
 *   classifiers/<id>/model.json    model.json, byte for byte as uploaded
 *   classifiers/<id>/weights.bin   the weight shards concatenated in weightsManifest order
 *   classifiers/<id>/adapter.json  the adapter, parsed (defaults spelt out)
 *   records/<id>.json              what registration found (format, shapes, differentiability, sizes);
 *                                  written last, so a classifier exists once its record does
 *
 * The id is `tfjsClassifierId(sha256(model.json ‖ shards), adapter)`: the same content always gets
 * the same id (registration is idempotent), the CLI computes the same id for the same folder and
 * adapter, and results are cached under it like under a built-in classifier's weights sha256.
 * Loading re-checks the stored bytes against the record's sha256 (a changed object is refused, never
 * used).
 */
import type { Adapter } from '../../core/classifier/adapter.js';
import type { AdapterSanityCheck } from '../../core/classifier/sanity-check.js';
import { tfjsModelSha256 } from '../../core/classifier/tfjs-classifier-id.js';
import type { TfjsModelFormat } from '../../core/classifier/tfjs-model-json.js';
import type { Env, R2Bucket } from '../env.js';
import { ProblemError } from '../problem.js';
import { UPLOAD_LIMITS } from './limits.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';

export const RECORD_SCHEMA = 'faultlines.registered-classifier/1';

/** What registration found out about a classifier (public: served by the model listings). */
export interface RegisteredRecord {
  schema: typeof RECORD_SCHEMA;
  /** Content hash of the model and its adapter: the classifier's name in every API call. */
  id: string;
  /** The submitter's label (not unique; the id is). */
  displayName: string;
  /** sha256 of model.json followed by its shards in manifest order (the CLI's model hash). */
  modelSha256: string;
  format: TfjsModelFormat;
  /** The model's input shape (null: any batch size). */
  inputShape: Array<number | null>;
  outputUnits: number;
  /** Classes in the generator's order, named by the adapter. */
  classes: string[];
  /**
   * The domain it classifies (src/core/data/domain.ts), checked at registration against its input
   * and classes; its analyses and jobs use that domain's generator. Absent (records written before
   * domains): the default one.
   */
  domain?: string;
  /** Whether d(logits)/d(image) exists through every op (the gradient ranking needs it). */
  differentiable: boolean;
  nonDifferentiableOp: string | null;
  parameters: number;
  bytes: { modelJson: number; weights: number };
  shards: Array<{ path: string; bytes: number }>;
  adapter: Adapter;
  /**
   * The adapter on the edge's sample of real test images (accuracy clean and corrupted, and whether
   * it is plausible); null when skipped (`sanityCheckSkipped` says why). Absent in records written
   * before the check existed.
   */
  sanityCheck?: AdapterSanityCheck | null;
  sanityCheckSkipped?: string;
  origin: { kind: 'upload' } | { kind: 'url'; url: string };
  registeredAt: string;
}

export const modelKey = (id: string) => `classifiers/${id}/model.json`;
export const weightsKey = (id: string) => `classifiers/${id}/weights.bin`;
export const adapterKey = (id: string) => `classifiers/${id}/adapter.json`;
export const recordKey = (id: string) => `records/${id}.json`;
const RECORD_PREFIX = 'records/';

/** Registered ids are 64-hex content hashes (built-in names are words). */
export const isRegisteredId = (name: string) => /^[0-9a-f]{64}$/.test(name);

export function bucket(env: Env): R2Bucket {
  if (!env.CLASSIFIERS)
    throw new ProblemError(
      503,
      'unavailable',
      'registered classifiers are unavailable: the worker has no R2 bucket bound as CLASSIFIERS (see wrangler.toml)',
    );
  return env.CLASSIFIERS;
}

/** Records are immutable: cached per isolate once found. */
const records = new Map<string, RegisteredRecord>();

/** Caches a record just written (registration). */
export function rememberRecord(record: RegisteredRecord): void {
  records.set(record.id, record);
}

/** Drops a deleted classifier's record from this isolate's cache. */
export function forgetRecord(id: string): void {
  records.delete(id);
}

/** The record of a registered classifier, or null (records are immutable: cached per isolate once found). */
export async function getRecord(env: Env, id: string): Promise<RegisteredRecord | null> {
  if (!isRegisteredId(id) || !env.CLASSIFIERS) return null;
  const hit = records.get(id);
  if (hit) return hit;
  const obj = await env.CLASSIFIERS.get(recordKey(id));
  if (obj === null) return null;
  const record = JSON.parse(await obj.text()) as RegisteredRecord;
  records.set(id, record);
  return record;
}

/** The domain a registered classifier is for (records written before domains: the default one). */
export const recordDomain = (r: Pick<RegisteredRecord, 'domain'>): string => r.domain ?? DEFAULT_DOMAIN;

/** Every registered classifier (at most UPLOAD_LIMITS.listed), oldest first; of `domain` only when given. */
export async function listRecords(env: Env, domain?: string): Promise<RegisteredRecord[]> {
  if (!env.CLASSIFIERS) return [];
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.CLASSIFIERS.list({ prefix: RECORD_PREFIX, cursor, limit: 1000 });
    for (const o of page.objects) {
      const id = o.key.slice(RECORD_PREFIX.length, -'.json'.length);
      if (isRegisteredId(id)) ids.push(id);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined && ids.length < UPLOAD_LIMITS.listed);
  const out = (await Promise.all(ids.slice(0, UPLOAD_LIMITS.listed).map((id) => getRecord(env, id)))).filter(
    (r): r is RegisteredRecord => r !== null && (domain === undefined || recordDomain(r) === domain),
  );
  return out.sort((a, b) => (a.registeredAt < b.registeredAt ? -1 : a.registeredAt > b.registeredAt ? 1 : 0));
}

/** The stored files of a registered classifier, checked against its record's sha256. */
export async function storedFiles(
  env: Env,
  record: RegisteredRecord,
): Promise<{ modelJson: Uint8Array; weights: Uint8Array; adapter: Adapter }> {
  const r2 = bucket(env);
  const [m, w] = await Promise.all([r2.get(modelKey(record.id)), r2.get(weightsKey(record.id))]);
  if (m === null || w === null)
    throw new ProblemError(
      503,
      'weights-refused',
      `classifier ${record.id}: its ${m === null ? 'model.json' : 'weights'} is missing from storage`,
      { model: record.id, problem: 'missing' },
    );
  const modelJson = new Uint8Array(await m.arrayBuffer());
  const weights = new Uint8Array(await w.arrayBuffer());
  const sha = tfjsModelSha256(modelJson, [weights]);
  if (sha !== record.modelSha256) {
    throw new ProblemError(
      503,
      'weights-refused',
      `classifier ${record.id}: stored model has sha256 ${sha}, registered as ${record.modelSha256}; refused`,
      { model: record.id, problem: 'checksum' },
    );
  }
  return { modelJson, weights, adapter: record.adapter };
}
