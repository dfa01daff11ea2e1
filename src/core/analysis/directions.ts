/**
 * Naming the failure (issue 14): what a direction in S does to the image, and which classifier it
 * breaks.
 *
 * For a direction (one dim moved one std per step in the way its ranking says lowers p_true, or
 * several dims together), frames are rendered from many samples of the population at shifts
 * 0, 1, ..., T std, each sample with its own noise, and every frame is measured (image factors,
 * src/core/image/factors.ts) and classified by every classifier given. Per factor:
 *
 *   effect = mean over samples of the least-squares slope of the factor against the shift,
 *            divided by the factor's std over the same samples at shift 0
 *
 * i.e. how many population stds the factor moves per std of the direction, with a seeded bootstrap
 * 95% interval over samples. A label names the direction when one factor dominates (LABEL_RULE).
 *
 * A direction that destroys the digit lowers p_true for every reader; one that breaks *this*
 * classifier lowers its p_true more than a reference reader's. The contrastive score is the
 * difference of the two drops, and the "why it fails" summary counts the decision flips of a
 * classifier that the reference does not share.
 *
 * Pure core code (tfjs-core and the image factors), deterministic for a given seed.
 */
import * as tf from '../tf.js';
import { createRng, uniformInteger } from '../random.js';
import { factorsFor, factorVector, measureFactors, type Factor } from '../image/factors.js';
import { readEvaluation, synthesizeImages, type AnalysisModels } from './analysis-models.js';
import type { RankedDim } from './ranking.js';
import { DIRECTIONS_SCHEMA } from './schema-versions.js';

/** A direction in S to describe. */
export interface DirectionSpec {
  /** Stable name: "dim:408", "class 3 dim:137", "joint class 3: 408+137". */
  id: string;
  /** Samples of this class are moved (null: samples of every class). */
  classIndex: number | null;
  /** The dims it moves (flat indices). */
  dims: number[];
  /** The change of s for a shift of 1 ([S]). */
  step: Float32Array;
}

/** One dim as its ranking moves it: one std per step, in the direction that lowers p_true. */
export function dimDirection(dim: RankedDim, classIndex: number | null, styleSize: number): DirectionSpec {
  const step = new Float32Array(styleSize);
  step[dim.index] = dim.std * (dim.direction === 'increase' ? 1 : -1);
  return {
    id: `${classIndex === null ? '' : `class ${classIndex} `}dim:${dim.index}`,
    classIndex,
    dims: [dim.index],
    step,
  };
}

/** The population the directions start from: styles and labels; sample i renders with noise stream i. */
export interface DirectionPopulation {
  count: number;
  styleSize: number;
  labels: ArrayLike<number>;
  /** [count, styleSize] row-major. */
  styles: Float32Array;
}

export interface DirectionOptions {
  /** Samples moved along each direction (the first ones of its class in the population). Default 24. */
  samples?: number;
  /** Shifts rendered, std units, starting at 0. Default [0, 1, 2, 3, 4]. */
  shifts?: number[];
  /** Bootstrap resamples of the effect interval. Default 200. */
  bootstrap?: number;
  seed?: number;
  /** Rows per rendered batch. Default 64. */
  batchSize?: number;
  /** Smallest |effect| (factor stds per direction std) a label names. Default 0.25. */
  minEffect?: number;
  /** How many times the runner-up family's |effect| the dominant one must reach. Default 1.5. */
  dominance?: number;
}

/** The label rule, in words (report.json and docs/naming.md carry it). */
const LABEL_RULE =
  'Factors are grouped into families (noise; sharpness; ink: intensity, contrast; stroke: thickness, area; x position; y position; size; ' +
  'stroke colour: the foreground hue, saturation, brightness, red, green, blue; background colour: the same of the background). ' +
  'A direction is labelled by its largest factor |effect| when that effect is at least minEffect ' +
  'factor stds per direction std, its bootstrap 95% interval excludes 0, and it is at least `dominance` times the largest |effect| of ' +
  'any other family; "entangled: A + B" when the largest effect passes the first two tests but not the third (A, B the two largest ' +
  'families); "no visible change" when no factor passes the first two.';

