/**
 * Registering a classifier: checks a user's TF.js model and its adapter (model.json parses, every
 * weightsManifest path is there with the bytes it declares, the adapter fits the model's input and
 * output and its domain's images and classes, a forward pass runs, whether gradients flow) and stores
 * it under its content hash (records.ts), with its domain.
 */
import { AdapterSchema, type Adapter } from '../../core/classifier/adapter.js';
import { tfjsClassifierId, tfjsModelSha256 } from '../../core/classifier/tfjs-classifier-id.js';
import type { TfjsClassifier } from '../../core/classifier/tfjs-model.js';
import { checkShardSizes, parseModelJson, weightPaths } from '../../core/classifier/tfjs-model-json.js';
import type * as tf from '../../core/tf.js';
import type { Env } from '../env.js';
import { ProblemError } from '../problem.js';
import type { edgeSanityCheck } from '../sanity.js';
import { liveCompute } from '../isolate-models.js';
import { forgetBuilt, rememberBuilt, tfjsClassifier } from './built.js';
import { UPLOAD_LIMITS } from './limits.js';
import { modelRefused } from './model-refused.js';
import {
  RECORD_SCHEMA,
  adapterKey,
  bucket,
  forgetRecord,
  getRecord,
  modelKey,
  recordKey,
  rememberRecord,
  weightsKey,
  recordDomain,
  type RegisteredRecord,
} from './records.js';
import { DEFAULT_DOMAIN, type DomainDescriptor } from '../../core/data/domain.js';

/** The files of a registration, however they arrived. */
export interface RegistrationInput {
  modelJson: Uint8Array;
  /** Weight shards by the file name they came with (or their URL path relative to model.json). */
  shards: Map<string, Uint8Array>;
  adapter: unknown;
  displayName?: string;
  origin: RegisteredRecord['origin'];
  /** The domain the request named (a checked name; absent: not given). */
  domain?: string;
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
 * The adapter against the domain's images and classes: one model output per class of the domain, in
 * its order, and a colour domain's RGB images taken as such (a grey domain's image may be repeated
 * into 3 channels). 422 naming the adapter field that disagrees.
 */
function checkAgainstDomain(adapter: Adapter, domain: DomainDescriptor): void {
  const k = domain.classNames.length;
  if (adapter.classes.generatorToModel.length !== k)
    throw new ProblemError(
      422,
      'model-refused',
      `adapter.classes.generatorToModel maps ${adapter.classes.generatorToModel.length} classes; domain ` +
        `${domain.name} has ${k} (${domain.classNames.join(', ')}): one model output per class, in that order`,
      { field: 'adapter.classes.generatorToModel', domain: domain.name },
    );
  if (domain.image.channels === 3 && adapter.input.channels !== 3)
    throw new ProblemError(
      422,
      'model-refused',
      `adapter.input.channels is ${adapter.input.channels}; domain ${domain.name} has RGB images ` +
        `(${domain.image.size}x${domain.image.size}x3), which a classifier of it takes as 3 channels`,
      { field: 'adapter.input.channels', domain: domain.name },
    );
}

