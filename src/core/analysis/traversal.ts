/**
 * Traversal of one StyleSpace dimension from a start style s0 (paper section 2.3, figure 5): move
 * s_j one std(s_j) at a time in the direction that lowers p_true until p_true drops below 0.5
 * (bracketing), then narrow the bracket (batched k-section) until p_true is within `tolerance` of
 * 0.5. Frames are rendered at fractions of that reference shift.
 *
 * The crossing found is the first one along the path at one-std granularity: a dip below 0.5 that
 * recovers within a single step can be missed.
 */
import * as tf from '../tf.js';
import { ANALYSIS_NOISE, probabilities, readEvaluation, type AnalysisModels } from './models.js';

export const TRAVERSAL_SCHEMA = 'faultlines.traversal/1';

/** Frames of the paper's figure 5: 0 to twice the reference shift. */
export const DEFAULT_FRACTIONS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

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
}

export interface ShiftEvaluation {
  /** Shift in std units along `direction`. */
  shift: number;
  pTrue: number;
  predicted: number;
  /** Most likely class other than the true one. */
  runnerUp: number;
  /** [32*32] in [0, 1], when images were asked for. */
  image?: Float32Array;
}

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
  /** Whether p_true fell below 0.5 within maxSteps. */
  flipped: boolean;
  /** p_true is already below 0.5 at s0. */
  startsBelow: boolean;
  /** Shift (std units, >= 0) where p_true crosses 0.5; null when it does not within maxSteps. */
  referenceShift: number | null;
  /** The evaluation at the reference shift (image included). */
  reference: ShiftEvaluation | null;
  /** The integer steps evaluated while bracketing. */
  steps: ShiftEvaluation[];
  /** Frames at `fractions` of the reference shift (of maxSteps when nothing flipped). */
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
}

/** The path of one dim: one std(s_j) per unit shift, in `direction`. */
export function dimPath(p: ShiftPath): StylePath {
  const step = new Float32Array(p.s0.length);
  step[p.dim] = p.std * p.direction;
  return { s0: p.s0, classIndex: p.classIndex, step };
}

/** Evaluates s0 + shift * step for every shift, in one batch. */
export async function evaluatePath(models: AnalysisModels, path: StylePath, shifts: readonly number[], withImages = false): Promise<ShiftEvaluation[]> {
  const S = path.s0.length;
  const n = shifts.length;
  if (n === 0) return [];
  const host = new Float32Array(n * S);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < S; j++) host[i * S + j] = path.s0[j] + shifts[i] * path.step[j];
  }
  const [probs, images] = tf.tidy(() => {
    const s = tf.tensor2d(host, [n, S]);
    if (!withImages) return [probabilities(models, s)];
    const img = models.generator.synthesis(s, { noiseMode: ANALYSIS_NOISE });
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
    ...(px ? { image: px.slice(i * size, (i + 1) * size) } : {}),
  }));
}

/** Evaluates s0 + shift * std * direction * e_dim for every shift, in one batch. */
export function evaluateShifts(models: AnalysisModels, path: ShiftPath, shifts: readonly number[], withImages = false): Promise<ShiftEvaluation[]> {
  return evaluatePath(models, dimPath(path), shifts, withImages);
}

export interface CrossingOptions {
  /** Largest shift tried. */
  maxShift: number;
  /** Bracketing step. */
  stepSize: number;
  tolerance: number;
  pointsPerRound: number;
}

export interface Crossing {
  /** The bracketing evaluations at 0, stepSize, 2 stepSize, ... maxShift. */
  steps: ShiftEvaluation[];
  startsBelow: boolean;
  /** Where p_true is within tolerance of 0.5 (or the closest found); null when it stays above. */
  reference: ShiftEvaluation | null;
  evaluations: number;
}

/**
 * First crossing of p_true = 0.5 along a path: bracketing in one batch, then k-section rounds (one
 * batch each) until |p_true - 0.5| <= tolerance. Invariant while narrowing: p(lo) >= 0.5 > p(hi).
 */