/** Families of factors that move together by construction (contrast = intensity - background). */
export const FACTOR_FAMILY: Record<Factor, string> = {
  noise: 'noise',
  sharpness: 'sharpness',
  intensity: 'ink',
  contrast: 'ink',
  thickness: 'stroke',
  area: 'stroke',
  centroidX: 'x',
  centroidY: 'y',
  scale: 'size',
  // One colour is one family: a step along one channel moves hue, saturation and value at once.
  fgHue: 'stroke colour',
  fgSaturation: 'stroke colour',
  fgBrightness: 'stroke colour',
  fgRed: 'stroke colour',
  fgGreen: 'stroke colour',
  fgBlue: 'stroke colour',
  bgHue: 'background colour',
  bgSaturation: 'background colour',
  bgBrightness: 'background colour',
  bgRed: 'background colour',
  bgGreen: 'background colour',
  bgBlue: 'background colour',
};

/**
 * Factors whose changes are relative: a residual that doubles on a clean digit matters as much as one
 * that doubles on a noisy digit, so their effect is measured on log(factor). (Position is absolute.)
 */
const RELATIVE: ReadonlySet<Factor> = new Set<Factor>([
  'noise',
  'sharpness',
  'intensity',
  'area',
  'thickness',
  'scale',
  'fgSaturation',
  'fgBrightness',
  'bgSaturation',
  'bgBrightness',
]);

/** The scale an effect is measured on: log for relative factors (floored so a blank frame stays finite). */
export function effectScale(factor: Factor, v: number): number {
  return RELATIVE.has(factor) ? Math.log(Math.max(v, 1e-4)) : v;
}

/** What a rise (index 0) or a fall (index 1) of each factor looks like. */
const PHRASE: Record<Factor, [string, string]> = {
  noise: ['adds noise', 'removes noise'],
  sharpness: ['sharpens', 'blurs'],
  intensity: ['brightens strokes', 'fades strokes'],
  contrast: ['raises contrast', 'lowers contrast'],
  thickness: ['thickens strokes', 'thins strokes'],
  area: ['adds ink', 'erases ink'],
  centroidX: ['moves right', 'moves left'],
  centroidY: ['moves down', 'moves up'],
  scale: ['grows', 'shrinks'],
  fgHue: ['shifts stroke hue', 'shifts stroke hue'],
  fgSaturation: ['saturates strokes', 'desaturates strokes'],
  fgBrightness: ['brightens strokes', 'darkens strokes'],
  bgHue: ['shifts background hue', 'shifts background hue'],
  bgSaturation: ['saturates background', 'desaturates background'],
  bgBrightness: ['brightens background', 'darkens background'],
  fgRed: ['adds red to strokes', 'takes red out of strokes'],
  fgGreen: ['adds green to strokes', 'takes green out of strokes'],
  fgBlue: ['adds blue to strokes', 'takes blue out of strokes'],
  bgRed: ['adds red to the background', 'takes red out of the background'],
  bgGreen: ['adds green to the background', 'takes green out of the background'],
  bgBlue: ['adds blue to the background', 'takes blue out of the background'],
};

/** What a factor change is called (the label of a direction it dominates). */
export function factorPhrase(factor: Factor, effect: number): string {
  return PHRASE[factor][effect >= 0 ? 0 : 1];
}

export interface FactorEffect {
  factor: Factor;
  /** Mean slope per direction std, in stds of the factor over the samples at shift 0 (of log(factor) for relative factors). */
  effect: number;
  /** Bootstrap 95% interval of `effect` over samples. */
  ciLow: number;
  ciHigh: number;
  /** Mean of the factor at the first and the last shift (raw units). */
  start: number;
  end: number;
  /** Its std over the samples at shift 0, of log(factor) for relative factors (the unit of `effect`). */
  std: number;
  /** Whether the effect is measured on log(factor). */
  relative: boolean;
}

export interface DirectionLabel {
  kind: 'dominant' | 'entangled' | 'unchanged';
  /** "adds noise", "entangled: adds noise + thins strokes", "no visible change". */
  text: string;
  /** The dominant (or largest) factor; null when nothing changes. */
  factor: Factor | null;
  /** |largest effect| / |largest effect of another family| (Infinity when no other family moves). */
  margin: number;
}

/** One classifier along a direction, on the same frames. */
interface ClassifierAlong {
  classifier: string;
  /** Mean p_true per shift. */
  pTrue: number[];
  /** Share classified correctly per shift. */
  accuracy: number[];
  /** Samples correct at shift 0, and how many of them are misclassified at some shift. */
  correctAtStart: number;
  flipped: number;
  /** p_true at shift 0 minus p_true at the last shift (mean over samples). */
  drop: number;
}

