/**
 * The models of this isolate as the catalog names them: the catalog, each domain's entries, the
 * registered classifiers, and each model's weights fetched from the static assets and
 * checksum-verified with the core codec (a bad checksum is refused, never used). Building them
 * needs tfjs, so that lives in the live-compute chunk (live-models.ts), loaded by `liveCompute()`
 * on the first live call: a cached answer never parses tfjs or compiles its wasm.
 */
import type { RegisteredClassifier } from '../protocol/worker-replies.js';
import { folderSource, loadModelFiles } from '../core/loading/model-files.js';
import { WeightsError } from '../core/weights/codec.js';
import {
  CATALOG_PATH,
  CATALOG_SCHEMA,
  catalogDomain,
  catalogDomains,
  generatorId,
  type Catalog,
  type CatalogDomain,
  type CatalogModel,
} from '../protocol/catalog.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';
import type { Env } from './env.js';
import { isolateCache, type KeepAlive } from './isolate-cache.js';
import { ProblemError } from './problem.js';
import { getRecord, isRegisteredId, recordDomain, type RegisteredRecord } from './registered/records.js';
import { fetchAsset } from './static-assets.js';
import { recordPhase, timed, timingPhases } from './server-timing.js';

export type { KeepAlive };

const catalogs = isolateCache<Catalog>();

/** The catalog written by the asset build (cached per isolate; a failed read is retried). */
export function getCatalog(env: Env, keepAlive?: KeepAlive): Promise<Catalog> {
  return catalogs.get(
    'catalog',
    async () => {
      const res = await fetchAsset(env, CATALOG_PATH);
      if (!res.ok)
        throw new ProblemError(
          503,
          'unavailable',
          'the model catalog is missing from the static assets (run `npm run build:edge`)',
        );
      const catalog = (await res.json()) as Catalog;
      if (catalog.schema !== CATALOG_SCHEMA)
        throw new ProblemError(503, 'unavailable', `catalog schema "${catalog.schema}" is not ${CATALOG_SCHEMA}`);
      return catalog;
    },
    { keepAlive },
  );
}

/**
 * The catalog's models of `domain` (a name the request schemas already checked against the
 * descriptors): a domain the build packaged no weights of has none.
 */
export function domainModels(catalog: Catalog, domain: string): CatalogDomain {
  return catalogDomain(catalog, domain) ?? { name: domain, generator: null, classifiers: [], defaultClassifier: null };
}

/**
 * The generator entry of `domain`: the default domain's may be null (the seeded random-init
 * placeholder stands in, as before domains); another domain without one is a 409 naming the
 * domain, never a placeholder of the wrong images.
 */
export function domainGenerator(catalog: Catalog, domain: string): CatalogModel | null {
  if (domain === (catalog.domain ?? DEFAULT_DOMAIN)) return catalog.generator;
  const g = domainModels(catalog, domain).generator;
  if (g === null)
    throw new ProblemError(
      409,
      'generator-missing',
      `domain "${domain}" has no generator yet (its classifiers are listed in GET /v1/domains); generator endpoints need one`,
      { field: 'domain', domain, missing: 'generator' },
    );
  return g;
}

/** The id of `domain`'s generator in result keys (409 without one, as `domainGenerator`). */
export function domainGeneratorId(catalog: Catalog, domain: string): string {
  return generatorId({ generator: domainGenerator(catalog, domain) });
}

/** Public description of a model (no tensors). */
export interface ModelInfo {
  name: string;
  kind: 'generator' | 'classifier';
  id: string;
  label: string;
  source: CatalogModel['source'] | 'random-init' | 'registered';
  byteLength: number;
  sha256: string | null;
  architecture: Record<string, unknown>;
  provenance: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Registered classifiers: the submitter's label, and whether gradients flow through the model. */
  displayName?: string;
  differentiable?: boolean;
  nonDifferentiableOp?: string | null;
  /** Registered classifiers: the adapter's check on real test images (registered/registration.ts). */
  sanityCheck?: RegisteredRecord['sanityCheck'];
  sanityCheckSkipped?: string;
}

/**
 * A catalog model's files from the static assets, checked against the catalog's sha256. Server-Timing:
 * the reads are `asset-fetch`, the rest of the load (parse, checksum, decode) `weight-verify`.
 */
export async function loadWeights(env: Env, entry: Pick<CatalogModel, 'path' | 'sha256'>) {
  let fetchMs = 0;
  const assets = folderSource(entry.path, async (where) => {
    const t0 = performance.now();
    try {
      const res = await fetchAsset(env, where);
      if (!res.ok) throw new Error(`missing from the assets (HTTP ${res.status})`);
      return new Uint8Array(await res.arrayBuffer());
    } finally {
      fetchMs += performance.now() - t0;
    }
  });
  if (!timingPhases()) return loadModelFiles(assets, { sha256: entry.sha256, sha256Of: "the catalog's" });
  const t0 = performance.now();
  try {
    return await loadModelFiles(assets, { sha256: entry.sha256, sha256Of: "the catalog's" });
  } finally {
    recordPhase('asset-fetch', fetchMs);
    recordPhase('weight-verify', performance.now() - t0 - fetchMs);
  }
}

/**
 * A model's manifest and weights as the assets hold them now, after the checks of a load (the
 * manifest's sha256 is the catalog's; the bytes have that sha256, the manifest's length and every
 * tensor): what runners are served. Read and checked on every call, so a file corrupted on disk
 * is refused (503 weights-refused naming the model and the problem), never handed out, and served
 * again once repaired.
 */
