/**
 * Corner cases (paper section 2.3, figure 7): for every class, starting from the class-average
 * style, the most influential dims of that class along which the prediction really changes within
 * a bound — the decision corner case: the smallest shift where the arg-max leaves the true class,
 * with the image there and the class it is read as. The paper's point (p_true = 0.5, which with ten
 * classes is usually still read as the true class) is kept beside it as `pTrueHalf`. Influential
 * dims that do not flip the decision within the bound are skipped and reported with what happened.
 */
import type { StyleLayout } from '../generator/style-layout.js';
import { classAverageStyle, classRanking, dimStart, type DimStart } from './dim-start.js';
import type { RankedDim, RankingSums } from './ranking.js';
import {
  evaluateShifts,
  traverse,
  type ShiftEvaluation,
  type TraversalOutcome,
  type TraversalResult,
} from './traversal.js';
import type { AnalysisModels } from './analysis-models.js';
import { CORNER_CASES_SCHEMA } from './schema-versions.js';
export { CORNER_CASES_SCHEMA };

export { classAverageStyle } from './dim-start.js';

export interface CornerCaseOptions {
  /** Classes to analyse; default all. */
  classes?: number[];
  /** Corner cases wanted per class. Default 10. */
  perClass?: number;
  /** Ranked dims tried per class before giving up. Default 40. */
  maxCandidates?: number;
  /** Bound on the shift, in std units. Default 20. */
  maxSteps?: number;
  /**
   * Tolerance of both boundary points, in probability: |p_true - p_runner-up| at the decision corner case,
   * |p_true - 0.5| at the p_true = 0.5 point. Default 0.01.
   */
  tolerance?: number;
}

/** One point of a corner-case search. */
export interface BoundaryPoint {
  /** Shift in std units along the dim's direction. */
  shift: number;
  pTrue: number;
  /** Arg-max class there. */
  predicted: number;
  /** Most likely class other than the true one, and its probability. */
  runnerUp: number;
  pRunnerUp: number;
  image: Float32Array;
}

export interface CornerCase {
  dim: RankedDim;
  /** The decision corner case: the first shift where the arg-max leaves the true class; `predicted` is the class it is read as (never the true class). */
  decision: BoundaryPoint;
  /** The paper's corner case, p_true = 0.5 (first crossing): may still be read as the true class; null when p_true was already below 0.5 at the start. */
  pTrueHalf: BoundaryPoint | null;
}

export interface SkippedDim {
  dim: RankedDim;
  outcome: Exclude<TraversalOutcome, 'flipped'> | 'zero-variance';
  /** What happened, in words. */
  reason: string;
  /** Shift where p_true fell to 0.5 although the decision did not flip (null: it did not). */
  pTrueHalfShift: number | null;
}

interface ClassCornerCases {
  classIndex: number;
  /** The class-average style's image and verdict. */
  start: ShiftEvaluation;
  cases: CornerCase[];
  /** Dims tried that did not flip the decision within the bound. */
  skipped: SkippedDim[];
  /** Of the dims tried: how many reach p_true = 0.5 and how many really flip the decision within the bound. */
  counts: { tried: number; pTrueHalf: number; decision: number };
}

export interface CornerCasesResult {
  schema: typeof CORNER_CASES_SCHEMA;
  specHash: string;
  maxSteps: number;
  tolerance: number;
  classes: ClassCornerCases[];
}

/** What one dim's search gives: a corner case, or why there is none. */
export interface CornerCaseSearch {
  cornerCase: CornerCase | null;
  skipped: SkippedDim | null;
  traversal: TraversalResult | null;
}

const point = (e: ShiftEvaluation | null): BoundaryPoint | null =>
  e === null
    ? null
    : {
        shift: e.shift,
        pTrue: e.pTrue,
        predicted: e.predicted,
        runnerUp: e.runnerUp,
        pRunnerUp: e.pRunnerUp,
        image: e.image!,
      };