export async function findCrossing(models: AnalysisModels, path: StylePath, o: CrossingOptions): Promise<Crossing> {
  const count = Math.floor(o.maxShift / o.stepSize + 1e-9);
  const steps = await evaluatePath(models, path, Array.from({ length: count + 1 }, (_, i) => i * o.stepSize));
  let evaluations = steps.length;
  const startsBelow = steps[0].pTrue < 0.5;
  const firstBelow = steps.findIndex((s) => s.pTrue < 0.5);
  if (startsBelow) return { steps, startsBelow, reference: steps[0], evaluations };
  if (firstBelow < 0) return { steps, startsBelow, reference: null, evaluations };
  let lo = steps[firstBelow - 1];
  let hi = steps[firstBelow];
  let best = Math.abs(lo.pTrue - 0.5) < Math.abs(hi.pTrue - 0.5) ? lo : hi;
  const k = o.pointsPerRound;
  for (let round = 0; round < 12 && Math.abs(best.pTrue - 0.5) > o.tolerance && hi.shift - lo.shift > 1e-6; round++) {
    const width = hi.shift - lo.shift;
    const points = await evaluatePath(models, path, Array.from({ length: k }, (_, i) => lo.shift + (width * (i + 1)) / (k + 1)));
    evaluations += points.length;
    for (const p of points) if (Math.abs(p.pTrue - 0.5) < Math.abs(best.pTrue - 0.5)) best = p;
    const j = points.findIndex((p) => p.pTrue < 0.5);
    if (j === -1) lo = points[k - 1];
    else {
      hi = points[j];
      if (j > 0) lo = points[j - 1];
    }
  }
  return { steps, startsBelow, reference: best, evaluations };
}

function checkOptions(o: TraversalOptions, styleSize: number): void {
  if (o.s0.length !== styleSize) throw new RangeError(`s0 has ${o.s0.length} dims, S has ${styleSize}`);
  if (!Number.isInteger(o.dim) || o.dim < 0 || o.dim >= styleSize) throw new RangeError(`dim must be an integer in [0, ${styleSize}), got ${o.dim}`);
  if (!(o.std > 0) || !Number.isFinite(o.std)) throw new RangeError(`std must be a positive finite number, got ${o.std}`);
  if (o.direction !== 1 && o.direction !== -1) throw new RangeError('direction must be 1 or -1');
  const maxSteps = o.maxSteps ?? 20;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 200) throw new RangeError(`maxSteps must be an integer in [1, 200], got ${maxSteps}`);
  const tol = o.tolerance ?? 0.01;
  if (!(tol > 0 && tol < 0.5)) throw new RangeError(`tolerance must be in (0, 0.5), got ${tol}`);
  for (const f of o.fractions ?? []) if (!Number.isFinite(f) || f < 0 || f > 10) throw new RangeError(`fractions must be in [0, 10], got ${f}`);
}

/**
 * Finds where p_true crosses 0.5 along one dim and renders frames around it.
 * @example
 * const t = await traverse(models, { s0, classIndex: 3, dim: 17, std: 0.4, direction: -1 });
 * if (t.flipped) console.log(`p_true = 0.5 after ${t.referenceShift} std`);
 */
export async function traverse(models: AnalysisModels, opts: TraversalOptions): Promise<TraversalResult> {
  checkOptions(opts, models.generator.styleSize);
  const maxSteps = opts.maxSteps ?? 20;
  const tol = opts.tolerance ?? 0.01;
  const k = opts.pointsPerRound ?? 8;
  const fractions = opts.fractions ?? DEFAULT_FRACTIONS;
  const path = dimPath(opts);
  const crossing = await findCrossing(models, path, { maxShift: maxSteps, stepSize: 1, tolerance: tol, pointsPerRound: k });
  let evaluations = crossing.evaluations;
  const { steps, startsBelow } = crossing;
  const referenceShift = crossing.reference?.shift ?? null;

  const frameBase = referenceShift !== null && referenceShift > 0 ? referenceShift : maxSteps;
  const frameShifts = fractions.map((f) => f * frameBase);
  const withReference = referenceShift === null ? frameShifts : [...frameShifts, referenceShift];
  const rendered = await evaluatePath(models, path, withReference, true);
  evaluations += rendered.length;
  return {
    schema: TRAVERSAL_SCHEMA,
    dim: opts.dim,
    classIndex: opts.classIndex,
    direction: opts.direction,
    std: opts.std,
    flipped: referenceShift !== null,
    startsBelow,
    referenceShift,
    reference: referenceShift === null ? null : rendered[rendered.length - 1],
    steps,
    frames: fractions.map((fraction, i) => ({ fraction, ...rendered[i] })),
    evaluations,
  };
}
