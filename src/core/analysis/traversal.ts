/**
 * Traversal of one StyleSpace dimension from a start style s0 (paper section 2.3, figure 5): move
 * s_j one std(s_j) at a time in the direction that lowers p_true (bracketing), then narrow each
 * bracket (batched k-section). Two boundaries are searched on the same bracketing steps:
 *
 * - the decision boundary: the smallest shift where the arg-max leaves the true class (the margin
 *   p_true - p_runner-up changes sign), reported with the class predicted there — a corner case
 *   that really is misclassified;
 * - the paper's point p_true = 0.5: with more than two classes that image is usually still
 *   classified as the true class, so it is kept as a second, separately named field.
 *
 * The crossings found are the first ones along the path at one-std granularity: a dip that
 * recovers within a single step can be missed.
 */
import * as tf from '../tf.js';
import {
  classNoiseStream,
  probabilities,
  readEvaluation,
  synthesizeImages,
  type AnalysisModels,
} from './analysis-models.js';
import { TRAVERSAL_SCHEMA } from './schema-versions.js';

/** Frames of the paper's figure 5: 0 to twice the reference shift. */
const DEFAULT_FRACTIONS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

export interface ShiftPath {
  /** Start style [S]. */
  s0: Float32Array;
  /** True class. */
  classIndex: number;
  /** Flat index of the dim in S. */
  dim: number;
  /** One step, in units of s (usually std(s_j) over a population). */
  std: number;
  /** +1: increase s_j; -1: decrease. */
  direction: 1 | -1;
  /** Noise stream of every frame (StylePath.noiseStream). */
  noiseStream?: number;
}

export interface ShiftEvaluation {
  /** Shift in std units along `direction`. */
  shift: number;
  pTrue: number;
  predicted: number;
  /** Most likely class other than the true one. */
  runnerUp: number;
  /** Its probability: p_true - pRunnerUp is the decision margin (< 0: misclassified). */
  pRunnerUp: number;
  /** [size * size * channels] in [0, 1], when images were asked for. */
  image?: Float32Array;
}

/**
 * Which boundary a search narrows to.
 * - 'decision': the arg-max leaves the true class (predicted !== true class).
 * - 'p-true-half': p_true < 0.5 (the paper's corner case; not necessarily misclassified).
 */
export type Boundary = 'decision' | 'p-true-half';

/** Whether `e` is past `boundary` (misclassified, or p_true below 0.5). */
function isPast(boundary: Boundary, classIndex: number, e: Pick<ShiftEvaluation, 'pTrue' | 'predicted'>): boolean {
  return boundary === 'decision' ? e.predicted !== classIndex : e.pTrue < 0.5;
}

/** Signed distance to the boundary in probability (>= 0 before it, < 0 past it, up to ties). */
function boundaryGap(boundary: Boundary, e: Pick<ShiftEvaluation, 'pTrue' | 'pRunnerUp'>): number {
  return boundary === 'decision' ? e.pTrue - e.pRunnerUp : e.pTrue - 0.5;
}

/** What a traversal found. */
export type TraversalOutcome = 'flipped' | 'already-misclassified' | 'no-flip';

export interface TraversalOptions extends ShiftPath {
  /** Largest shift tried, in std units. Default 20. */
  maxSteps?: number;
  /** Stop when |p_true - 0.5| <= tolerance. Default 0.01. */
  tolerance?: number;
  /** Frames at these fractions of the reference shift. Default DEFAULT_FRACTIONS. */
  fractions?: number[];
  /** Points evaluated per narrowing round (one batch). Default 8. */
  pointsPerRound?: number;
}

export interface TraversalResult {
  schema: typeof TRAVERSAL_SCHEMA;
  dim: number;
  classIndex: number;
  direction: 1 | -1;
  std: number;
  /** The evaluation at s0 (shift 0). */
  start: ShiftEvaluation;
  /**
   * 'flipped': the prediction left the true class within maxSteps; 'already-misclassified': it was not the
   * true class at s0; 'no-flip': it stayed the true class up to maxSteps.
   */
  outcome: TraversalOutcome;
  /** outcome === 'flipped': the prediction changed along the path (never true when it did not change). */
  flipped: boolean;
  /** What happened, in words (one line each). */
  reasons: string[];
  /**
   * Smallest shift (std units, first along the path) where the arg-max leaves the true class; null when it
   * does not within maxSteps or was never the true class.
   */
  decisionShift: number | null;
  /** The evaluation there (image included): predicted is not the true class. */
  decision: ShiftEvaluation | null;
  /** Shift where p_true first falls below 0.5 (within tolerance; 0 when it starts below); null when it stays above. */
  pTrueHalfShift: number | null;
  /** The evaluation there (image included); may still be classified as the true class. */
  pTrueHalf: ShiftEvaluation | null;
  /** The integer steps evaluated while bracketing. */
  steps: ShiftEvaluation[];
  /** What the frames' fractions are fractions of: the decision shift, else the p_true = 0.5 shift, else maxSteps. */
  frameBase: 'decision' | 'p-true-half' | 'max-steps';
  /** Frames at `fractions` of the frame base. */
  frames: Array<ShiftEvaluation & { fraction: number }>;
  /** Forward passes (images) spent. */
  evaluations: number;
}

