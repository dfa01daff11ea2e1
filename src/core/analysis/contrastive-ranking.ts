/**
 * Directions that break *this* classifier rather than any reader (issue 14 items 3 and 5): a
 * contrastive ranking of every dim of S against a reference reader, then what the top directions do
 * to the image and which of the classifier's decision flips they explain.
 *
 * Why not the gradient ranking's top dims (ranking.ts): its score is d p_true / d s, which a
 * confident classifier barely has (softmax saturation: p(1 - p) ~ 0), so a robust reference scores
 * ~0 on every dim, the difference of two p_true rankings is the analysed classifier's own ranking,
 * and that is led by the dims that destroy the digit for any reader (408, 137, 502 top every
 * classifier tried). Here both classifiers are scored on their log-odds margin
 *
 *   m = logit_true - logsumexp(logits of the other classes)
 *
 * which does not saturate, in a unit each classifier shares with no other: the score of dim j is
 *
 *   score_j = -mean_i(d m_i / d s_j) * std(s_j) / median_i |m_i|
 *
 * the share of the classifier's typical margin one std of s_j removes (so a classifier with larger
 * logits does not look more fragile everywhere). Each dim is moved the way that lowers the analysed
 * classifier's margin, the reference is scored along the same way, and
 *
 *   contrastive_j = score_j(analysed) - score_j(reference)
 *
 * with the standard error of that mean over samples. The top dims by contrastive score are then
 * rendered, measured and read by both classifiers (describeDirections) and the analysed classifier's
 * decision flips beyond the reference's are attributed to their labels (whyItFails).
 *
 * Pure core code (tfjs-core), deterministic for a given population spec and seed.
 */
import * as tf from '../tf.js';
import { styleDim } from '../generator/style-layout.js';
import { oneHotFloat } from '../nn/ops.js';
import { createRng, uniformInteger } from '../random.js';
import { factorsFor, factorVector, measureFactors, type Factor } from '../image/factors.js';
import {
  describeDirections,
  effectScale,
  FACTOR_FAMILY,
  factorPhrase,
  whyItFails,
  type DirectionOptions,
  type DirectionSpec,
  type DirectionsResult,
  type WhyItFails,
} from './directions.js';
import { sampleNoiseStreams, synthesizeImages, type AnalysisModels } from './analysis-models.js';
import { checkPopulationSpec, populationStyles, type PopulationSpec } from './population.js';
import { CONTRASTIVE_RANKING_SCHEMA } from './schema-versions.js';
import {
  counterfactualAttribution,
  directionWeaknesses,
  type CounterfactualAttribution,
  type DirectionWeakness,
} from './counterfactual-attribution.js';
import { DEFAULT_COUNTERFACTUAL_SAMPLES } from './counterfactual-options.js';

/** One dim of S, scored for the analysed classifier and the reference along the same way. */
interface ContrastiveDim {
  rank: number;
  /** Flat index in S. */
  index: number;
  layer: string;
  channel: number;
  /** The way of moving s_j that lowers the analysed classifier's margin. */
  direction: 'increase' | 'decrease';
  /** std of s_j over the population (one step of the direction). */
  std: number;
  /** Share of the analysed classifier's median |margin| one std removes (linearised, mean over samples). */
  score: number;
  /** The same for the reference, moved the same way (negative: the move helps the reference). */
  referenceScore: number;
  /** score - referenceScore. */
  contrastive: number;
  /** Standard error of `contrastive` over samples. */
  standardError: number;
}

interface ContrastiveRanking {
  schema: typeof CONTRASTIVE_RANKING_SCHEMA;
  classifier: string;
  reference: string;
  spec: PopulationSpec;
  /** Median |log-odds margin| of each classifier over the population (the unit of its score). */
  medianMargin: { classifier: number; reference: number };
  /** Every dim of S, by contrastive score, largest first. */
  dims: ContrastiveDim[];
}

export interface ContrastiveOptions extends DirectionOptions {
  /** Top dims of the contrastive ranking described (rendered, measured, read). Default 10; 0: none. */
  dims?: number;
  /** Samples per forward/backward batch of the sweep. Default 64. */
  sweepBatchSize?: number;
  /**
   * First samples whose frames the counterfactual attribution edits (counterfactual-attribution.ts).
   * Default DEFAULT_COUNTERFACTUAL_SAMPLES; 0: not computed.
   */
  counterfactualSamples?: number;
  onProgress?: (p: { done: number; total: number }) => void;
  /** Seconds each phase took, as it ends: the gradient sweep (with the factors at rest), the top dims described, the regression, the edits. */
  onPhase?: (phase: 'sweep' | 'directions' | 'regression' | 'counterfactual', seconds: number) => void;
}

