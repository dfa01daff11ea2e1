/**
 * Corner cases as JSON, one shape for every producer: the cached corner cases (results.ts
 * `cornerCasesResult`, served by /v1/corner-cases) and the live /v1/corner-case. Images as PNG data
 * URLs at scale 1, grey or RGB as the generator draws them.
 */
import { imageDataUrl } from '../image/png.js';
import type { BoundaryPoint, CornerCase, CornerCaseSearch, SkippedDim } from './corner-cases.js';
import type { DimStart } from './dim-start.js';
import type { AnalysisModels } from './analysis-models.js';
import type { RankedDim } from './ranking.js';
import { evaluateShifts, type ShiftEvaluation } from './traversal.js';

/** Images are square: the side follows from the length for grey (n = side^2) and RGB (n = 3 side^2). */
function imageUrl(img: Float32Array): string {
  const grey = Math.round(Math.sqrt(img.length));
  const side = grey * grey === img.length ? grey : Math.round(Math.sqrt(img.length / 3));
  return imageDataUrl(img, side);
}

/** A ranked dim as a corner case names it. */
export function rankedDimJson(d: RankedDim) {
  return {
    index: d.index,
    rank: d.rank,
    layer: d.layer,
    channel: d.channel,
    score: d.score,
    direction: d.direction,
    std: d.std,
  };
}

/** A boundary point (the decision corner case, the p_true = 0.5 point) with its image. */
function boundaryPointJson(p: BoundaryPoint) {
  return {
    shift: p.shift,
    pTrue: p.pTrue,
    predicted: p.predicted,
    runnerUp: p.runnerUp,
    pRunnerUp: p.pRunnerUp,
    image: imageUrl(p.image),
  };
}

/** A corner case: the decision corner case (the headline) and the paper's p_true = 0.5 point. */
export function cornerCaseJson(x: CornerCase) {
  return {
    dim: rankedDimJson(x.dim),
    decision: boundaryPointJson(x.decision),
    pTrueHalf: x.pTrueHalf === null ? null : boundaryPointJson(x.pTrueHalf),
  };
}

/** A dim searched without a corner case: what happened. */
export function skippedJson(s: SkippedDim) {
  return { dim: s.dim.index, outcome: s.outcome, reason: s.reason, pTrueHalfShift: s.pTrueHalfShift };
}

/** The start style's verdict and image (the class average of a class's corner cases). */
export function startJson(e: ShiftEvaluation) {
  return { pTrue: e.pTrue, predicted: e.predicted, image: imageUrl(e.image!) };
}

export type CornerCaseJson = ReturnType<typeof cornerCaseJson>;

/**
 * The start's evaluation (image included) of a search: the traversal's frame at shift 0, or, when
 * the search moved nowhere (zero variance), one evaluation of the start style.
 */
export async function searchStart(
  models: AnalysisModels,
  start: DimStart,
  search: CornerCaseSearch,
): Promise<ShiftEvaluation> {
  const frame = search.traversal?.frames.find((f) => f.shift === 0 && f.image !== undefined);
  if (frame) return frame;
  const [e] = await evaluateShifts(
    models,
    { s0: start.s0, classIndex: start.classIndex, dim: start.dim.index, std: 1, direction: 1 },
    [0],
    true,
  );
  return e;
}
