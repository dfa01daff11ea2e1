/**
 * Where the live endpoints (traversal, corner case, render edits) take their statistics from: the
 * cached ranking sums of the request's classifier on the default sweep (DEFAULT_SWEEP) — the very
 * sums the cached rankings, histograms and corner cases derive from. src/core/analysis/dim-start.ts
 * turns them into a start style (the class average), a std unit (per class) and a direction (the
 * class ranking's), so a live answer and the cached one are the same computation. The sums are never
 * computed inline: a miss answers as the cached endpoints do (202 with the job computing them, or
 * 404 naming the job to submit).
 *
 * The style moments in the sums (class-average style, per-class std) depend on the generator and
 * the sweep only, not on the classifier (sample i is (seed, i) whoever classifies it). Two uses that
 * need only those take them from the default classifier's sums when the request's classifier has
 * none, and say so in the response (`statistics`): a registered classifier that is not
 * differentiable (it cannot be ranked, so it never has sums of its own) with an explicit direction,
 * and the std unit of render edits.
 */
import type { RankingSums } from '../core/analysis/ranking.js';
import type { StyleLayout } from '../core/generator/style-layout.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';
import { domainArchitecture, type Catalog } from '../protocol/catalog.js';
import { DEFAULT_SWEEP, type SweepSpec } from '../protocol/result-keys.js';
import type { AppContext } from './http.js';
import { badField, ProblemError } from './problem.js';
import { getResult } from './result-cache.js';
import { locate, missResponse } from './services/result-lookup.js';

export interface LiveStats {
  sums: RankingSums;
  /** Cache key of the sums (`/v1/results/{key}`). */
  key: string;
  /** The classifier whose sweep the sums are of. */
  classifier: string;
  sweep: SweepSpec;
  /** The request's classifier's own sums (its ranking: direction, rank, score), or another's (style moments only). */
  own: boolean;
  layout: StyleLayout;
}

/** What a request needs of the sums: the classifier's own ranking, or only the style moments. */
export type StatsNeed = 'ranking' | 'moments';

/** The statistics as a response field: which sums, of which classifier, and what was taken from them. */
export function statisticsJson(st: LiveStats) {
  return {
    kind: 'ranking-sums' as const,
    key: st.key,
    resultUrl: `/v1/results/${st.key}`,
    classifier: st.classifier,
    sweep: st.sweep,
    use: st.own ? ('start, std and ranking' as const) : ('start and std' as const),
  };
}

/**
 * The cached sums a live request of `classifier` uses, or the response to send instead (202/404,
 * see `missResponse`). `need: 'ranking'` wants the classifier's own sums; a classifier that cannot be
 * ranked (registered, not differentiable) gets the default classifier's with `own: false` — the
 * caller refuses what needs its ranking. `need: 'moments'` takes the default classifier's sums when
 * the classifier has none of its own. `neededBy` opens a miss's message (e.g. "the live traversal").
 */
export async function liveStats(
  c: AppContext,
  classifier: string | undefined,
  need: StatsNeed,
  neededBy: string,
  domain: string = DEFAULT_DOMAIN,
): Promise<LiveStats | Response> {
  const own = await locate(c, 'ranking-sums', classifier, DEFAULT_SWEEP, domain);
  const layout = own.layout;
  const stats = (r: { payload: unknown }, name: string, isOwn: boolean, key: string): LiveStats => {
    const sums = r.payload as RankingSums;
    if (sums.styleSize !== layout.size)
      throw new ProblemError(
        409,
        'conflict',
        `cached sums ${key} have S = ${sums.styleSize}, the generator ${layout.size}`,
      );
    return { sums, key, classifier: name, sweep: DEFAULT_SWEEP, own: isOwn, layout };
  };
  const hit = await getResult(c.env, own.key);
  if (hit) return stats(hit, own.entry.name, true, own.key);
  const rankable = !(own.entry.source === 'registered' && !own.entry.record.differentiable);
  const why =
    `${neededBy} takes its start style, std unit` +
    `${need === 'ranking' ? ' and direction' : ''} from the ranking sums of the classifier on the default sweep`;
  if (need === 'ranking' && rankable) return missResponse(c, own.key, own.spec, why);
  const fallback = own.models.defaultClassifier ?? own.models.classifiers[0]?.name;
  if (fallback !== undefined && fallback !== own.entry.name) {
    const other = await locate(c, 'ranking-sums', fallback, DEFAULT_SWEEP, domain);
    const r = await getResult(c.env, other.key);
    if (r) return stats(r, other.entry.name, false, other.key);
    // Only a rankable classifier's own sums can be computed for it; else name the default's.
    if (!rankable)
      return missResponse(
        c,
        other.key,
        other.spec,
        `${neededBy} takes its start style and std unit from the ranking sums of the ` +
          `default classifier on the default sweep (classifier ${own.entry.name} cannot be ranked)`,
      );
  }
  return missResponse(c, own.key, own.spec, why);
}

/** 400 unless `classIndex` is one of the domain generator's classes (its architecture in the catalog, without loading it). */
export function checkClass(catalog: Catalog, classIndex: number, field: string, domain: string = DEFAULT_DOMAIN): void {
  const K = Number((domainArchitecture(catalog, domain) as { numClasses?: number }).numClasses ?? 10);
  if (classIndex >= K)
    throw badField(field, 'out-of-range', `${field} must be < ${K} (the generator's classes), got ${classIndex}`);
}

/** 400 unless `dim` is a dim of S (checked against the generator's layout, without loading it). */
export function checkDim(layout: StyleLayout, dim: number, field: string): void {
  if (dim >= layout.size)
    throw badField(field, 'out-of-range', `${field} must be < ${layout.size} (the size of StyleSpace S), got ${dim}`);
}