export interface DirectionDescription {
  id: string;
  classIndex: number | null;
  dims: number[];
  /** Population indices of the samples moved. */
  samples: number;
  /** Sorted by |effect|, largest first. */
  effects: FactorEffect[];
  label: DirectionLabel;
  /** Per classifier, in the order given (the first is the one analysed). */
  classifiers: ClassifierAlong[];
  /** Drop of the analysed classifier's p_true minus the reference's (the second classifier); null without one. */
  contrastive: number | null;
}

export interface DirectionsResult {
  schema: typeof DIRECTIONS_SCHEMA;
  shifts: number[];
  samples: number;
  seed: number;
  bootstrap: number;
  minEffect: number;
  dominance: number;
  rule: string;
  factors: Factor[];
  /** Classifier names: the analysed one first, then the reference (if any), then others. */
  classifiers: string[];
  /** The reference reader of the contrastive score (the second classifier), or null. */
  reference: string | null;
  directions: DirectionDescription[];
}

/** Population indices of the first `n` samples of `classIndex` (every class when null). */
function pickSamples(pop: DirectionPopulation, classIndex: number | null, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < pop.count && out.length < n; i++)
    if (classIndex === null || pop.labels[i] === classIndex) out.push(i);
  return out;
}

/** Least-squares slope of y against x. */
function slope(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

const mean = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
};

function stdOf(v: readonly number[]): number {
  const m = mean(v);
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return v.length > 1 ? Math.sqrt(s / (v.length - 1)) : 0;
}

/** Applies LABEL_RULE to effects sorted by |effect|. */
export function labelDirection(effects: readonly FactorEffect[], minEffect: number, dominance: number): DirectionLabel {
  const passes = (e: FactorEffect) => Math.abs(e.effect) >= minEffect && (e.ciLow > 0 || e.ciHigh < 0);
  const top = effects[0];
  if (!top || !passes(top)) return { kind: 'unchanged', text: 'no visible change', factor: null, margin: 0 };
  const rival = effects.find((e) => FACTOR_FAMILY[e.factor] !== FACTOR_FAMILY[top.factor]);
  const margin = rival && Math.abs(rival.effect) > 0 ? Math.abs(top.effect) / Math.abs(rival.effect) : Infinity;
  if (margin >= dominance)
    return { kind: 'dominant', text: factorPhrase(top.factor, top.effect), factor: top.factor, margin };
  return {
    kind: 'entangled',
    text: `entangled: ${factorPhrase(top.factor, top.effect)} + ${factorPhrase(rival!.factor, rival!.effect)}`,
    factor: top.factor,
    margin,
  };
}

/**
 * Renders, measures and classifies the frames of every direction.
 * @param classifiers the analysed classifier first, then the reference reader (optional), then any others; one generator
 * @param names their names
 * @example
 * const r = await describeDirections([clean, corrupted], ['classifier-clean', 'classifier-corrupted'], pop, [dimDirection(top[0], null, S)]);
 * console.log(r.directions[0].label.text, r.directions[0].contrastive);
 */
