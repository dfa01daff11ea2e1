/**
 * The models built in this isolate for live calls: each catalog model's weights read from the
 * static assets and verified (isolate-models.ts `loadWeights`), then built, once per isolate; a
 * refused model stays refused for the isolate's life (no retry storm). Part of the live-compute
 * chunk (live-compute.ts): tfjs loads with the first live call, never with a cached answer.
 */
import type { Classifier } from '../core/classifier/classifier.js';
import { DEFAULT_GENERATOR } from '../core/generator/architecture.js';
import type { Generator } from '../core/generator/generator.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import {
  buildClassifier,
  buildFeatureExtractor,
  buildGenerator,
  placeholderGenerator,
} from '../core/loading/built-models.js';
import type { SimpleCnn } from '../core/classifier/simple-cnn.js';
import type { WeightsManifest } from '../core/weights/manifest.js';
import { RANDOM_INIT_ID, RANDOM_INIT_SEED, type CatalogModel } from '../protocol/catalog.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';
import type { Env } from './env.js';
import { isolateCache, type KeepAlive } from './isolate-cache.js';
import {
  classifierEntry,
  domainGenerator,
  domainGeneratorId,
  domainModels,
  getCatalog,
  loadWeights,
  refused,
  registeredInfo,
  type ModelInfo,
} from './isolate-models.js';
import { ProblemError } from './problem.js';
import { ensureBackend } from './wasm/backend.js';
import { setConv3x3Kernel } from '../core/nn/conv3x3/conv3x3-kernel.js';
import { registeredClassifier } from './registered/built.js';
import { listRecords } from './registered/records.js';
import { timed } from './server-timing.js';

/**
 * CONV3X3 "0": Conv2D's 3x3 convs run XNNPACK's kernel instead of the direct one (same bits; env.ts).
 * Process-wide, set from every call that builds or fetches a model (env is the same for the isolate).
 */
function applyKernelSwitches(env: Env): void {
  setConv3x3Kernel(env.CONV3X3 !== '0');
}

interface Built<T> {
  model: T;
  info: ModelInfo;
}

/** Refusals (bad checksum, bad manifest) stay for the isolate's life; transient failures are retried. */
const retryable = (e: unknown) => !(e instanceof ProblemError && e.problem.type === '/problems/weights-refused');
const classifiers = isolateCache<Built<Classifier>>({ forget: retryable });
const generators = isolateCache<Built<Generator>>({ forget: retryable });

function describe(entry: CatalogModel, manifest: WeightsManifest): ModelInfo {
  return {
    name: entry.name,
    kind: entry.kind,
    id: entry.sha256,
    label: entry.label,
    source: entry.source,
    byteLength: manifest.byteLength,
    sha256: manifest.sha256,
    architecture: manifest.architecture,
    provenance: manifest.provenance,
    metrics: manifest.metrics,
  };
}

export async function getClassifier(
  env: Env,
  name: string | undefined,
  keepAlive?: KeepAlive,
  domain: string = DEFAULT_DOMAIN,
): Promise<Built<Classifier>> {
  applyKernelSwitches(env);
  const found = await classifierEntry(env, name, domain);
  if (found.source === 'registered') {
    const record = found.record;
    // Cached (and bounded) by the registry, not here: an evicted model must not stay reachable.
    return { model: await registeredClassifier(env, record, keepAlive), info: registeredInfo(record) };
  }
  const entry: CatalogModel = found;
  return classifiers.get(
    `${entry.name}:${entry.sha256}`,
    async () => {
      await timed('backend-init', ensureBackend);
      try {
        const files = await loadWeights(env, entry);
        return {
          model: timed('model-build', () => buildClassifier(entry.name, files)),
          info: describe(entry, files.manifest),
        };
      } catch (e) {
        throw refused(entry.name, e);
      }
    },
    { keepAlive },
  );
}