/** One factor's part in the analysed classifier's margin deficit against the reference. */
export interface FactorAttribution {
  factor: Factor;
  /** What the harmful change looks like ("adds noise": a higher factor, larger deficit). */
  label: string;
  /**
   * Regression coefficient of the deficit on the factor (z-scored over the population, log scale for
   * magnitudes), the other attributed factors held fixed: shares of typical margin per factor std.
   */
  coefficient: number;
  /** Seeded bootstrap 95% interval over samples. */
  ciLow: number;
  ciHigh: number;
  /** Share of the bootstrap resamples in which this factor has the largest |coefficient|. */
  firstShare: number;
}

/** Which image factors the analysed classifier's specific weakness follows, on the population at rest. */
interface FailureAttribution {
  /** Samples and the deficit's mean (shares of typical margin). */
  samples: number;
  meanDeficit: number;
  /** R^2 of the regression. */
  rSquared: number;
  /** By |coefficient|, largest first. */
  factors: FactorAttribution[];
  /** The first factor, when its interval excludes 0; else null. */
  named: {
    factor: Factor;
    label: string;
    /** |coefficient| minus the runner-up's, and their ratio. */
    margin: number;
    ratio: number;
    /** Share of bootstrap resamples that put this factor first. */
    firstShare: number;
  } | null;
}

/** The result: the ranking, its top dims described, and why the analysed classifier fails along them. */
export interface ContrastiveFailures {
  ranking: ContrastiveRanking;
  /**
   * The analysed classifier's margin deficit against the reference (reference's margin share minus
   * its own, per sample) regressed on the image factors of the generated samples: which factor the
   * classifier's specific weakness follows.
   */
  attribution: FailureAttribution;
  /**
   * Each image factor changed alone on the first `counterfactualSamples` frames, read by both: which
   * change the reference tolerates most times more of (the named weakness); null when not computed.
   */
  counterfactual: CounterfactualAttribution | null;
  /**
   * Per top dim (in `directions`' order): which of its changes the counterfactual edits show the
   * classifier is specifically weak to (directionWeaknesses); null without both.
   */
  weaknesses: DirectionWeakness[] | null;
  /** describeDirections of the top dims ([analysed, reference]), in contrastive order; null when `dims` is 0. */
  directions: DirectionsResult | null;
  /** The analysed classifier's flips beyond the reference's along them, by label; null when `dims` is 0. */
  why: WhyItFails | null;
}

/**
 * Per sample, the log-odds margin m = logit_true - logsumexp(other logits) and d m / d s. Samples
 * are independent (no batch statistics), so the gradient of the summed margin is per sample.
 */
function marginGradient(
  models: AnalysisModels,
  s: tf.Tensor2D,
  labels: readonly number[],
  streams: ArrayLike<number>,
  keepImages: boolean,
): { margin: tf.Tensor1D; grad: tf.Tensor2D; images: tf.Tensor4D | null } {
  const k = models.classifier.numClasses;
  const onehot = oneHotFloat(labels, k);
  let margin: tf.Tensor1D | null = null;
  let images: tf.Tensor4D | null = null;
  const f = (x: tf.Tensor) => {
    const im = synthesizeImages(models, x as tf.Tensor2D, streams);
    if (keepImages) images = tf.keep(im);
    const logits = models.classifier.logits(im);
    const own = tf.sum(tf.mul(logits, onehot), 1);
    // The true class masked out of the logsumexp by a large negative offset (exp underflows to 0).
    const others = tf.logSumExp(tf.sub(logits, tf.mul(onehot, 1e4)), 1);
    const m = tf.sub(own, others) as tf.Tensor1D;
    margin = tf.keep(m);
    return tf.sum(m);
  };
  const grad = tf.grad(f)(s) as tf.Tensor2D;
  onehot.dispose();
  return { margin: margin!, grad, images };
}

/** A colour's predictors: its mean channels (hue is circular; saturation and value are functions of them). */
const COLOUR_PREDICTORS: ReadonlySet<Factor> = new Set<Factor>([
  'fgRed',
  'fgGreen',
  'fgBlue',
  'bgRed',
  'bgGreen',
  'bgBlue',
]);

/**
 * One factor per family (FACTOR_FAMILY: the first of each), except a colour, which is its three
 * mean channels: factors of one family move together by construction (contrast = intensity -
 * background; area ~ thickness x length; hue, saturation, value from r, g, b), and collinear
 * predictors would split one effect between them with opposite signs. The three channels are not
 * collinear: a colour needs all three.
 */
