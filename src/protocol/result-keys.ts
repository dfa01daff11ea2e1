/**
 * The keys of cached results, shared by every part (runtime-free: core imports only): the result
 * and job kinds, the sweep and analysis options a result is computed with, the content-hash key
 * derived from them, and the stored result and index as the asset build (scripts/edge/assets.ts)
 * writes them. The worker, the asset build, the seeding script and the runners import it, so keys
 * computed on either side agree and no runner file imports src/worker/.
 */
import { contentHash } from '../core/hash.js';
import type { DerivedOptions } from '../core/analysis/derived-results.js';
import type { EmbeddingsOptions } from '../core/analysis/embeddings-result.js';
import { DEFAULT_ANALYSIS_NOISE, type AnalysisNoise } from '../core/analysis/noise.js';
import { domainField, type Catalog, type CatalogModel } from './catalog.js';

export const RESULT_SCHEMA = 'faultlines.edge-result/1';

/** Asset paths. */
export const RESULTS_INDEX_PATH = '/results/index.json';
export const resultPath = (key: string) => `/results/${key}.json`;

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
 * A kind's payload revision, for kinds whose payloads gained fields under unchanged keys (keys hash
 * the spec, not the payload): the ETag of a view includes it, so a client holding an older body of
 * the same key is sent the new one instead of a 304. Bump it with any such payload change.
 * Directions 2: the counterfactual naming (`counterfactual`, `weaknesses`). Absent: revision 1, which
 * adds nothing to the ETag (those ETags stay as they were).
 */
export const PAYLOAD_REVISION: Partial<Record<ResultKind, number>> = { directions: 2 };

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
  // counterfactualSamples (parseDerivedOptions) is not given: its default, analyze's, so the seeded keys stand.
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
  /** When the default domain's results were seeded. */
  generatedAt: string;
  /** When each other domain's were (each domain is seeded by its own command). */
  domainsGeneratedAt?: Record<string, string>;
  entries: ResultsIndexEntry[];
}
