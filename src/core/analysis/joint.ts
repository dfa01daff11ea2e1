/**
 * Joint corner cases — the paper's stated next step: the smallest shift over the top-k dims
 * together that flips the decision (the arg-max leaves the true class), measured in std units (L2
 * over the k dims), compared with the best single-dim decision shift from the same start. Along the
 * direction found, the paper's p_true = 0.5 point is reported too (`pTrueHalf`).
 *
 * Search: for a unit direction d over the k dims (std units), r(d) is the first radius where the
 * decision flips along d (bracketing + k-section, as in a traversal). At the crossing, the gradient
 * g of p_true says how to turn d to shorten r: toward -g (close to the boundary's normal, since the
 * margin p_true - p_runner-up falls fastest where p_true does). d is rotated toward
 * -g by a fraction of the angle between them, keeping a rotation only when r decreases (halving the
 * fraction otherwise). Starting from the best single dim's axis — and from -g at s0 — the result is
 * never longer than the best single-dim shift, up to the crossing tolerance.
 */
import * as tf from '../tf.js';
import { pTrueGradient, type AnalysisModels } from './analysis-models.js';
import type { RankedDim } from './ranking.js';
import { evaluatePath, findCrossing, type ShiftEvaluation, type StylePath } from './traversal.js';
import { JOINT_SCHEMA } from './schema-versions.js';

export interface JointOptions {
  s0: Float32Array;
  classIndex: number;
  /** The dims to move together (usually the top-k of the class ranking), with their std. */
  dims: RankedDim[];
  /** Tolerance of the decision margin |p_true - p_runner-up| (and of |p_true - 0.5|). Default 0.01. */
  tolerance?: number;
  /** Rotation attempts. Default 40. */
  maxIterations?: number;
  /** Bound on the shift, std units. Default 20. */
  maxSteps?: number;
  /** Noise stream of every image (a sample's index when s0 is a sample; default the class's stream). */
  noiseStream?: number;
}

export interface JointResult {
  schema: typeof JOINT_SCHEMA;
  classIndex: number;
  dims: number[];
  /** Whether a decision flip was found along some direction within maxSteps. */
  converged: boolean;
  /** Shift per dim in std units (signed: + increases s_j) at the decision corner case. */
  shift: number[];
  /** L2 norm of the shift in std units. */
  norm: number;
  pTrue: number;
  /** The class read at the decision corner case (not the true class when converged; -1 when not). */
  predicted: number;
  /** The runner-up's probability there (p_true - pRunnerUp is the margin, < 0). */
  pRunnerUp: number;
  image: Float32Array | null;
  /** Along the same direction, the first point where p_true falls to 0.5 (the paper's definition); null when none. */
  pTrueHalf: { norm: number; pTrue: number; predicted: number } | null;
  iterations: number;
  /** Best single dim among `dims`: its flat index and decision shift, or null when none flips within maxSteps. */
  bestSingle: { dim: number; shift: number } | null;
  /** norm / bestSingle.shift (< 1: moving together is shorter). */
  ratio: number | null;
}

const norm2 = (v: Float64Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const normalise = (v: Float64Array) => {
  const n = norm2(v);
  return n > 0 ? v.map((x) => x / n) : v;
};
const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, x, i) => acc + x * b[i], 0);

