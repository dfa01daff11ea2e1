/**
 * Registered classifiers (issue #9): users' own TF.js models (a LayersModel or GraphModel, as
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
import { AdapterSchema, type Adapter } from '../core/classifier/adapter.js';
import type { TfjsClassifier, TfjsModelFormat } from '../core/classifier/tfjs-model.js';
import type * as tf from '../core/tf.js';
import type { Env, R2Bucket } from './env.js';
import { ProblemError } from './problem.js';
import { ensureBackend } from './wasm/backend.js';
import { isolateCache, type KeepAlive } from './isolate-cache.js';

/** Bounds of a registration (uploads and URL fetches alike). */
export const UPLOAD_LIMITS = {
  /** A whole upload request (multipart framing included), and everything fetched for one URL registration. */
  bodyBytes: 16 * 1024 * 1024,
  /** model.json alone. */
  modelJsonBytes: 4 * 1024 * 1024,
  /** The adapter JSON. */
  adapterBytes: 64 * 1024,
  /** Weight shard files of one model. */
  shards: 64,
  /** Registered classifiers listed by GET /v1/models and /v1/classifiers. */
  listed: 1000,
} as const;

const RECORD_SCHEMA = 'faultlines.registered-classifier/1';

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
  /** Whether d(logits)/d(image) exists through every op (the gradient ranking needs it). */
  differentiable: boolean;
  nonDifferentiableOp: string | null;
  parameters: number;
  bytes: { modelJson: number; weights: number };
  shards: Array<{ path: string; bytes: number }>;
  adapter: Adapter;
  origin: { kind: 'upload' } | { kind: 'url'; url: string };
  registeredAt: string;
}

const modelKey = (id: string) => `classifiers/${id}/model.json`;
const weightsKey = (id: string) => `classifiers/${id}/weights.bin`;
const adapterKey = (id: string) => `classifiers/${id}/adapter.json`;
const recordKey = (id: string) => `records/${id}.json`;
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

const records = new Map<string, RegisteredRecord>();

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

/** Every registered classifier (at most UPLOAD_LIMITS.listed), oldest first. */
export async function listRecords(env: Env): Promise<RegisteredRecord[]> {
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
    (r): r is RegisteredRecord => r !== null,
  );
  return out.sort((a, b) => (a.registeredAt < b.registeredAt ? -1 : a.registeredAt > b.registeredAt ? 1 : 0));
}

/** The core's TF.js loader (tfjs-layers + tfjs-converter), imported when first needed. */
const tfjsModel = () => import('../core/classifier/tfjs-model.js');

/** A ModelFormatError from the core as a 422 naming the field at fault. */
async function asProblem(err: unknown): Promise<unknown> {
  const { ModelFormatError } = await tfjsModel();
  if (err instanceof ModelFormatError) return new ProblemError(422, 'model-refused', err.message, { field: err.field });
  return err;
}

/** The files of a registration, however they arrived. */
export interface RegistrationInput {
  modelJson: Uint8Array;
  /** Weight shards by the file name they came with (or their URL path relative to model.json). */
  shards: Map<string, Uint8Array>;
  adapter: unknown;
  displayName?: string;
  origin: RegisteredRecord['origin'];
}

/** Finds the shard a weightsManifest path names: the same path, or a unique file of the same base name (curl sends base names). */
function shardFor(path: string, shards: Map<string, Uint8Array>): Uint8Array | undefined {
  const exact = shards.get(path);
  if (exact) return exact;
  const base = path.split('/').pop()!;
  const matches = [...shards.keys()].filter((k) => k.split('/').pop() === base);
  return matches.length === 1 ? shards.get(matches[0]) : undefined;
}

function parseAdapterField(json: unknown): Adapter {
  const r = AdapterSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = ['adapter', ...issue.path.map(String)].join('.');
    throw new ProblemError(400, 'validation', `${field}: ${issue.message}`, { field });
  }
  return r.data;
}

/**
 * Checks a model and its adapter (model.json parses, every weightsManifest path is there with the
 * bytes it declares, the adapter fits the model's input and output and the generator's classes, a
 * forward pass runs, whether gradients flow) and stores it. Idempotent: content already registered
 * returns its record with `created: false`.
 */