export async function getGenerator(
  env: Env,
  keepAlive?: KeepAlive,
  domain: string = DEFAULT_DOMAIN,
): Promise<Built<Generator>> {
  applyKernelSwitches(env);
  const catalog = await getCatalog(env, keepAlive);
  const entry = domainGenerator(catalog, domain);
  return generators.get(
    entry?.sha256 ?? RANDOM_INIT_ID,
    async () => {
      await timed('backend-init', ensureBackend);
      if (entry === null) {
        const g = timed('model-build', placeholderGenerator);
        const info: ModelInfo = {
          name: 'generator-random-init',
          kind: 'generator',
          id: RANDOM_INIT_ID,
          label:
            'UNTRAINED placeholder: seeded random initialisation (no weights/generator and no ' +
            'checkpoint were available at build time); images are noise-like and results are not meaningful',
          source: 'random-init',
          byteLength: 0,
          sha256: null,
          architecture: { ...DEFAULT_GENERATOR, styleSize: g.styleSize },
          provenance: { seed: RANDOM_INIT_SEED },
          metrics: {},
        };
        return { model: g, info };
      }
      try {
        const files = await loadWeights(env, entry);
        const g = timed('model-build', () => buildGenerator(files));
        // FUSED_EPILOGUE "0": the stock ops instead of the fused kernel (same bits; env.ts).
        g.setFusedEpilogue(env.FUSED_EPILOGUE !== '0');
        return { model: g, info: describe(entry, files.manifest) };
      } catch (e) {
        throw refused(entry.name, e);
      }
    },
    { keepAlive },
  );
}

/** The generator and a classifier, with their ids, as the core's analyses want them. */
export async function getModels(
  env: Env,
  classifier: string | undefined,
  keepAlive?: KeepAlive,
  domain: string = DEFAULT_DOMAIN,
): Promise<AnalysisModels & { classifierName: string; differentiable: boolean; nonDifferentiableOp: string | null }> {
  const catalog = await getCatalog(env, keepAlive);
  // allSettled, not all: a load started by this request must finish inside it. workerd cancels a
  // finished request's pending I/O, and a later request awaiting the shared promise would hang.
  const [gs, cs] = await Promise.allSettled([
    getGenerator(env, keepAlive, domain),
    getClassifier(env, classifier, keepAlive, domain),
  ]);
  if (gs.status === 'rejected') throw gs.reason;
  if (cs.status === 'rejected') throw cs.reason;
  const g = gs.value;
  const c = cs.value;
  return {
    generator: g.model,
    classifier: c.model,
    generatorId: domainGeneratorId(catalog, domain),
    classifierId: c.info.id,
    classifierName: c.info.name,
    differentiable: c.info.differentiable ?? true,
    nonDifferentiableOp: c.info.nonDifferentiableOp ?? null,
  };
}

/** Every model: the built-in ones built (and so verified) on first use, then the registered classifiers as registered. */
export async function modelInfos(
  env: Env,
  keepAlive?: KeepAlive,
  domain: string = DEFAULT_DOMAIN,
): Promise<Array<ModelInfo | { name: string; kind: string; status: 'refused'; problem: unknown }>> {
  const catalog = await getCatalog(env);
  const models = domainModels(catalog, domain);
  const out: Array<ModelInfo | { name: string; kind: string; status: 'refused'; problem: unknown }> = [];
  const settle = async <T>(name: string, kind: string, f: () => Promise<Built<T>>) => {
    try {
      out.push({ ...(await f()).info, status: 'ready' } as ModelInfo);
    } catch (e) {
      out.push({ name, kind, status: 'refused', problem: e instanceof ProblemError ? e.problem : String(e) });
    }
  };
  const isDefault = domain === DEFAULT_DOMAIN;
  // Another domain without a generator lists its classifiers only (GET /v1/domains says it has none).
  if (isDefault || models.generator !== null)
    await settle(models.generator?.name ?? 'generator-random-init', 'generator', () =>
      getGenerator(env, keepAlive, domain),
    );
  for (const c of models.classifiers)
    await settle(c.name, 'classifier', () => getClassifier(env, c.name, keepAlive, domain));
  // The classifiers registered for this domain (their results use its generator).
  for (const r of await listRecords(env, domain)) out.push(registeredInfo(r));
  return out;
}

const featureExtractors = isolateCache<SimpleCnn>({ forget: retryable });

/**
 * A domain's evaluation CNN (`weights/[domain/]feature-extractor`, its catalog entry) built in this
 * isolate: the projection of an explanation computed inline needs its feature loss.
 */
export function getFeatureExtractor(
  env: Env,
  entry: Pick<CatalogModel, 'name' | 'path' | 'sha256'>,
  keepAlive?: KeepAlive,
): Promise<SimpleCnn> {
  applyKernelSwitches(env);
  return featureExtractors.get(
    entry.sha256,
    async () => {
      await timed('backend-init', ensureBackend);
      try {
        const files = await loadWeights(env, entry);
        return timed('model-build', () => buildFeatureExtractor(files));
      } catch (e) {
        throw refused(entry.name, e);
      }
    },
    { keepAlive },
  );
}