/** A straight path in S: s0 + shift * step, shift in "steps" (std units for one-dim paths). */
export interface StylePath {
  s0: Float32Array;
  classIndex: number;
  /** The change of s for a shift of 1 ([S]). */
  step: Float32Array;
  /**
   * Noise stream of every point of the path (per-sample noise, analysis-models.ts): the start sample's global
   * index when s0 is a sample, so the path changes nothing but s. Default: the reserved stream of
   * `classIndex` (`classNoiseStream`), for a start style that is no sample (a class average).
   */
  noiseStream?: number;
}

/** The path of one dim: one std(s_j) per unit shift, in `direction`. */
function dimPath(p: ShiftPath): StylePath {
  const step = new Float32Array(p.s0.length);
  step[p.dim] = p.std * p.direction;
  return { s0: p.s0, classIndex: p.classIndex, step, noiseStream: p.noiseStream };
}

/** Leading dims in which every row of host [n, S] equals row 0, bit for bit (S when all do). */
function sharedLeadingDims(host: Float32Array, n: number, S: number): number {
  const bits = new Uint32Array(host.buffer, host.byteOffset, host.length);
  for (let j = 0; j < S; j++) for (let i = 1; i < n; i++) if (bits[i * S + j] !== bits[j]) return j;
  return S;
}

/**
 * Evaluates s0 + shift * step for every shift, in one batch. The rows differ only from the step's
 * first non-zero dim on and share one noise stream, so the synthesis layers before that dim's layer
 * run once for all of them (SynthesisOptions.sharedStyleDims; bit-identical).
 */
export async function evaluatePath(
  models: AnalysisModels,
  path: StylePath,
  shifts: readonly number[],
  withImages = false,
): Promise<ShiftEvaluation[]> {
  const S = path.s0.length;
  const n = shifts.length;
  if (n === 0) return [];
  const host = new Float32Array(n * S);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < S; j++) host[i * S + j] = path.s0[j] + shifts[i] * path.step[j];
  }
  const streams = new Uint32Array(n).fill(path.noiseStream ?? classNoiseStream(path.classIndex));
  const shared = sharedLeadingDims(host, n, S);
  const [probs, images] = tf.tidy(() => {
    const s = tf.tensor2d(host, [n, S]);
    if (!withImages) return [probabilities(models, s, streams, shared)];
    const img = synthesizeImages(models, s, streams, shared);
    return [tf.softmax(models.classifier.logits(img)) as tf.Tensor2D, img];
  }) as [tf.Tensor2D, tf.Tensor4D?];
  const labels = new Array<number>(n).fill(path.classIndex);
  const ev = await readEvaluation(probs, labels);
  const px = images ? ((await images.data()) as Float32Array) : null;
  tf.dispose(images ? [probs, images] : [probs]);
  const size = px ? px.length / n : 0;
  return shifts.map((shift, i) => ({
    shift,
    pTrue: ev.pTrue[i],
    predicted: ev.predicted[i],
    runnerUp: ev.runnerUp[i],
    pRunnerUp: ev.pRunnerUp[i],
    ...(px ? { image: px.slice(i * size, (i + 1) * size) } : {}),
  }));
}

/** Evaluates s0 + shift * std * direction * e_dim for every shift, in one batch. */
export function evaluateShifts(
  models: AnalysisModels,
  path: ShiftPath,
  shifts: readonly number[],
  withImages = false,
): Promise<ShiftEvaluation[]> {
  return evaluatePath(models, dimPath(path), shifts, withImages);
}

export interface CrossingOptions {
  /** Largest shift tried. */
  maxShift: number;
  /** Bracketing step. */
  stepSize: number;
  /** Stop narrowing when |boundary gap| <= tolerance (probability units). */
  tolerance: number;
  pointsPerRound: number;
}