export async function registerClassifier(
  env: Env,
  input: RegistrationInput,
  generatorClasses: number,
): Promise<{ record: RegisteredRecord; created: boolean }> {
  const r2 = bucket(env);
  const core = await tfjsModel();
  const adapter = parseAdapterField(input.adapter);
  if (adapter.classes.generatorToModel.length !== generatorClasses) {
    throw new ProblemError(
      422,
      'model-refused',
      `adapter.classes.generatorToModel maps ${adapter.classes.generatorToModel.length} classes; the generator has ${generatorClasses} (one model output per generator class, in the generator's order)`,
      { field: 'adapter.classes.generatorToModel' },
    );
  }
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = core.parseModelJson(input.modelJson, 'model.json');
  } catch (err) {
    throw await asProblem(err);
  }
  const paths = core.weightPaths(modelJson);
  if (paths.length > UPLOAD_LIMITS.shards)
    throw new ProblemError(
      422,
      'model-refused',
      `model.json names ${paths.length} weight shards; at most ${UPLOAD_LIMITS.shards}`,
      { field: 'model' },
    );
  const ordered: Uint8Array[] = [];
  for (const p of paths) {
    const s = shardFor(p, input.shards);
    if (s === undefined) {
      throw new ProblemError(
        400,
        'validation',
        `weights: model.json's weightsManifest names "${p}", which ${input.origin.kind === 'upload' ? `is not among the uploaded weight files (${[...input.shards.keys()].join(', ') || 'none'})` : 'could not be read'}`,
        { field: 'weights', missing: p },
      );
    }
    ordered.push(s);
  }
  const used = new Set(ordered);
  const extra = [...input.shards].filter(([, b]) => !used.has(b)).map(([k]) => k);
  if (extra.length > 0)
    throw new ProblemError(
      400,
      'validation',
      `weights: ${extra.join(', ')} ${extra.length > 1 ? 'are' : 'is'} not named by model.json's weightsManifest (${paths.join(', ') || 'no shards'})`,
      { field: 'weights' },
    );
  const sizes = new Map(paths.map((p, i) => [p, ordered[i].byteLength]));
  try {
    core.checkShardSizes(modelJson, (p) => sizes.get(p) ?? 0, 'model.json');
  } catch (err) {
    throw await asProblem(err);
  }

  const modelSha256 = core.tfjsModelSha256(input.modelJson, ordered);
  const id = core.tfjsClassifierId(modelSha256, adapter);
  const known = await getRecord(env, id);
  if (known) return { record: known, created: false };

  const total = ordered.reduce((a, b) => a + b.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const s of ordered) {
    weights.set(s, at);
    at += s.byteLength;
  }
  await ensureBackend();
  let classifier: TfjsClassifier;
  try {
    classifier = await core.TfjsClassifier.create(id, { modelJson, weightData: weights.buffer }, adapter, 'model.json');
  } catch (err) {
    throw await asProblem(err);
  }
  const check = classifier.check;
  const weightSpecs = (modelJson.weightsManifest ?? []).flatMap((g) => g.weights);
  const record: RegisteredRecord = {
    schema: RECORD_SCHEMA,
    id,
    displayName: input.displayName ?? `${check.format} ${id.slice(0, 8)}`,
    modelSha256,
    format: check.format,
    inputShape: check.inputShape,
    outputUnits: check.outputUnits,
    classes: adapter.classes.generatorToModel.map((m) => adapter.classes.names[m]),
    differentiable: check.differentiable,
    nonDifferentiableOp: check.nonDifferentiableOp,
    parameters: weightSpecs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0),
    bytes: { modelJson: input.modelJson.byteLength, weights: total },
    shards: paths.map((p) => ({ path: p, bytes: sizes.get(p)! })),
    adapter,
    origin: input.origin,
    registeredAt: new Date().toISOString(),
  };
  await Promise.all([
    r2.put(modelKey(id), input.modelJson, { httpMetadata: { contentType: 'application/json' } }),
    r2.put(weightsKey(id), weights, { httpMetadata: { contentType: 'application/octet-stream' } }),
    r2.put(adapterKey(id), JSON.stringify(adapter), { httpMetadata: { contentType: 'application/json' } }),
  ]);
  await r2.put(recordKey(id), JSON.stringify(record), { httpMetadata: { contentType: 'application/json' } });
  records.set(id, record);
  // The checked model serves this isolate's next requests.
  builds.set(id, Promise.resolve(classifier), total);
  return { record, created: true };
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
  const { tfjsModelSha256 } = await tfjsModel();
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

