/**
 * The derived results' kinds and options (derived-results.ts) without computing any: the options
 * of each kind, their check, the spec hash every payload carries, and the compaction a stored
 * payload gets. No tfjs here (the edge checks runners' payloads and shapes replies with these).
 */
import type { AnalysisModels } from './analysis-models.js';
import { populationSpecHash } from './population-spec.js';
import { DEFAULT_COUNTERFACTUAL_SAMPLES } from './counterfactual-options.js';

export const DERIVED_KINDS = ['histograms', 'accuracy-curves', 'corner-cases', 'directions'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];

/** Options of each derived kind (part of the result's cache key; see DEFAULT_OPTIONS in src/protocol/result-keys.ts). */
export type HistogramsOptions = { top: number; random: number; bins: number; seed: number };
export type AccuracyCurvesOptions = {
  topDims: number;
  bins: number;
  centres: 'pooled' | 'per-class';
  /** Ids of the classifiers compared (when the key names them: a registered classifier's curves). */
  compare?: string[];
};
export type CornerCasesOptions = { perClass: number; maxCandidates: number; maxSteps: number; tolerance: number };
export type DirectionsOptions = {
  /** Top dims of the global ranking described, on the first `samples` samples of the sweep (every class). */
  dims: number;
  samples: number;
  /** Top dims of each class's ranking described, on the first `classSamples` samples of that class. */
  classDims: number;
  classSamples: number;
  /** Shifts rendered, std units, from 0. */
  shifts: number[];
  /** Bootstrap resamples of each effect's interval (seeded with the sweep's seed, as `analyze` does). */
  bootstrap: number;
  /**
   * First samples of the sweep whose frames the counterfactual attribution edits against the first
   * reference reader (`analyze --counterfactual-samples`); 0: not computed. Absent: the default
   * (DEFAULT_OPTIONS leaves it out, so the keys of results seeded before it stand).
   */
  counterfactualSamples?: number;
  /** Ids of the reference readers (when the key names them: a registered classifier's directions). */
  compare?: string[];
};
export interface DerivedOptions {
  histograms: HistogramsOptions;
  'accuracy-curves': AccuracyCurvesOptions;
  'corner-cases': CornerCasesOptions;
  directions: DirectionsOptions;
}

/** Rounds floats to 9 significant digits (JSON size), NaN/∞ to null, typed arrays to arrays: a result as stored. */
export function compactResult<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (v instanceof Float32Array || v instanceof Float64Array)
        return Array.from(v, (x) => (Number.isFinite(x) ? Number(x.toPrecision(9)) : null));
      if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
      if (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v)) return Number(v.toPrecision(9));
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      return v;
    }),
  ) as T;
}

/** The spec hash every payload of (models, sweep) carries: the population's, the same as its ranking sums'. */
export function resultSpecHash(
  ids: Pick<AnalysisModels, 'generatorId' | 'classifierId'>,
  sweep: { seed: number; count: number },
): string {
  return populationSpecHash(ids as AnalysisModels, { seed: sweep.seed, count: sweep.count, classIndex: null });
}

const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/**
 * A job's options (JSON) as the typed options of `kind`; throws naming the first bad field. Only
 * the fields the kind knows are kept.
 */
export function parseDerivedOptions<K extends DerivedKind>(kind: K, raw: Record<string, unknown>): DerivedOptions[K] {
  const bad = (field: string, want: string) =>
    new Error(`${kind} option ${field} must be ${want}, got ${JSON.stringify(raw[field])}`);
  const int = (field: string, min: number) => {
    if (!isInt(raw[field], min)) throw bad(field, `an integer >= ${min}`);
    return raw[field] as number;
  };
  if (kind === 'histograms') {
    return {
      top: int('top', 1),
      random: int('random', 0),
      bins: int('bins', 1),
      seed: int('seed', 0),
    } as DerivedOptions[K];
  }
  if (kind === 'accuracy-curves') {
    const centres = raw.centres;
    if (centres !== 'pooled' && centres !== 'per-class') throw bad('centres', '"pooled" or "per-class"');
    const compare = raw.compare;
    if (compare !== undefined && !(Array.isArray(compare) && compare.every((x) => typeof x === 'string')))
      throw bad('compare', 'a list of classifier ids');
    return {
      topDims: int('topDims', 1),
      bins: int('bins', 1),
      centres,
      ...(compare === undefined ? {} : { compare: compare as string[] }),
    } as DerivedOptions[K];
  }
  if (kind === 'directions') {
    const counterfactualSamples = () => {
      if (raw.counterfactualSamples === undefined) return DEFAULT_COUNTERFACTUAL_SAMPLES;
      // One frame has no spread to bootstrap a ratio from.
      if (!isInt(raw.counterfactualSamples, 0) || raw.counterfactualSamples === 1)
        throw bad('counterfactualSamples', '0 (not computed) or an integer >= 2');
      return raw.counterfactualSamples;
    };
    const shifts = raw.shifts;
    if (
      !Array.isArray(shifts) ||
      shifts.length < 2 ||
      shifts.length > 16 ||
      shifts[0] !== 0 ||
      shifts.some((t, i) => typeof t !== 'number' || !Number.isFinite(t) || (i > 0 && t <= shifts[i - 1]))
    )
      throw bad('shifts', 'an increasing list of 2-16 numbers starting at 0');
    const compare = raw.compare;
    if (compare !== undefined && !(Array.isArray(compare) && compare.every((x) => typeof x === 'string')))
      throw bad('compare', 'a list of classifier ids');
    return {
      dims: int('dims', 1),
      samples: int('samples', 2),
      classDims: int('classDims', 0),
      classSamples: int('classSamples', 2),
      shifts: shifts as number[],
      bootstrap: int('bootstrap', 10),
      counterfactualSamples: counterfactualSamples(),
      ...(compare === undefined ? {} : { compare: compare as string[] }),
    } as DerivedOptions[K];
  }
  const maxSteps = raw.maxSteps;
  const tolerance = raw.tolerance;
  if (typeof maxSteps !== 'number' || !(maxSteps > 0) || !Number.isFinite(maxSteps))
    throw bad('maxSteps', 'a positive number');
  if (typeof tolerance !== 'number' || !(tolerance > 0 && tolerance < 0.5))
    throw bad('tolerance', 'a number in (0, 0.5)');
  return {
    perClass: int('perClass', 1),
    maxCandidates: int('maxCandidates', 1),
    maxSteps,
    tolerance,
  } as DerivedOptions[K];
}