export async function describeDirections(
  classifiers: readonly AnalysisModels[],
  names: readonly string[],
  pop: DirectionPopulation,
  directions: readonly DirectionSpec[],
  opts: DirectionOptions = {},
): Promise<DirectionsResult> {
  if (classifiers.length === 0 || classifiers.length !== names.length)
    throw new Error('directions need one name per classifier, and at least one');
  const g = classifiers[0].generator;
  for (const m of classifiers)
    if (m.generator !== g)
      throw new Error('directions: every classifier must use the same generator (the frames are rendered once)');
  const n = opts.samples ?? 24;
  const shifts = opts.shifts ?? [0, 1, 2, 3, 4];
  const B = opts.bootstrap ?? 200;
  const seed = opts.seed ?? 1;
  const batchSize = opts.batchSize ?? 64;
  const minEffect = opts.minEffect ?? 0.25;
  const dominance = opts.dominance ?? 1.5;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`samples must be an integer >= 2, got ${n}`);
  if (
    shifts.length < 2 ||
    shifts[0] !== 0 ||
    shifts.some((t, i) => !Number.isFinite(t) || (i > 0 && t <= shifts[i - 1]))
  )
    throw new RangeError('shifts must start at 0 and increase');
  if (!Number.isInteger(B) || B < 10) throw new RangeError(`bootstrap must be an integer >= 10, got ${B}`);
  const S = pop.styleSize;
  // The generator renders square images at its last resolution.
  const size = g.arch.resolutions[g.arch.resolutions.length - 1];
  const channels = g.arch.imageChannels;
  const factors = [...factorsFor(channels)];
  const F = factors.length;
  const M = shifts.length;

  const out: DirectionDescription[] = [];
  for (const [d, dir] of directions.entries()) {
    if (dir.step.length !== S)
      throw new RangeError(`direction ${dir.id}: step has ${dir.step.length} dims, S has ${S}`);
    const idx = pickSamples(pop, dir.classIndex, n);
    if (idx.length < 2)
      throw new Error(
        `direction ${dir.id}: the population has ${idx.length} samples of class ${dir.classIndex}, needs 2`,
      );
    const rows = idx.length * M;
    // values[(sample * M + shift) * F + factor]; correct / pTrue per classifier per row.
    const values = new Float64Array(rows * F);
    const pTrue = classifiers.map(() => new Float32Array(rows));
    const correct = classifiers.map(() => new Uint8Array(rows));
    for (let r0 = 0; r0 < rows; r0 += batchSize) {
      const nr = Math.min(batchSize, rows - r0);
      const host = new Float32Array(nr * S);
      const labels: number[] = [];
      const streams = new Uint32Array(nr);
      for (let k = 0; k < nr; k++) {
        const r = r0 + k;
        const i = idx[Math.floor(r / M)];
        const t = shifts[r % M];
        for (let j = 0; j < S; j++) host[k * S + j] = pop.styles[i * S + j] + t * dir.step[j];
        labels.push(pop.labels[i]);
        // The sample's own noise at every shift: only s changes along the path.
        streams[k] = i;
      }
      const images = tf.tidy(() => synthesizeImages(classifiers[0], tf.tensor2d(host, [nr, S]), streams));
      for (const [m, models] of classifiers.entries()) {
        const probs = tf.tidy(() => tf.softmax(models.classifier.logits(images)) as tf.Tensor2D);
        const ev = await readEvaluation(probs, labels);
        probs.dispose();
        for (let k = 0; k < nr; k++) {
          pTrue[m][r0 + k] = ev.pTrue[k];
          correct[m][r0 + k] = ev.predicted[k] === labels[k] ? 1 : 0;
        }
      }
      const px = (await images.data()) as Float32Array;
      images.dispose();
      const per = size * size * channels;
      for (let k = 0; k < nr; k++)
        values.set(
          factorVector(measureFactors(px.subarray(k * per, (k + 1) * per), size, channels), factors),
          (r0 + k) * F,
        );
    }

    // Per sample, per factor: slope against the shift; unit: the factor's std at shift 0.
    const ns = idx.length;
    const slopes = Array.from({ length: F }, () => new Float64Array(ns));
    const effects: FactorEffect[] = factors.map((factor, f) => {
      const series = (s: number) => shifts.map((_, m) => effectScale(factor, values[(s * M + m) * F + f]));
      for (let s = 0; s < ns; s++) slopes[f][s] = slope(shifts, series(s));
      const at = (m: number) => Array.from({ length: ns }, (_, s) => values[(s * M + m) * F + f]);
      const first = at(0);
      const scaled = first.map((v) => effectScale(factor, v));
      // A factor constant over the samples (e.g. scale fixed by the canvas) gets a tiny unit, not 0.
      const unit = Math.max(stdOf(scaled), 1e-6 * (Math.abs(mean(scaled)) + 1));
      const boot = new Float64Array(B);
      // One stream per (direction, factor): the interval does not depend on the other directions.
      const rng = createRng(seed, d * 64 + f);
      for (let b = 0; b < B; b++) {
        let acc = 0;
        for (let s = 0; s < ns; s++) acc += slopes[f][uniformInteger(rng, 0, ns - 1)];
        boot[b] = acc / ns / unit;
      }
      boot.sort();
      return {
        factor,
        effect: mean(slopes[f]) / unit,
        ciLow: boot[Math.floor(0.025 * (B - 1))],
        ciHigh: boot[Math.ceil(0.975 * (B - 1))],
        start: mean(first),
        end: mean(at(M - 1)),
        std: unit,
        relative: RELATIVE.has(factor),
      };
    });
    effects.sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect) || a.factor.localeCompare(b.factor));

    const along: ClassifierAlong[] = classifiers.map((_, m) => {
      const col = (k: number) => Array.from({ length: ns }, (_, s) => s * M + k);
      let correctAtStart = 0;
      let flipped = 0;
      for (let s = 0; s < ns; s++) {
        if (!correct[m][s * M]) continue;
        correctAtStart++;
        for (let k = 1; k < M; k++) {
          if (!correct[m][s * M + k]) {
            flipped++;
            break;
          }
        }
      }
      const pt = shifts.map((_, k) => mean(col(k).map((r) => pTrue[m][r])));
      return {
        classifier: names[m],
        pTrue: pt,
        accuracy: shifts.map((_, k) => mean(col(k).map((r) => correct[m][r]))),
        correctAtStart,
        flipped,
        drop: pt[0] - pt[M - 1],
      };
    });
    out.push({
      id: dir.id,
      classIndex: dir.classIndex,
      dims: dir.dims,
      samples: ns,
      effects,
      label: labelDirection(effects, minEffect, dominance),
      classifiers: along,
      contrastive: along.length > 1 ? along[0].drop - along[1].drop : null,
    });
  }
  return {
    schema: DIRECTIONS_SCHEMA,
    shifts,
    samples: n,
    seed,
    bootstrap: B,
    minEffect,
    dominance,
    rule: LABEL_RULE,
    factors,
    classifiers: [...names],
    reference: names.length > 1 ? names[1] : null,
    directions: out,
  };
}