/**
 * Built registered classifiers of this isolate, least recently used first, bounded so that users'
 * models cannot exhaust the isolate's memory (their tensors live in the wasm heap, beside the
 * generator's). An evicted model is disposed once no request is in flight (`trackRequests`): a
 * request that got it before the eviction may still be computing with it.
 */
export const BUILT_LIMITS = { models: 4, weightBytes: 48 * 1024 * 1024 } as const;

const evicted: Array<Promise<TfjsClassifier>> = [];
/** Dropped models (evicted, or presumed lost and built again) wait in `evicted` for disposal. */
const builds = isolateCache<TfjsClassifier>({
  limit: { entries: BUILT_LIMITS.models, cost: BUILT_LIMITS.weightBytes },
  onDrop: (p) => evicted.push(p),
});
/** Start times of the requests in flight (a cancelled request may never run its `finally`: stale after REQUEST_STALE_MS). */
const active = new Map<number, number>();
let nextRequest = 0;
const REQUEST_STALE_MS = 60_000;

function disposeEvicted(): void {
  for (const p of evicted.splice(0))
    p.then(
      (m) => m.dispose(),
      () => undefined,
    );
}

/** Middleware bookkeeping: evicted models are disposed when the last request in flight ends. */
export async function trackRequests(next: () => Promise<void>): Promise<void> {
  const me = nextRequest++;
  active.set(me, Date.now());
  try {
    await next();
  } finally {
    active.delete(me);
    const now = Date.now();
    for (const [id, started] of active) if (now - started > REQUEST_STALE_MS) active.delete(id);
    if (active.size === 0 && evicted.length > 0) disposeEvicted();
  }
}

/** Built registered classifiers in this isolate (tests, health). */
export function builtRegistered(): { models: number; weightBytes: number; awaitingDisposal: number } {
  return {
    models: builds.size,
    weightBytes: builds.cost,
    awaitingDisposal: evicted.length,
  };
}

/** The registered classifier, built once per isolate (while it stays among the recently used) from its verified stored files. */
export function registeredClassifier(
  env: Env,
  record: RegisteredRecord,
  keepAlive?: KeepAlive,
): Promise<TfjsClassifier> {
  return builds.get(
    record.id,
    async () => {
      const { modelJson, weights, adapter } = await storedFiles(env, record);
      const core = await tfjsModel();
      await ensureBackend();
      try {
        const weightData = weights.buffer.slice(
          weights.byteOffset,
          weights.byteOffset + weights.byteLength,
        ) as ArrayBuffer;
        return await core.TfjsClassifier.create(
          record.id,
          { modelJson: core.parseModelJson(modelJson, 'model.json'), weightData },
          adapter,
          `classifier ${record.id}`,
        );
      } catch (err) {
        throw new ProblemError(
          503,
          'weights-refused',
          `classifier ${record.id} could not be built: ${(err as Error).message}`,
          { model: record.id },
        );
      }
    },
    { cost: record.bytes.weights, keepAlive },
  );
}

// ---------------------------------------------------------------------------------------------
// Registration from a URL: only under the operator's allow-list (MODEL_URL_ALLOWLIST).

/** The operator's allowed URL prefixes (MODEL_URL_ALLOWLIST: space- or comma-separated). */
function allowList(env: Env): string[] {
  return (env.MODEL_URL_ALLOWLIST ?? '')
    .split(/[\s,]+/)
    .filter((p) => p.length > 0)
    .flatMap((p) => {
      try {
        const u = new URL(p);
        return u.protocol === 'https:' || u.protocol === 'http:' ? [u.href] : [];
      } catch {
        return [];
      }
    });
}

/**
 * Whether `href` (normalised, so `..` cannot climb out) lies under an allowed prefix. A prefix
 * matches at a path boundary only: `https://host/models` allows `https://host/models/x.json`,
 * not `https://host/models-evil/x.json` nor `https://host/modelsx`.
 */