export interface Crossing {
  boundary: Boundary;
  /** s0 itself is past the boundary (reference: the evaluation at shift 0). */
  startsPast: boolean;
  /**
   * The first evaluation found past the boundary, narrowed until its gap is within tolerance (or the bracket
   * is ~1e-6 wide); null when the path never crosses within maxShift.
   */
  reference: ShiftEvaluation | null;
  /** Forward passes spent narrowing (the bracketing steps not included). */
  evaluations: number;
}

/** Bracketing evaluations at 0, stepSize, 2 stepSize, ... maxShift, in one batch. */
export function bracketPath(
  models: AnalysisModels,
  path: StylePath,
  o: Pick<CrossingOptions, 'maxShift' | 'stepSize'>,
): Promise<ShiftEvaluation[]> {
  const count = Math.floor(o.maxShift / o.stepSize + 1e-9);
  return evaluatePath(
    models,
    path,
    Array.from({ length: count + 1 }, (_, i) => i * o.stepSize),
  );
}

/**
 * Narrows the first crossing of `boundary` among bracketing `steps` (from bracketPath): k-section
 * rounds (one batch each). Invariant: lo is before the boundary, hi past it; the answer is always
 * hi, so a decision crossing is misclassified by construction, at most `tolerance` past the margin.
 */
export async function narrowCrossing(
  models: AnalysisModels,
  path: StylePath,
  steps: readonly ShiftEvaluation[],
  boundary: Boundary,
  o: CrossingOptions,
): Promise<Crossing> {
  const past = (e: ShiftEvaluation) => isPast(boundary, path.classIndex, e);
  if (past(steps[0])) return { boundary, startsPast: true, reference: steps[0], evaluations: 0 };
  const first = steps.findIndex(past);
  if (first < 0) return { boundary, startsPast: false, reference: null, evaluations: 0 };
  let lo = steps[first - 1];
  let hi = steps[first];
  let evaluations = 0;
  const k = o.pointsPerRound;
  for (
    let round = 0;
    round < 16 && Math.abs(boundaryGap(boundary, hi)) > o.tolerance && hi.shift - lo.shift > 1e-6;
    round++
  ) {
    const width = hi.shift - lo.shift;
    const points = await evaluatePath(
      models,
      path,
      Array.from({ length: k }, (_, i) => lo.shift + (width * (i + 1)) / (k + 1)),
    );
    evaluations += points.length;
    const j = points.findIndex(past);
    if (j === -1) lo = points[k - 1];
    else {
      hi = points[j];
      if (j > 0) lo = points[j - 1];
    }
  }
  return { boundary, startsPast: false, reference: hi, evaluations };
}

/** First crossing of `boundary` along a path: bracketing in one batch, then narrowing. */
export async function findCrossing(
  models: AnalysisModels,
  path: StylePath,
  boundary: Boundary,
  o: CrossingOptions,
): Promise<Crossing & { steps: ShiftEvaluation[] }> {
  const steps = await bracketPath(models, path, o);
  const c = await narrowCrossing(models, path, steps, boundary, o);
  return { ...c, steps, evaluations: c.evaluations + steps.length };
}

function checkOptions(o: TraversalOptions, styleSize: number): void {
  if (o.s0.length !== styleSize) throw new RangeError(`s0 has ${o.s0.length} dims, S has ${styleSize}`);
  if (!Number.isInteger(o.dim) || o.dim < 0 || o.dim >= styleSize)
    throw new RangeError(`dim must be an integer in [0, ${styleSize}), got ${o.dim}`);
  if (!(o.std > 0) || !Number.isFinite(o.std))
    throw new RangeError(`std must be a positive finite number, got ${o.std}`);
  if (o.direction !== 1 && o.direction !== -1) throw new RangeError('direction must be 1 or -1');
  const maxSteps = o.maxSteps ?? 20;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 200)
    throw new RangeError(`maxSteps must be an integer in [1, 200], got ${maxSteps}`);
  const tol = o.tolerance ?? 0.01;
  if (!(tol > 0 && tol < 0.5)) throw new RangeError(`tolerance must be in (0, 0.5), got ${tol}`);
  for (const f of o.fractions ?? [])
    if (!Number.isFinite(f) || f < 0 || f > 10) throw new RangeError(`fractions must be in [0, 10], got ${f}`);
}

const fmt = (v: number, d = 3) => Number(v.toFixed(d));

