/**
 * Where a one-dim search starts and what its unit is — the one definition every producer uses (the
 * CLI's report, the edge's cached corner cases, its live corner case and traversal, the runners):
 *
 * - start style: the class-average style of the sweep (the mean of s over the class's samples; a
 *   paint layer's colours white on black), or a given style (e.g. the style of one seeded sample);
 * - unit: one std of s_j over the class's samples in the same sweep;
 * - direction: the way the class ranking says lowers p_true (the sign of its score), unless the
 *   caller names one.
 *
 * All three come from a sweep's ranking sums, so a live answer computed from the cached sums of a
 * classifier is the cached answer, not an approximation of it from another population.
 */
import type { StyleLayout } from '../generator/style-layout.js';
import { rankDimensions, styleMoments, type RankedDim, type Ranking, type RankingSums } from './ranking-sums.js';

export interface DimStart {
  classIndex: number;
  /** The dim as the class ranking sees it (rank, score, direction, std, layer:channel). */
  dim: RankedDim;
  /** Start style [S]. */
  s0: Float32Array;
  /** One step of the search, in units of s: std(s_j) over the class's samples. */
  std: number;
  /** +1: increase s_j; -1: decrease. */
  direction: 1 | -1;
  /** Whether the direction is the ranking's (it lowers p_true on average over the class) or the caller's. */
  directionFrom: 'ranking' | 'caller';
}

export type DirectionChoice = 'ranking' | 'increase' | 'decrease';

/** Class rankings per sums object: ranking S is O(S log S) and live endpoints ask per request. */
const rankingCache = new WeakMap<RankingSums, Map<number, { ranking: Ranking; byIndex: Map<number, RankedDim> }>>();

/** The class ranking of `sums` (memoised per sums object) with its dims by flat index. */
export function classRanking(
  sums: RankingSums,
  layout: StyleLayout,
  classIndex: number,
): { ranking: Ranking; byIndex: Map<number, RankedDim> } {
  let perClass = rankingCache.get(sums);
  if (perClass === undefined) {
    perClass = new Map();
    rankingCache.set(sums, perClass);
  }
  let hit = perClass.get(classIndex);
  if (hit === undefined) {
    const ranking = rankDimensions(sums, layout, classIndex);
    hit = { ranking, byIndex: new Map(ranking.dims.map((d) => [d.index, d])) };
    perClass.set(classIndex, hit);
  }
  return hit;
}

/** The paint layer's start (foreground rgb, background rgb): white on black, MNIST's own look. */
const PAINT_START = [1, 1, 1, 0, 0, 0];

/**
 * The class-average style: the mean of s over the class's samples in the sweep — except a paint
 * layer's colour pair (style-layout.ts), which starts white on black. The mean of a palette's discrete
 * pairs is a pair no image has (grey strokes on grey: a digit hardly visible), so searches from it
 * would start off the data; white on black is one of the palette's pairs and the grey domain's look.
 */
export function classAverageStyle(sums: RankingSums, layout: StyleLayout, classIndex: number): Float32Array {
  const s0 = Float32Array.from(styleMoments(sums, classIndex).mean);
  for (const l of layout.layers) if (l.kind === 'paint') s0.set(PAINT_START, l.offset);
  return s0;
}

/**
 * The start, unit and direction of a search along `dim` for class `classIndex`.
 * @param s0 start style (default: the class-average style)
 * @example
 * const start = dimStart(sums, generator.layout, 3, 408);
 * const t = await traverse(models, { ...start, dim: start.dim.index });
 */
export function dimStart(
  sums: RankingSums,
  layout: StyleLayout,
  classIndex: number,
  dim: number,
  opts: { s0?: Float32Array; direction?: DirectionChoice } = {},
): DimStart {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= sums.numClasses)
    throw new RangeError(`class must be an integer in [0, ${sums.numClasses}), got ${classIndex}`);
  if (!Number.isInteger(dim) || dim < 0 || dim >= sums.styleSize)
    throw new RangeError(`dim must be an integer in [0, ${sums.styleSize}), got ${dim}`);
  const ranked = classRanking(sums, layout, classIndex).byIndex.get(dim)!;
  const s0 = opts.s0 ?? classAverageStyle(sums, layout, classIndex);
  if (s0.length !== sums.styleSize) throw new RangeError(`start style has ${s0.length} dims, S has ${sums.styleSize}`);
  const choice = opts.direction ?? 'ranking';
  const direction: 1 | -1 =
    choice === 'ranking' ? (ranked.direction === 'increase' ? 1 : -1) : choice === 'increase' ? 1 : -1;
  return {
    classIndex,
    dim: ranked,
    s0,
    std: ranked.std,
    direction,
    directionFrom: choice === 'ranking' ? 'ranking' : 'caller',
  };
}