export async function verifiedModelFiles(
  env: Env,
  entry: Pick<CatalogModel, 'name' | 'path' | 'sha256'>,
): Promise<{ manifest: string; weights: Uint8Array<ArrayBuffer> }> {
  try {
    const { manifestText, bytes } = await loadWeights(env, entry);
    return { manifest: manifestText, weights: bytes };
  } catch (e) {
    throw refused(entry.name, e);
  }
}

export function refused(name: string, e: unknown): ProblemError {
  if (e instanceof WeightsError) {
    return new ProblemError(503, 'weights-refused', `weights of model "${name}" refused: ${e.message}`, {
      model: name,
      problem: e.problem,
    });
  }
  if (e instanceof ProblemError) return e;
  return new ProblemError(503, 'weights-refused', `model "${name}" could not be built: ${(e as Error).message}`, {
    model: name,
  });
}

/** A registered classifier (src/worker/registered/) where a catalog entry would be: its id is its name. */
interface RegisteredEntry {
  name: string;
  kind: 'classifier';
  sha256: string;
  label: string;
  source: 'registered';
  record: RegisteredRecord;
}

export type ClassifierEntry = CatalogModel | RegisteredEntry;

function registeredLabel(r: RegisteredRecord): string {
  return `${r.displayName} (registered TF.js ${r.format}${r.differentiable ? '' : `; not differentiable: no gradient for ${r.nonDifferentiableOp}`})`;
}

/**
 * What the model listings say about a registered classifier, from its registration record (the
 * model is built on first use); typed by the protocol's schema, so a wrong shape does not compile.
 */
export function registeredInfo(r: RegisteredRecord): RegisteredClassifier {
  return {
    name: r.id,
    kind: 'classifier',
    id: r.id,
    label: registeredLabel(r),
    source: 'registered',
    status: 'registered',
    byteLength: r.bytes.weights,
    sha256: r.modelSha256,
    architecture: {
      format: r.format,
      inputShape: r.inputShape,
      outputUnits: r.outputUnits,
      parameters: r.parameters,
      classes: r.classes,
      adapter: r.adapter,
    },
    provenance: { origin: r.origin, registeredAt: r.registeredAt, shards: r.shards, modelJsonBytes: r.bytes.modelJson },
    metrics: {},
    displayName: r.displayName,
    differentiable: r.differentiable,
    nonDifferentiableOp: r.nonDifferentiableOp,
    domain: recordDomain(r),
    sanityCheck: r.sanityCheck ?? null,
    ...(r.sanityCheckSkipped ? { sanityCheckSkipped: r.sanityCheckSkipped } : {}),
  };
}

/**
 * Resolves a classifier name (default: the catalog's) to its entry: a built-in classifier's name,
 * or a registered classifier's id. 404 when unknown.
 */
export async function classifierEntry(
  env: Env,
  name: string | undefined,
  domain: string = DEFAULT_DOMAIN,
): Promise<ClassifierEntry> {
  const catalog = await getCatalog(env);
  const models = domainModels(catalog, domain);
  const wanted = name ?? models.defaultClassifier;
  const entry = models.classifiers.find((c) => c.name === wanted);
  if (entry === undefined) {
    const record = wanted !== null && isRegisteredId(wanted) ? await getRecord(env, wanted) : null;
    // A registered classifier is of the domain it was registered for (checked then against its adapter).
    if (record && recordDomain(record) !== domain)
      throw new ProblemError(
        400,
        'validation',
        `registered classifier "${wanted}" is for domain "${recordDomain(record)}", not "${domain}"; ` +
          `use ?domain=${recordDomain(record)}`,
        { field: 'domain', classifierDomain: recordDomain(record) },
      );
    const elsewhere = catalogDomains(catalog).find((d) => d.classifiers.some((c) => c.name === wanted));
    if (elsewhere)
      throw new ProblemError(
        400,
        'validation',
        `classifier "${wanted}" is for domain "${elsewhere.name}", not "${domain}"; use ?domain=${elsewhere.name}`,
        { field: 'domain', classifierDomain: elsewhere.name },
      );
    if (record)
      return {
        name: record.id,
        kind: 'classifier',
        sha256: record.id,
        label: registeredLabel(record),
        source: 'registered',
        record,
      };
    throw new ProblemError(
      404,
      'not-found',
      `no classifier "${wanted}" in domain "${domain}"; ` +
        `available: ${models.classifiers.map((c) => c.name).join(', ') || 'none'}` +
        (domain === DEFAULT_DOMAIN
          ? ', or the id of a registered classifier (GET /v1/classifiers)'
          : `, or the id of a classifier registered for it (GET /v1/classifiers?domain=${domain})`),
      { field: 'classifier' },
    );
  }
  return entry;
}

type LiveCompute = typeof import('./live-compute.js');
let compute: Promise<LiveCompute> | null = null;
let loaded: LiveCompute | null = null;

/**
 * The live-compute chunk (tfjs, its wasm backend, the models, the analyses), imported once per
 * isolate on the first call that computes (Server-Timing `code-load`); a failed import is retried.
 */
export function liveCompute(): Promise<LiveCompute> {
  compute ??= timed('code-load', () => import('./live-compute.js')).then(
    (m) => (loaded = m),
    (e) => {
      compute = null;
      throw e;
    },
  );
  return compute;
}

/** The live-compute chunk if this isolate has loaded it, else null (the health check does not load it). */
export function loadedLiveCompute(): LiveCompute | null {
  return loaded;
}