function attributedFactors(channels: number): Factor[] {
  const seen = new Set<string>();
  return factorsFor(channels).filter((f) => {
    if (COLOUR_PREDICTORS.has(f)) return true;
    const fam = FACTOR_FAMILY[f];
    if (fam === 'stroke colour' || fam === 'background colour' || seen.has(fam)) return false;
    seen.add(fam);
    return true;
  });
}

/** Least squares with an intercept: coefficients of y on the columns of x [n, p] (row-major), and R^2. */
function leastSquares(
  x: Float64Array,
  y: Float64Array,
  rows: ArrayLike<number>,
  p: number,
): { beta: number[]; r2: number } {
  const q = p + 1;
  const a = new Float64Array(q * q);
  const v = new Float64Array(q);
  const row = new Float64Array(q);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    row[0] = 1;
    for (let f = 0; f < p; f++) row[f + 1] = x[i * p + f];
    for (let r = 0; r < q; r++) {
      v[r] += row[r] * y[i];
      for (let c = 0; c < q; c++) a[r * q + c] += row[r] * row[c];
    }
  }
  // Gaussian elimination with partial pivoting; a tiny ridge keeps a constant column solvable.
  for (let r = 1; r < q; r++) a[r * q + r] += 1e-9 * rows.length;
  for (let c = 0; c < q; c++) {
    let piv = c;
    for (let r = c + 1; r < q; r++) if (Math.abs(a[r * q + c]) > Math.abs(a[piv * q + c])) piv = r;
    for (let k = 0; k < q; k++) [a[c * q + k], a[piv * q + k]] = [a[piv * q + k], a[c * q + k]];
    [v[c], v[piv]] = [v[piv], v[c]];
    for (let r = c + 1; r < q; r++) {
      const m = a[r * q + c] / a[c * q + c];
      for (let k = c; k < q; k++) a[r * q + k] -= m * a[c * q + k];
      v[r] -= m * v[c];
    }
  }
  const beta = new Array<number>(q).fill(0);
  for (let r = q - 1; r >= 0; r--) {
    let acc = v[r];
    for (let k = r + 1; k < q; k++) acc -= a[r * q + k] * beta[k];
    beta[r] = acc / a[r * q + r];
  }
  let ss = 0;
  let res = 0;
  let my = 0;
  for (let k = 0; k < rows.length; k++) my += y[rows[k]] / rows.length;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k];
    let fit = beta[0];
    for (let f = 0; f < p; f++) fit += beta[f + 1] * x[i * p + f];
    res += (y[i] - fit) ** 2;
    ss += (y[i] - my) ** 2;
  }
  return { beta: beta.slice(1), r2: ss > 0 ? 1 - res / ss : 0 };
}

/** Regresses the deficit on the z-scored factors (log scale for magnitudes), with a bootstrap interval. */
function attributeFactors(
  factors: readonly Factor[],
  values: Float64Array,
  deficit: Float64Array,
  o: { bootstrap: number; seed: number },
): FailureAttribution {
  const n = deficit.length;
  const p = factors.length;
  const x = new Float64Array(n * p);
  for (const [f, factor] of factors.entries()) {
    let m = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = effectScale(factor, values[i * p + f]);
      x[i * p + f] = v;
      m += v / n;
    }
    for (let i = 0; i < n; i++) sq += (x[i * p + f] - m) ** 2;
    // A factor constant over the population (e.g. colour of a gray image) stays 0: no effect to find.
    const sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
    for (let i = 0; i < n; i++) x[i * p + f] = sd > 1e-12 ? (x[i * p + f] - m) / sd : 0;
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const fit = leastSquares(x, deficit, all, p);
  const boots = factors.map(() => new Float64Array(o.bootstrap));
  const rng = createRng(o.seed, 0x61747472);
  const rows = new Uint32Array(n);
  const firstCount = new Array<number>(p).fill(0);
  for (let b = 0; b < o.bootstrap; b++) {
    for (let k = 0; k < n; k++) rows[k] = uniformInteger(rng, 0, n - 1);
    const bb = leastSquares(x, deficit, rows, p).beta;
    let best = 0;
    for (let f = 0; f < p; f++) {
      boots[f][b] = bb[f];
      if (Math.abs(bb[f]) > Math.abs(bb[best])) best = f;
    }
    firstCount[best]++;
  }
  const B = o.bootstrap;
  const attributed: FactorAttribution[] = factors.map((factor, f) => {
    const bs = boots[f].sort();
    return {
      factor,
      label: factorPhrase(factor, fit.beta[f]),
      coefficient: fit.beta[f],
      ciLow: bs[Math.floor(0.025 * (B - 1))],
      ciHigh: bs[Math.ceil(0.975 * (B - 1))],
      firstShare: firstCount[f] / B,
    };
  });
  attributed.sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient) || a.factor.localeCompare(b.factor));
  const [first, second] = attributed;
  const excludesZero = first !== undefined && (first.ciLow > 0 || first.ciHigh < 0);
  let meanDeficit = 0;
  for (let i = 0; i < n; i++) meanDeficit += deficit[i] / n;
  return {
    samples: n,
    meanDeficit,
    rSquared: fit.r2,
    factors: attributed,
    named: excludesZero
      ? {
          factor: first.factor,
          label: first.label,
          margin: Math.abs(first.coefficient) - Math.abs(second?.coefficient ?? 0),
          ratio: second && second.coefficient !== 0 ? Math.abs(first.coefficient / second.coefficient) : Infinity,
          firstShare: first.firstShare,
        }
      : null,
  };
}