/** model.json parsed, and the weight shards it names (at most UPLOAD_LIMITS.shards); 422 naming the field otherwise. */
export function checkedModelJson(bytes: Uint8Array, source: string): { modelJson: tf.io.ModelJSON; paths: string[] } {
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = parseModelJson(bytes, source);
  } catch (err) {
    throw modelRefused(err);
  }
  const paths = weightPaths(modelJson);
  if (paths.length > UPLOAD_LIMITS.shards)
    throw new ProblemError(
      422,
      'model-refused',
      `model.json names ${paths.length} weight shards; at most ${UPLOAD_LIMITS.shards}`,
      { field: 'model' },
    );
  return { modelJson, paths };
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
  domain: DomainDescriptor,
): Promise<{ record: RegisteredRecord; created: boolean }> {
  const r2 = bucket(env);
  const adapter = parseAdapterField(input.adapter);
  checkAgainstDomain(adapter, domain);
  const { modelJson, paths } = checkedModelJson(input.modelJson, 'model.json');
  const ordered: Uint8Array[] = [];
  for (const p of paths) {
    const s = shardFor(p, input.shards);
    if (s === undefined) {
      throw new ProblemError(
        400,
        'validation',
        `weights: model.json's weightsManifest names "${p}", which ` +
          `${
            input.origin.kind === 'upload'
              ? `is not among the uploaded weight ` + `files (${[...input.shards.keys()].join(', ') || 'none'})`
              : 'could not be read'
          }`,
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
    checkShardSizes(modelJson, (p) => sizes.get(p) ?? 0, 'model.json');
  } catch (err) {
    throw modelRefused(err);
  }

  const modelSha256 = tfjsModelSha256(input.modelJson, ordered);
  const id = tfjsClassifierId(modelSha256, adapter);
  const known = await getRecord(env, id);
  if (known && recordDomain(known) !== domain.name)
    // One id, one domain: its results are keyed by the id and computed with the domain's generator.
    throw new ProblemError(
      409,
      'conflict',
      `this model and adapter are registered already, for domain "${recordDomain(known)}", not "${domain.name}" ` +
        `(classifier ${id}); use it with ?domain=${recordDomain(known)}`,
      { field: 'domain', classifierDomain: recordDomain(known) },
    );
  if (known) return { record: known, created: false };

  const total = ordered.reduce((a, b) => a + b.byteLength, 0);
  const weights = new Uint8Array(total);
  let at = 0;
  for (const s of ordered) {
    weights.set(s, at);
    at += s.byteLength;
  }
  const { TfjsClassifier } = await tfjsClassifier();
  const compute = await liveCompute();
  await compute.ensureBackend();
  let classifier: TfjsClassifier;
  try {
    classifier = await TfjsClassifier.create(id, { modelJson, weightData: weights.buffer }, adapter, 'model.json');
  } catch (err) {
    throw modelRefused(err);
  }
  const check = classifier.check;
  let sanity: Awaited<ReturnType<typeof edgeSanityCheck>>;
  try {
    sanity = await compute.edgeSanityCheck(env, classifier, domain.name);
  } catch (err) {
    classifier.dispose();
    throw err;
  }
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
    ...(domain.name === DEFAULT_DOMAIN ? {} : { domain: domain.name }),
    differentiable: check.differentiable,
    nonDifferentiableOp: check.nonDifferentiableOp,
    parameters: weightSpecs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0),
    bytes: { modelJson: input.modelJson.byteLength, weights: total },
    shards: paths.map((p) => ({ path: p, bytes: sizes.get(p)! })),
    adapter,
    sanityCheck: sanity.check,
    ...(sanity.skipped ? { sanityCheckSkipped: sanity.skipped } : {}),
    origin: input.origin,
    registeredAt: new Date().toISOString(),
  };
  await Promise.all([
    r2.put(modelKey(id), input.modelJson, { httpMetadata: { contentType: 'application/json' } }),
    r2.put(weightsKey(id), weights, { httpMetadata: { contentType: 'application/octet-stream' } }),
    r2.put(adapterKey(id), JSON.stringify(adapter), { httpMetadata: { contentType: 'application/json' } }),
  ]);
  await r2.put(recordKey(id), JSON.stringify(record), { httpMetadata: { contentType: 'application/json' } });
  rememberRecord(record);
  // The checked model serves this isolate's next requests.
  rememberBuilt(id, classifier, total);
  return { record, created: true };
}

/**
 * Removes a registered classifier: its record first (from then on it does not exist: registration
 * writes the record last, deletion removes it first, so no half-registered state is ever visible),
 * then its files, and this isolate's cached record and built model (disposed once no request is in
 * flight). Idempotent; returns whether it was registered. Other isolates drop their cached record
 * when they are recycled; until then a use of it finds its files gone (503 `weights-refused`).
 */
export async function deleteClassifier(env: Env, id: string): Promise<boolean> {
  const r2 = bucket(env);
  const existed = (await r2.get(recordKey(id))) !== null;
  await r2.delete(recordKey(id));
  await r2.delete([modelKey(id), weightsKey(id), adapterKey(id)]);
  forgetRecord(id);
  forgetBuilt(id);
  return existed;
}