function urlAllowed(href: string, prefixes: string[]): boolean {
  return prefixes.some(
    (p) => href.startsWith(p) && (p.endsWith('/') || href.length === p.length || '/?#'.includes(href[p.length])),
  );
}

async function readCapped(res: Response, cap: number, what: string, used: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooLarge = () =>
    new ProblemError(
      413,
      'body-too-large',
      `${what} exceeds the registration limit of ${UPLOAD_LIMITS.bodyBytes} bytes in all (model.json at most ${UPLOAD_LIMITS.modelJsonBytes})`,
      { field: 'url', limit: UPLOAD_LIMITS.bodyBytes },
    );
  if (Number.isFinite(declared) && (declared > cap || used + declared > UPLOAD_LIMITS.bodyBytes)) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const reader = res.body?.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > cap || used + n > UPLOAD_LIMITS.bodyBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      parts.push(value);
    }
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function fetchAllowed(
  href: string,
  prefixes: string[],
  cap: number,
  used: number,
  what: string,
): Promise<Uint8Array> {
  if (!urlAllowed(href, prefixes)) {
    throw new ProblemError(
      403,
      'forbidden',
      `${what} ${href} is not under an operator-allowed prefix (MODEL_URL_ALLOWLIST)`,
      { field: 'url', url: href },
    );
  }
  let res: Response;
  try {
    // Redirects are not followed: the target could lie outside the allow-list.
    res = await fetch(href, { redirect: 'manual', headers: { accept: 'application/json, application/octet-stream' } });
  } catch (err) {
    throw new ProblemError(422, 'model-refused', `${what} ${href} could not be fetched: ${(err as Error).message}`, {
      field: 'url',
      url: href,
    });
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new ProblemError(
      422,
      'model-refused',
      `${what} ${href} answered a redirect (HTTP ${res.status} to ${res.headers.get('location') ?? '?'}); redirects are not followed: register the final URL`,
      { field: 'url', url: href },
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ProblemError(422, 'model-refused', `${what} ${href} answered HTTP ${res.status}`, {
      field: 'url',
      url: href,
    });
  }
  return readCapped(res, cap, `${what} ${href}`, used);
}

/** Fetches model.json and its shards (resolved against model.json's URL, each checked against the allow-list). */
export async function fetchFromUrl(env: Env, url: string): Promise<Pick<RegistrationInput, 'modelJson' | 'shards'>> {
  const prefixes = allowList(env);
  if (prefixes.length === 0) {
    throw new ProblemError(
      403,
      'forbidden',
      'registration from URLs is disabled: the operator has allowed no URL prefixes (MODEL_URL_ALLOWLIST)',
      { field: 'url' },
    );
  }
  let href: string;
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('only http and https');
    if (u.username || u.password) throw new Error('no credentials in URLs');
    u.hash = '';
    href = u.href;
  } catch (err) {
    throw new ProblemError(400, 'validation', `url: not an http(s) URL of a model.json (${(err as Error).message})`, {
      field: 'url',
    });
  }
  const modelJson = await fetchAllowed(href, prefixes, UPLOAD_LIMITS.modelJsonBytes, 0, 'model.json at');
  let paths: string[];
  try {
    const core = await tfjsModel();
    paths = core.weightPaths(core.parseModelJson(modelJson, href));
  } catch (err) {
    throw await asProblem(err);
  }
  if (paths.length > UPLOAD_LIMITS.shards)
    throw new ProblemError(
      422,
      'model-refused',
      `model.json names ${paths.length} weight shards; at most ${UPLOAD_LIMITS.shards}`,
      { field: 'model' },
    );
  const shards = new Map<string, Uint8Array>();
  let used = modelJson.byteLength;
  for (const p of paths) {
    const shardUrl = new URL(p, href);
    shardUrl.hash = '';
    const bytes = await fetchAllowed(shardUrl.href, prefixes, UPLOAD_LIMITS.bodyBytes, used, `weight shard "${p}" at`);
    used += bytes.byteLength;
    shards.set(p, bytes);
  }
  return { modelJson, shards };
}