export async function jointCornerCase(models: AnalysisModels, opts: JointOptions): Promise<JointResult> {
  const k = opts.dims.length;
  if (k < 1) throw new RangeError('joint corner case needs at least one dim');
  if (opts.s0.length !== models.generator.styleSize)
    throw new RangeError(`s0 has ${opts.s0.length} dims, S has ${models.generator.styleSize}`);
  const tolerance = opts.tolerance ?? 0.01;
  const maxSteps = opts.maxSteps ?? 20;
  const c = opts.classIndex;
  const S = opts.s0.length;

  /** The path of unit direction d (std units over the dims). */
  const pathOf = (d: Float64Array): StylePath => {
    const step = new Float32Array(S);
    opts.dims.forEach((dim, i) => (step[dim.index] = d[i] * dim.std));
    return { s0: opts.s0, classIndex: c, step, noiseStream: opts.noiseStream };
  };
  const crossing = { maxShift: maxSteps, stepSize: 0.5, tolerance, pointsPerRound: 8 };
  const radius = async (d: Float64Array) => (await findCrossing(models, pathOf(d), 'decision', crossing)).reference;
  /** d p_true / d u at s0 + r d (u in std units over the dims). */
  const gradientAt = async (d: Float64Array, r: number) => {
    const path = pathOf(d);
    const s = Float32Array.from(path.s0, (v, j) => v + r * path.step[j]);
    const st = tf.tensor2d(s, [1, S]);
    const { probs, grad } = pTrueGradient(
      models,
      st,
      [c],
      opts.noiseStream === undefined ? undefined : [opts.noiseStream],
    );
    const g = await grad.data();
    tf.dispose([st, probs, grad]);
    return Float64Array.from(opts.dims, (dim) => g[dim.index] * dim.std);
  };

  // Single dims (the comparison, and the first starting direction).
  let bestSingle: JointResult['bestSingle'] = null;
  let bestSingleAxis = -1;
  for (let i = 0; i < k; i++) {
    const axis = new Float64Array(k);
    axis[i] = opts.dims[i].direction === 'increase' ? 1 : -1;
    const ref = await radius(axis);
    if (ref && ref.shift > 0 && (bestSingle === null || ref.shift < bestSingle.shift)) {
      bestSingle = { dim: opts.dims[i].index, shift: ref.shift };
      bestSingleAxis = i;
    }
  }
  const starts: Float64Array[] = [];
  if (bestSingleAxis >= 0) {
    const axis = new Float64Array(k);
    axis[bestSingleAxis] = opts.dims[bestSingleAxis].direction === 'increase' ? 1 : -1;
    starts.push(axis);
  }
  const g0 = await gradientAt(new Float64Array(k).fill(1 / Math.sqrt(k)), 0);
  if (norm2(g0) > 0) starts.push(normalise(g0.map((x) => -x)));

  let best: { d: Float64Array; ref: ShiftEvaluation } | null = null;
  let iterations = 0;
  for (const start of starts) {
    const ref = await radius(start);
    if (ref === null || ref.shift === 0) continue;
    let cur = { d: start, ref };
    let fraction = 0.5;
    for (let it = 0; it < (opts.maxIterations ?? 40) && fraction > 1 / 64; it++) {
      iterations++;
      const g = await gradientAt(cur.d, cur.ref.shift);
      const minusG = normalise(g.map((x) => -x));
      const cos = Math.max(-1, Math.min(1, dot(cur.d, minusG)));
      const angle = Math.acos(cos);
      if (angle < 1e-3) break;
      // Unit vector of -g's component perpendicular to d.
      const t = normalise(minusG.map((x, i) => x - cos * cur.d[i]));
      const theta = fraction * angle;
      const d = normalise(cur.d.map((x, i) => Math.cos(theta) * x + Math.sin(theta) * t[i]));
      const r = await radius(d);
      if (r !== null && r.shift > 0 && r.shift < cur.ref.shift) cur = { d, ref: r };
      else fraction /= 2;
    }
    if (best === null || cur.ref.shift < best.ref.shift) best = cur;
  }

  if (best === null) {
    return {
      schema: JOINT_SCHEMA,
      classIndex: c,
      dims: opts.dims.map((d) => d.index),
      converged: false,
      shift: new Array(k).fill(0),
      norm: 0,
      pTrue: NaN,
      predicted: -1,
      pRunnerUp: NaN,
      image: null,
      pTrueHalf: null,
      iterations,
      bestSingle,
      ratio: null,
    };
  }
  const [final] = await evaluatePath(models, pathOf(best.d), [best.ref.shift], true);
  const half = (await findCrossing(models, pathOf(best.d), 'p-true-half', crossing)).reference;
  const shift = Array.from(best.d, (x) => x * best!.ref.shift);
  return {
    schema: JOINT_SCHEMA,
    classIndex: c,
    dims: opts.dims.map((d) => d.index),
    converged: final.predicted !== c,
    shift,
    norm: best.ref.shift,
    pTrue: final.pTrue,
    predicted: final.predicted,
    pRunnerUp: final.pRunnerUp,
    image: final.image ?? null,
    pTrueHalf: half === null ? null : { norm: half.shift, pTrue: half.pTrue, predicted: half.predicted },
    iterations,
    bestSingle,
    ratio: bestSingle ? best.ref.shift / bestSingle.shift : null,
  };
}