/**
 * The corner-case search along one dim from a start (dim-start.ts): the one function behind the
 * cached corner cases and the live /v1/corner-case.
 */
export async function cornerCaseAlong(
  models: AnalysisModels,
  start: DimStart,
  opts: { maxSteps?: number; tolerance?: number } = {},
): Promise<CornerCaseSearch> {
  const maxSteps = opts.maxSteps ?? 20;
  const dim = start.dim;
  if (!(start.std > 0)) {
    return {
      cornerCase: null,
      skipped: {
        dim,
        outcome: 'zero-variance',
        reason: 'zero variance in the population: no std unit to move in',
        pTrueHalfShift: null,
      },
      traversal: null,
    };
  }
  const t = await traverse(models, {
    s0: start.s0,
    classIndex: start.classIndex,
    dim: dim.index,
    std: start.std,
    direction: start.direction,
    maxSteps,
    tolerance: opts.tolerance ?? 0.01,
    fractions: [0],
  });
  const half = t.pTrueHalfShift !== null && t.pTrueHalfShift > 0 ? point(t.pTrueHalf) : null;
  if (t.outcome === 'flipped')
    return { cornerCase: { dim, decision: point(t.decision)!, pTrueHalf: half }, skipped: null, traversal: t };
  return {
    cornerCase: null,
    skipped: { dim, outcome: t.outcome, reason: t.reasons.join('; '), pTrueHalfShift: t.pTrueHalfShift },
    traversal: t,
  };
}

/**
 * @example
 * const cc = await findCornerCases(models, sums, generator.layout, { classes: [3] });
 * for (const k of cc.classes[0].cases) console.log(`dim ${k.dim.index}: 3 -> ${k.decision.predicted} after ${k.decision.shift} std`);
 */
export async function findCornerCases(
  models: AnalysisModels,
  sums: RankingSums,
  layout: StyleLayout,
  opts: CornerCaseOptions = {},
): Promise<CornerCasesResult> {
  const perClass = opts.perClass ?? 10;
  const maxCandidates = opts.maxCandidates ?? 40;
  const maxSteps = opts.maxSteps ?? 20;
  const tolerance = opts.tolerance ?? 0.01;
  const classes = opts.classes ?? [...Array(sums.numClasses).keys()];
  const out: CornerCasesResult = {
    schema: CORNER_CASES_SCHEMA,
    specHash: sums.specHash,
    maxSteps,
    tolerance,
    classes: [],
  };
  for (const c of classes) {
    const ranking = classRanking(sums, layout, c).ranking;
    const s0 = classAverageStyle(sums, layout, c);
    const [start] = await evaluateShifts(models, { s0, classIndex: c, dim: 0, std: 1, direction: 1 }, [0], true);
    const entry: ClassCornerCases = {
      classIndex: c,
      start,
      cases: [],
      skipped: [],
      counts: { tried: 0, pTrueHalf: 0, decision: 0 },
    };
    for (const dim of ranking.dims.slice(0, maxCandidates)) {
      if (entry.cases.length >= perClass) break;
      if (start.predicted !== c) {
        // No shift can flip a decision that is already wrong at the start.
        entry.skipped.push({
          dim,
          outcome: 'already-misclassified',
          reason: `the class-average style is already misclassified (predicted ${start.predicted}, p_true ${start.pTrue.toFixed(3)})`,
          pTrueHalfShift: start.pTrue < 0.5 ? 0 : null,
        });
        break;
      }
      const r = await cornerCaseAlong(models, dimStart(sums, layout, c, dim.index, { s0 }), { maxSteps, tolerance });
      entry.counts.tried++;
      if (r.traversal?.pTrueHalfShift !== null && r.traversal?.pTrueHalfShift !== undefined) entry.counts.pTrueHalf++;
      if (r.cornerCase) {
        entry.counts.decision++;
        entry.cases.push(r.cornerCase);
      } else entry.skipped.push(r.skipped!);
    }
    out.classes.push(entry);
  }
  return out;
}
