/**
 * The protocol every part shares (runtime-free: core imports only): what the worker serves, as
 * written by the asset build (scripts/edge/assets.ts) into the static assets — the model
 * catalog, the result kinds and the keys of results. The worker, the asset build, the seeding
 * script and the runners import it, so keys computed on either side agree and no runner file
 * imports src/worker/.
 */
import { contentHash } from '../core/hash.js';
import { RANDOM_INIT_ID, RANDOM_INIT_SEED } from '../core/loading/placeholder-id.js';
import type { DerivedOptions } from '../core/analysis/derived-results.js';
import type { EmbeddingsOptions } from '../core/analysis/embeddings-result.js';
import { DEFAULT_ANALYSIS_NOISE, type AnalysisNoise } from '../core/analysis/noise.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';

export const CATALOG_SCHEMA = 'faultlines.edge-catalog/1';
export const RESULT_SCHEMA = 'faultlines.edge-result/1';

/** Asset paths. */
export const CATALOG_PATH = '/catalog.json';
export const RESULTS_INDEX_PATH = '/results/index.json';
export const resultPath = (key: string) => `/results/${key}.json`;

export interface CatalogModel {
  name: string;
  kind: 'generator' | 'classifier';
  /** Folder of manifest.json and the weights file inside the assets, e.g. `/models/classifier-clean/`. */
  path: string;
  /** sha256 of the weights file (also the model's id in result keys). */
  sha256: string;
  byteLength: number;
  /** Where the weights came from: trained weights, a training checkpoint. */
  source: 'weights' | 'checkpoint';
  /** One line for humans (e.g. "training checkpoint at iteration 2000, not final"). */
  label: string;
}

export interface Catalog {
  schema: typeof CATALOG_SCHEMA;
  builtAt: string;
  /** null: no generator weights available; the worker uses the seeded random initialisation. */
  generator: CatalogModel | null;
  classifiers: CatalogModel[];
  /** Architecture of the generator (its StyleSpace layout is known without loading weights). */
  generatorArchitecture: Record<string, unknown>;
  /** The classifier used when a request names none. */
  defaultClassifier: string | null;
  /**
   * The evaluation CNN (`weights/feature-extractor`) the projection of a real image measures its
   * feature distance with (explain jobs, docs/explain.md); never a classifier under analysis.
   * Absent or null: not packaged, and explain jobs are refused.
   */
  featureExtractor?: CatalogFeatureExtractor | null;
  /**
   * The domain of the top-level models (absent in catalogs built before domains: MNIST). Its
   * results keep their keys; the other domains' models are in `domains`.
   */
  domain?: string;
  /** The other domains' models (`weights/<domain>/`, served under `/models/<domain>/`). */
  domains?: CatalogDomain[];
}

/** One domain's models in the catalog: the top-level fields' shape, with the domain's name. */
export interface CatalogDomain {
  /** The domain descriptor's `name` (src/core/data/domain.ts). */
  name: string;
  generator: CatalogModel | null;
  classifiers: CatalogModel[];
  defaultClassifier: string | null;
  featureExtractor?: CatalogFeatureExtractor | null;
  /** Its generator's architecture (absent in catalogs built before it was written: the top-level one). */
  generatorArchitecture?: Record<string, unknown>;
}

/** Every domain the catalog serves models of, the top-level one first (as a CatalogDomain). */
export function catalogDomains(catalog: Catalog): CatalogDomain[] {
  const top: CatalogDomain = {
    name: catalog.domain ?? DEFAULT_DOMAIN,
    generator: catalog.generator,
    classifiers: catalog.classifiers,
    defaultClassifier: catalog.defaultClassifier,
    featureExtractor: catalog.featureExtractor ?? null,
    generatorArchitecture: catalog.generatorArchitecture,
  };
  return [top, ...(catalog.domains ?? [])];
}

/** The generator architecture of domain `name` (its StyleSpace layout and classes, without loading it). */
export function domainArchitecture(catalog: Catalog, name: string): Record<string, unknown> {
  return catalogDomain(catalog, name)?.generatorArchitecture ?? catalog.generatorArchitecture;
}

/**
 * `{ domain }` outside the default domain, else nothing: spread into result keys, job specs and
 * stored results, so that everything of the default domain is exactly as before domains existed.
 */
export function domainField(domain: string | undefined): { domain?: string } {
  return domain === undefined || domain === DEFAULT_DOMAIN ? {} : { domain };
}

/** The catalog's models of domain `name`; null when it has none. */
export function catalogDomain(catalog: Catalog, name: string): CatalogDomain | null {
  return catalogDomains(catalog).find((d) => d.name === name) ?? null;
}

/** The feature extractor's catalog entry: a model file like the others, of its own kind. */
export type CatalogFeatureExtractor = Omit<CatalogModel, 'kind'> & { kind: 'feature-extractor' };

export { RANDOM_INIT_ID, RANDOM_INIT_SEED };

export function generatorId(catalog: Pick<Catalog, 'generator'>): string {
  return catalog.generator?.sha256 ?? RANDOM_INIT_ID;
}

/**
 * Kinds of cached (heavy) results. Rankings are views of `ranking-sums`. `embeddings`: seeded for
 * the built-in classifiers, a job for a registered one (src/core/analysis/embeddings-result.ts).
 */
export const RESULT_KINDS = [
  'ranking-sums',
  'histograms',
  'accuracy-curves',
  'corner-cases',
  'directions',
  'embeddings',
] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];

