/**
 * Corner cases (paper section 2.3, figure 7): for every class, starting from the class-average
 * style, the most influential dims of that class that actually flip the prediction within a bound,
 * each with the image where p_true crosses 0.5, the shift in std units and the class it turns into.
 * Influential dims that do not flip within the bound are skipped and reported.
 */
import type { StyleLayout } from '../generator/style-layout.js';
import { evaluateShifts, traverse, type ShiftEvaluation } from './traversal.js';
import { rankDimensions, styleMoments, type RankedDim, type RankingSums } from './ranking.js';
import type { AnalysisModels } from './models.js';

export const CORNER_CASES_SCHEMA = 'faultlines.corner-cases/1';

export interface CornerCaseOptions {
  /** Classes to analyse; default all. */
  classes?: number[];
  /** Corner cases wanted per class. Default 10. */
  perClass?: number;
  /** Ranked dims tried per class before giving up. Default 40. */
  maxCandidates?: number;
  /** Bound on the shift, in std units. Default 20. */
  maxSteps?: number;
  /** |p_true - 0.5| tolerance of the corner-case image. Default 0.01. */
  tolerance?: number;
}

export interface CornerCase {
  dim: RankedDim;
  /** Shift in std units along the dim's direction. */
  shift: number;
  pTrue: number;
  /** Arg-max class at the corner case (p_true ~ 0.5, so either the true class or the new one). */
  predicted: number;
  /** The class the digit turns into: the most likely class other than the true one. */
  newClass: number;
  image: Float32Array;
}

export interface ClassCornerCases {
  classIndex: number;
  /** The class-average style's image and p_true. */
  start: ShiftEvaluation;
  cases: CornerCase[];
  /** Dims tried that did not flip the prediction within the bound. */
  skipped: Array<{ dim: RankedDim; reason: string }>;
}

export interface CornerCasesResult {
  schema: typeof CORNER_CASES_SCHEMA;
  specHash: string;
  maxSteps: number;
  tolerance: number;
  classes: ClassCornerCases[];
}

/** The class-average style: the mean of s over the class's samples in the sweep. */
export function classAverageStyle(sums: RankingSums, classIndex: number): Float32Array {
  return Float32Array.from(styleMoments(sums, classIndex).mean);
}

/**
 * @example
 * const cc = await findCornerCases(models, sums, generator.layout, { classes: [3] });
 */
export async function findCornerCases(models: AnalysisModels, sums: RankingSums, layout: StyleLayout, opts: CornerCaseOptions = {}): Promise<CornerCasesResult> {
  const perClass = opts.perClass ?? 10;
  const maxCandidates = opts.maxCandidates ?? 40;
  const maxSteps = opts.maxSteps ?? 20;
  const tolerance = opts.tolerance ?? 0.01;
  const classes = opts.classes ?? [...Array(sums.numClasses).keys()];
  const out: CornerCasesResult = { schema: CORNER_CASES_SCHEMA, specHash: sums.specHash, maxSteps, tolerance, classes: [] };
  for (const c of classes) {
    const ranking = rankDimensions(sums, layout, c);
    const s0 = classAverageStyle(sums, c);
    const [start] = await evaluateShifts(models, { s0, classIndex: c, dim: 0, std: 1, direction: 1 }, [0], true);
    const entry: ClassCornerCases = { classIndex: c, start, cases: [], skipped: [] };
    for (const dim of ranking.dims.slice(0, maxCandidates)) {
      if (entry.cases.length >= perClass) break;
      if (!(dim.std > 0)) {
        entry.skipped.push({ dim, reason: 'zero variance in the population' });
        continue;
      }
      const t = await traverse(models, { s0, classIndex: c, dim: dim.index, std: dim.std, direction: dim.direction === 'increase' ? 1 : -1, maxSteps, tolerance, fractions: [] });
      if (t.startsBelow) {
        entry.skipped.push({ dim, reason: 'the class-average style is already misclassified' });
        break;
      }
      if (!t.flipped || t.reference === null) {
        entry.skipped.push({ dim, reason: `p_true stays above 0.5 up to ${maxSteps} std` });
        continue;
      }
      entry.cases.push({ dim, shift: t.referenceShift!, pTrue: t.reference.pTrue, predicted: t.reference.predicted, newClass: t.reference.runnerUp, image: t.reference.image! });
    }
    out.classes.push(entry);
  }
  return out;
}