/** The directions ranked by their contrastive score (largest first); null without a reference. */
export function contrastiveOrder(result: DirectionsResult): DirectionDescription[] | null {
  if (result.reference === null) return null;
  return [...result.directions].sort((a, b) => (b.contrastive ?? 0) - (a.contrastive ?? 0) || a.id.localeCompare(b.id));
}

interface FailureFactor {
  /** The label (its text) of the directions counted. */
  label: string;
  factor: Factor | null;
  /** Share of the classifier's counted flips on directions with this label. */
  share: number;
  flips: number;
  /** The directions, by id. */
  directions: string[];
}

export interface WhyItFails {
  classifier: string;
  /** What was counted: every decision flip, or only those the reference reader does not also have. */
  counted: 'flips' | 'flips-beyond-reference';
  flips: number;
  /** Labels ranked by share. */
  factors: FailureFactor[];
  /** One line a user can paste into a review. */
  sentence: string;
}

/**
 * Per classifier, the labels ranked by how many of its decision flips along the directions carry
 * them. With a reference reader, the flips of a direction count beyond the reference's own
 * (flipped - reference flipped, at least 0): a direction that breaks every reader explains no
 * failure specific to this one.
 */
export function whyItFails(result: DirectionsResult): WhyItFails[] {
  const ref = result.reference === null ? -1 : 1;
  return result.classifiers.map((name, m) => {
    const contrast = ref >= 0 && m !== ref;
    const byLabel = new Map<string, FailureFactor>();
    let total = 0;
    for (const d of result.directions) {
      const own = d.classifiers[m].flipped;
      const flips = contrast ? Math.max(0, own - d.classifiers[ref].flipped) : own;
      if (flips === 0) continue;
      total += flips;
      const key = d.label.text;
      const e = byLabel.get(key) ?? { label: key, factor: d.label.factor, share: 0, flips: 0, directions: [] };
      e.flips += flips;
      e.directions.push(d.id);
      byLabel.set(key, e);
    }
    const factors = [...byLabel.values()]
      .map((e) => ({ ...e, share: total ? e.flips / total : 0 }))
      .sort((a, b) => b.flips - a.flips || a.label.localeCompare(b.label));
    return {
      classifier: name,
      counted: contrast ? 'flips-beyond-reference' : 'flips',
      flips: total,
      factors,
      sentence: failureSentence(result, m, factors, total, contrast),
    };
  });
}

const fmt = (v: number, d = 2) => v.toFixed(d);