function median(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Ranks every dim of S by how much more one std of it lowers the analysed classifier's margin than
 * the reference's, then describes the top dims and attributes the analysed classifier's flips.
 * @param models the analysed classifier, then the reference reader; one generator
 * @param names their names
 * @param spec the population both are swept on (same samples, same per-sample noise)
 * @example
 * const r = await contrastiveFailures([planted, corrupted], ['planted-noise', 'classifier-corrupted'], { seed: 1, count: 1000, classIndex: null });
 * console.log(r.ranking.dims[0].index, r.directions.directions[0].label.text, r.why.sentence);
 */
export async function contrastiveFailures(
  models: readonly [AnalysisModels, AnalysisModels],
  names: readonly [string, string],
  spec: PopulationSpec,
  opts: ContrastiveOptions = {},
): Promise<ContrastiveFailures> {
  const [analysed, reference] = models;
  if (analysed.generator !== reference.generator)
    throw new Error('contrastive ranking: both classifiers must read the same generator');
  if (analysed.classifier.numClasses !== reference.classifier.numClasses)
    throw new Error('contrastive ranking: the classifiers have different numbers of classes');
  const g = analysed.generator;
  checkPopulationSpec(spec, g.arch.numClasses);
  const top = opts.dims ?? 10;
  const batch = opts.sweepBatchSize ?? 64;
  if (!Number.isInteger(top) || top < 0) throw new RangeError(`dims must be an integer >= 0, got ${top}`);
  const S = g.styleSize;
  const n = spec.count;
  const styles = new Float32Array(n * S);
  const labels = new Uint8Array(n);
  const margins = [new Float64Array(n), new Float64Array(n)];
  // Per dim: sums of each classifier's gradient, of their squares and of their product (float64),
  // so the standard error of the scaled difference follows once the units (median margins) are known.
  const ga = new Float64Array(S);
  const gr = new Float64Array(S);
  const gaa = new Float64Array(S);
  const grr = new Float64Array(S);
  const gar = new Float64Array(S);
  const size = g.arch.resolutions[g.arch.resolutions.length - 1];
  const channels = g.arch.imageChannels;
  const per = size * size * channels;
  const factors = attributedFactors(channels);
  const cfCount = Math.min(n, opts.counterfactualSamples ?? DEFAULT_COUNTERFACTUAL_SAMPLES);
  if (!Number.isInteger(cfCount) || cfCount < 0)
    throw new RangeError(`counterfactualSamples must be an integer >= 0, got ${opts.counterfactualSamples}`);
  // Frames at rest of the first cfCount samples: what the counterfactual attribution edits.
  const restFrames = new Float32Array(cfCount * per);
  // Image factors of every sample at rest, [n, factors] row-major.
  const factorValues = new Float64Array(n * factors.length);
  let t0 = Date.now();
  const phaseEnds = (phase: Parameters<NonNullable<ContrastiveOptions['onPhase']>>[0]) => {
    const t = Date.now();
    opts.onPhase?.(phase, (t - t0) / 1000);
    t0 = t;
  };
  for (let b = 0; b < n; b += batch) {
    const nb = Math.min(batch, n - b);
    const pop = populationStyles(analysed, spec, b, nb);
    pop.w.dispose();
    const streams = sampleNoiseStreams(b, nb);
    const grads: Float32Array[] = [];
    for (const [c, m] of models.entries()) {
      // Both classifiers read the same frames (same s, same noise): measured once.
      const { margin, grad, images } = marginGradient(m, pop.s, pop.labels, streams, c === 0);
      const [mv, gv] = await Promise.all([margin.data(), grad.data()]);
      tf.dispose([margin, grad]);
      margins[c].set(mv, b);
      grads.push(gv as Float32Array);
      if (images) {
        const px = (await images.data()) as Float32Array;
        images.dispose();
        if (b < cfCount) restFrames.set(px.subarray(0, Math.min(nb, cfCount - b) * per), b * per);
        for (let k = 0; k < nb; k++)
          factorValues.set(
            factorVector(measureFactors(px.subarray(k * per, (k + 1) * per), size, channels), factors),
            (b + k) * factors.length,
          );
      }
    }
    styles.set((await pop.s.data()) as Float32Array, b * S);
    pop.s.dispose();
    labels.set(pop.labels, b);
    const [a, r] = grads;
    for (let k = 0; k < nb; k++) {
      const off = k * S;
      for (let j = 0; j < S; j++) {
        const x = a[off + j];
        const y = r[off + j];
        ga[j] += x;
        gr[j] += y;
        gaa[j] += x * x;
        grr[j] += y * y;
        gar[j] += x * y;
      }
    }
    opts.onProgress?.({ done: b + nb, total: n });
  }

  const abs = (v: Float64Array) => v.map(Math.abs);
  // A unit of 0 (every margin 0: a constant classifier) would make every score infinite.
  const ua = Math.max(median(abs(margins[0])), 1e-6);
  const ur = Math.max(median(abs(margins[1])), 1e-6);
  const dims: ContrastiveDim[] = [];
  for (let j = 0; j < S; j++) {
    let mean = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = styles[i * S + j];
      mean += v / n;
      sq += v * v;
    }
    const std = n > 1 ? Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1))) : 0;
    const ownScore = (-ga[j] / n) * (std / ua);
    const sign = ownScore >= 0 ? 1 : -1;
    const score = sign * ownScore;
    const referenceScore = sign * (-gr[j] / n) * (std / ur);
    // Per sample: d_i = -sign * std * (ga_i / ua - gr_i / ur); its variance from the sums.
    const ca = std / ua;
    const cr = std / ur;
    const m2 = (ca * ca * gaa[j] - 2 * ca * cr * gar[j] + cr * cr * grr[j]) / n;
    const m1 = score - referenceScore;
    const variance = n > 1 ? Math.max(0, ((m2 - m1 * m1) * n) / (n - 1)) : 0;
    const { layer, channel } = styleDim(g.layout, j);
    dims.push({
      rank: 0,
      index: j,
      layer,
      channel,
      direction: sign > 0 ? 'increase' : 'decrease',
      std,
      score,
      referenceScore,
      contrastive: m1,
      standardError: Math.sqrt(variance / n),
    });
  }
  dims.sort((x, y) => y.contrastive - x.contrastive || x.index - y.index);
  phaseEnds('sweep');
  dims.forEach((d, i) => (d.rank = i + 1));
  const ranking: ContrastiveRanking = {
    schema: CONTRASTIVE_RANKING_SCHEMA,
    classifier: names[0],
    reference: names[1],
    spec: { ...spec },
    medianMargin: { classifier: ua, reference: ur },
    dims,
  };

  const specs: DirectionSpec[] = dims.slice(0, top).map((d) => {
    const step = new Float32Array(S);
    step[d.index] = d.std * (d.direction === 'increase' ? 1 : -1);
    return { id: `dim:${d.index}`, classIndex: null, dims: [d.index], step };
  });
  const directions =
    specs.length > 0
      ? await describeDirections(models, names, { count: n, styleSize: S, labels, styles }, specs, {
          seed: spec.seed,
          ...opts,
        })
      : null;
  phaseEnds('directions');
  const deficit = Float64Array.from({ length: n }, (_, i) => margins[1][i] / ur - margins[0][i] / ua);
  const attribution = attributeFactors(factors, factorValues, deficit, {
    bootstrap: opts.bootstrap ?? 200,
    seed: spec.seed,
  });
  phaseEnds('regression');
  const counterfactual =
    cfCount >= 2
      ? await counterfactualAttribution(
          [analysed.classifier, reference.classifier],
          { images: restFrames, labels: labels.subarray(0, cfCount), size, channels },
          { seed: spec.seed, bootstrap: opts.bootstrap ?? 200, batchSize: batch },
        )
      : null;
  const weaknesses = directions && counterfactual ? directionWeaknesses(directions, counterfactual) : null;
  phaseEnds('counterfactual');
  return {
    ranking,
    attribution,
    counterfactual,
    weaknesses,
    directions,
    why: directions && whyItFails(directions)[0],
  };
}