/**
 * Every kind of job a runner computes: the result kinds, and `explain` (one real image explained:
 * src/protocol/explain.ts; keyed by the image, not by a sweep, so it is no per-classifier result kind).
 */
export const JOB_KINDS = [...RESULT_KINDS, 'explain'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The population a result was computed on. */
export interface SweepSpec {
  seed: number;
  count: number;
}

/** The sweep the built-in results use (small: seeded on CPU; regenerate with `npm run seed:edge`). */
export const DEFAULT_SWEEP: SweepSpec = { seed: 1, count: 2000 };

/** Options of each kind: none for the sums; the derived kinds' (src/core/analysis/derived-results.ts). */
export type ResultOptions = { 'ranking-sums': Record<string, never>; embeddings: EmbeddingsOptions } & DerivedOptions;

/**
 * Analysis options per kind (part of the key). Every producer computes with exactly these: the
 * seeding and the runners (a job's spec carries them), through src/core/analysis/derived-results.ts.
 */
export const DEFAULT_OPTIONS: ResultOptions = {
  'ranking-sums': {},
  histograms: { top: 3, random: 3, bins: 30, seed: 0 },
  'accuracy-curves': { topDims: 100, bins: 10, centres: 'per-class' },
  'corner-cases': { perClass: 3, maxCandidates: 8, maxSteps: 20, tolerance: 0.01 },
  // `analyze`'s defaults for its global top dims (--direction-dims 10 is what docs/naming.md reports,
  // --direction-samples 24, shifts 0-4 std, 200 resamples); per class, 3 dims on 8 samples each.
  directions: { dims: 10, samples: 24, classDims: 3, classSamples: 8, shifts: [0, 1, 2, 3, 4], bootstrap: 200 },
  // The first 500 samples of the sweep; UMAP seeded with 0 (the seeded built-in embeddings' options).
  embeddings: { samples: 500, nNeighbors: 15, k: 10, seed: 0 },
};

/** The kinds that measure other classifiers on the same samples or frames (`comparedClassifiers`). */
export const COMPARING_KINDS: readonly ResultKind[] = ['accuracy-curves', 'directions'];

/**
 * The classifiers an accuracy-curves result measures next to its own classifier, on the same
 * samples (a directions result: its reference readers, the first one the contrastive ranking's), in catalog
 * order (`builtIn`: the catalog's classifiers): for a built-in classifier the other built-in ones (as the seeding
 * always did; implied by the catalog, so the seeded keys stand), for a registered classifier every
 * built-in one (named in its key: `resultOptions`).
 */
export function comparedClassifiers<T extends Pick<CatalogModel, 'sha256'>>(
  builtIn: readonly T[],
  classifierId: string,
): T[] {
  return builtIn.filter((c) => c.sha256 !== classifierId);
}

/**
 * The options a result of `classifierId` is keyed and computed with: DEFAULT_OPTIONS, and for a
 * registered classifier's accuracy curves or directions also the ids of the classifiers compared (`compare`).
 */
export function resultOptions(
  kind: ResultKind,
  catalog: Pick<Catalog, 'classifiers'>,
  classifierId: string,
): Record<string, unknown> {
  if (!COMPARING_KINDS.includes(kind) || catalog.classifiers.some((c) => c.sha256 === classifierId))
    return DEFAULT_OPTIONS[kind];
  return {
    ...DEFAULT_OPTIONS[kind],
    compare: comparedClassifiers(catalog.classifiers, classifierId).map((c) => c.sha256),
  };
}

/**
 * The per-pixel noise every edge result is computed with (seeding, runners, live routes: the models'
 * default, src/core/analysis/noise.ts). Part of every result key, so results of one noise mode are
 * never served for another.
 */
export const RESULT_NOISE: AnalysisNoise = DEFAULT_ANALYSIS_NOISE;

export interface ResultKeyInput {
  kind: ResultKind;
  generatorId: string;
  classifierId: string;
  sweep: SweepSpec;
  options?: Record<string, unknown>;
  /** Default RESULT_NOISE. */
  noise?: AnalysisNoise;
  /** The image domain; part of the key outside the default domain only (its keys are unchanged). */
  domain?: string;
}

/** Content hash of (kind, generator, classifier, analysis options, noise, seed, domain): the cache key. */
export function resultKey(k: ResultKeyInput): string {
  return contentHash({
    schema: RESULT_SCHEMA,
    kind: k.kind,
    generator: k.generatorId,
    classifier: k.classifierId,
    noise: k.noise ?? RESULT_NOISE,
    seed: k.sweep.seed,
    count: k.sweep.count,
    options: k.options ?? DEFAULT_OPTIONS[k.kind],
    ...domainField(k.domain),
  });
}

/** A stored result: the payload with what it was computed from. */
export interface StoredResult<T = unknown> {
  schema: typeof RESULT_SCHEMA;
  key: string;
  kind: JobKind;
  /** The image domain; absent: the default one. */
  domain?: string;
  generatorId: string;
  classifierId: string;
  classifier: string;
  sweep: SweepSpec;
  options: Record<string, unknown>;
  /** Who computed it: backend, seconds, command. */
  computed: Record<string, unknown>;
  payload: T;
}

export interface ResultsIndexEntry {
  key: string;
  kind: ResultKind;
  /** The image domain; absent: the default one. */
  domain?: string;
  classifier: string;
  generatorId: string;
  classifierId: string;
  sweep: SweepSpec;
  bytes: number;
}

export interface ResultsIndex {
  schema: 'faultlines.edge-results-index/1';
  generatedAt: string;
  entries: ResultsIndexEntry[];
}