function failureSentence(
  result: DirectionsResult,
  m: number,
  factors: readonly FailureFactor[],
  total: number,
  contrast: boolean,
): string {
  const name = result.classifiers[m];
  if (factors.length === 0)
    return `${name}: no decision flips along the ${result.directions.length} directions described (up to ${result.shifts[result.shifts.length - 1]} std).`;
  // The headline names a factor: directions with no visible change pool many dims whose effect the
  // factors do not capture, so their share is reported beside it rather than as the reason.
  const unnamed = factors.find((f) => f.factor === null);
  const unnamedNote = unnamed ? `; ${Math.round(100 * unnamed.share)}% along directions with no visible change` : '';
  const top = factors.find((f) => f.factor !== null);
  if (!top)
    return (
      `${name}: its ${total} ${contrast ? `flips beyond ${result.reference}'s` : 'flips'} are ` +
      `all along directions with no visible change (dims ${unnamed!.directions.slice(0, 4).join(', ')}).`
    );
  const dirs = result.directions.filter((d) => top.directions.includes(d.id));
  const last = result.shifts.length - 1;
  // The dominant factor's change along those directions, as a ratio of its mean at the start.
  const factorChange =
    top.factor === null
      ? ''
      : (() => {
          const e = dirs.map((d) => d.effects.find((x) => x.factor === top.factor)!);
          const start = mean(e.map((x) => x.start));
          const end = mean(e.map((x) => x.end));
          // Magnitudes as a ratio ("noise x2.10"), positions as a difference ("centroidY +0.97").
          if (RELATIVE.has(top.factor!))
            return Math.abs(start) > 1e-9 ? `: ${top.factor} x${fmt(end / start)} at ${result.shifts[last]} std` : '';
          return `: ${top.factor} ${end >= start ? '+' : ''}${fmt(end - start)} at ${result.shifts[last]} std`;
        })();
  const dimList = [...new Set(dirs.flatMap((d) => d.dims))].slice(0, 4).join(', ');
  const others = result.classifiers
    .map((other, k) => ({ other, k }))
    .filter(({ k }) => k !== m)
    .map(
      ({ other, k }) =>
        `${other} keeps p_true ${fmt(mean(dirs.map((d) => d.classifiers[k].pTrue[last])))} there ` +
        `(${name}: ${fmt(mean(dirs.map((d) => d.classifiers[m].pTrue[last])))})`,
    );
  const where = top.label.startsWith('entangled: ')
    ? `along directions that change several factors at once (${top.label.slice('entangled: '.length)})`
    : `where the image ${top.label}`;
  return (
    `${name} fails most ${where} (${Math.round(100 * top.share)}% of its ${total} ${contrast ? `flips beyond ${result.reference}'s` : 'flips'}` +
    `${unnamedNote}; dims ${dimList}${factorChange})${others.length ? `; ${others.join('; ')}` : ''}.`
  );
}

/** The `directions` section of a report. */
export interface DirectionsReport {
  /** The top dims of the analysed classifier's ranking, described on samples of every class. */
  result: DirectionsResult;
  /** Their ids in the gradient ranking's order, and by contrastive score (null without a reference). */
  gradientOrder: string[];
  contrastiveOrder: string[] | null;
  /** Per classifier: the labels ranked by the share of its decision flips (beyond the reference's) they carry. */
  why: WhyItFails[];
  /** Each corner case's dim described on samples of its class (fewer samples: wider intervals). */
  cornerCases: DirectionsResult | null;
}

export interface DirectionsReportOptions extends DirectionOptions {
  /** Top dims described. */
  dims: number;
  /** Samples per corner-case dim (0: corner cases are not described). */
  cornerCaseSamples: number;
}

/**
 * The report's section: the top dims of `ranking` (its order and direction), the contrastive order
 * against the second classifier, why each classifier fails, and the corner cases' dims.
 * @param cornerCases per class, the ranked dims of its corner cases
 */
export async function directionsReport(
  classifiers: readonly AnalysisModels[],
  names: readonly string[],
  pop: DirectionPopulation,
  ranking: readonly RankedDim[],
  cornerCases: ReadonlyArray<{ classIndex: number; dims: readonly RankedDim[] }>,
  o: DirectionsReportOptions,
  onDirection?: (done: number, total: number) => void,
): Promise<DirectionsReport> {
  const S = pop.styleSize;
  const top = ranking.slice(0, o.dims).map((d) => dimDirection(d, null, S));
  // A class with fewer than 2 samples in the population (tiny populations) has no spread to measure.
  const described = cornerCases.filter((c) => pickSamples(pop, c.classIndex, 2).length >= 2);
  const corner = described.flatMap((c) => c.dims.map((d) => dimDirection(d, c.classIndex, S)));
  const total = top.length + (o.cornerCaseSamples > 0 ? corner.length : 0);
  const result = await describeDirections(classifiers, names, pop, top, o);
  onDirection?.(top.length, total);
  const cornerResult =
    o.cornerCaseSamples > 0 && corner.length > 0
      ? await describeDirections(classifiers, names, pop, corner, { ...o, samples: o.cornerCaseSamples })
      : null;
  onDirection?.(total, total);
  return {
    result,
    gradientOrder: result.directions.map((d) => d.id),
    contrastiveOrder: contrastiveOrder(result)?.map((d) => d.id) ?? null,
    why: whyItFails(result),
    cornerCases: cornerResult,
  };
}