/** The reasons list of a traversal: what happened at the start, at p_true = 0.5 and at the decision boundary. */
function traversalReasons(
  classIndex: number,
  maxSteps: number,
  start: ShiftEvaluation,
  half: Crossing,
  decision: Crossing,
): string[] {
  const reasons: string[] = [];
  if (start.predicted !== classIndex) {
    reasons.push(`already misclassified at the start: predicted ${start.predicted}, p_true ${fmt(start.pTrue)}`);
    return reasons;
  }
  if (half.startsPast)
    reasons.push(
      `p_true is below 0.5 at the start (${fmt(start.pTrue)}) but the prediction is still the true class ${classIndex}`,
    );
  else if (half.reference)
    reasons.push(
      `p_true falls to 0.5 after ${fmt(half.reference.shift)} std (predicted there: ${half.reference.predicted})`,
    );
  else reasons.push(`p_true stays above 0.5 up to ${maxSteps} std`);
  if (decision.reference)
    reasons.push(
      `the prediction leaves ${classIndex} for ${decision.reference.predicted} after ${fmt(decision.reference.shift)} std`,
    );
  else reasons.push(`the prediction stays ${classIndex} up to ${maxSteps} std`);
  return reasons;
}

/**
 * Finds where the decision flips (and where p_true crosses 0.5) along one dim, and renders frames.
 * @example
 * const t = await traverse(models, { s0, classIndex: 3, dim: 17, std: 0.4, direction: -1 });
 * if (t.flipped) console.log(`3 -> ${t.decision!.predicted} after ${t.decisionShift} std`);
 */
export async function traverse(models: AnalysisModels, opts: TraversalOptions): Promise<TraversalResult> {
  checkOptions(opts, models.generator.styleSize);
  const maxSteps = opts.maxSteps ?? 20;
  const tolerance = opts.tolerance ?? 0.01;
  const fractions = opts.fractions ?? DEFAULT_FRACTIONS;
  const path = dimPath(opts);
  const o: CrossingOptions = { maxShift: maxSteps, stepSize: 1, tolerance, pointsPerRound: opts.pointsPerRound ?? 8 };
  const steps = await bracketPath(models, path, o);
  const start = steps[0];
  let half = await narrowCrossing(models, path, steps, 'p-true-half', o);
  const misclassifiedAtStart = start.predicted !== opts.classIndex;
  const decision: Crossing = misclassifiedAtStart
    ? { boundary: 'decision', startsPast: true, reference: null, evaluations: 0 }
    : await narrowCrossing(models, path, steps, 'decision', o);
  let evaluations = steps.length + half.evaluations + decision.evaluations;
  const flip = decision.reference;
  if (flip && half.reference && half.reference.shift > flip.shift) {
    // Both boundaries in one bracket and the p_true = 0.5 narrowing stopped past the flip (p_true
    // is below 0.5 wherever the decision has flipped): narrow again up to the flip, so the paper's
    // point never lies beyond the decision corner case.
    half = await narrowCrossing(models, path, [...steps.filter((e) => e.shift < flip.shift), flip], 'p-true-half', o);
    evaluations += half.evaluations;
  }

  const decisionShift = decision.reference?.shift ?? null;
  const halfShift = half.reference?.shift ?? null;
  const frameBase =
    decisionShift !== null ? 'decision' : halfShift !== null && halfShift > 0 ? 'p-true-half' : 'max-steps';
  const base = frameBase === 'decision' ? decisionShift! : frameBase === 'p-true-half' ? halfShift! : maxSteps;
  // One batch: the frames, then the two boundary points (re-rendered with images; same values).
  const shifts = [
    ...fractions.map((f) => f * base),
    ...(decisionShift === null ? [] : [decisionShift]),
    ...(halfShift === null ? [] : [halfShift]),
  ];
  const rendered = await evaluatePath(models, path, shifts, true);
  evaluations += rendered.length;
  const decisionPoint = decisionShift === null ? null : rendered[fractions.length];
  const halfPoint = halfShift === null ? null : rendered[rendered.length - 1];
  const outcome: TraversalOutcome = misclassifiedAtStart
    ? 'already-misclassified'
    : decisionPoint
      ? 'flipped'
      : 'no-flip';
  return {
    schema: TRAVERSAL_SCHEMA,
    dim: opts.dim,
    classIndex: opts.classIndex,
    direction: opts.direction,
    std: opts.std,
    start,
    outcome,
    flipped: outcome === 'flipped',
    reasons: traversalReasons(opts.classIndex, maxSteps, start, half, decision),
    decisionShift,
    decision: decisionPoint,
    pTrueHalfShift: halfShift,
    pTrueHalf: halfPoint,
    steps,
    frameBase,
    frames: fractions.map((fraction, i) => ({ fraction, ...rendered[i] })),
    evaluations,
  };
}
