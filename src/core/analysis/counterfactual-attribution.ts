/**
 * Which image factor a classifier's specific weakness follows, by counterfactual edits (issue 14
 * item 5): each factor of the generated frames is changed alone (src/core/image/factor-edits.ts),
 * at growing strengths, and both classifiers read every edited frame. Per edit, the strength at which
 * the classifier loses `threshold` of its typical log-odds margin (mean over samples, in shares of
 * its median |margin| at rest) and the strength at which the reference does; their ratio
 *
 *   ratio = reference's breaking strength / classifier's breaking strength
 *
 * is how many times more of that change the reference tolerates. The edit with the largest ratio
 * names the weakness when its bootstrap interval excludes 1.
 *
 * Why not the regression of the margin deficit on the factors of the frames at rest
 * (contrastive-ranking.ts's `attribution`): across generated digits the factors move together (the
 * generator's speckle comes with blur, faint and thin strokes), so the regression finds the digits a
 * classifier reads worse, not the factor that causes it: it named "adds noise" for the blur- and
 * thick-stroke-fragile fixtures, with the planted factor at the wrong sign. An edit changes one factor
 * with the others held, on the same frames. Why a ratio of strengths: a blur and a 2 px move have no
 * common unit (a population std of sharpness is a sigma-0.3 blur, the blur that breaks a reader is
 * sigma 1-2), but each edit has its own scale shared by both readers.
 *
 * Pure core code (tfjs-core), deterministic for the frames, labels and seed.
 */
import * as tf from '../tf.js';
import type { Classifier } from '../classifier/classifier.js';
import { oneHotFloat } from '../nn/ops.js';
import { createRng, uniformInteger } from '../random.js';
import {
  EDIT_PHRASE,
  editedFamilies,
  editFactor,
  FAMILY_FACTOR,
  type EditedFamily,
  type EditWay,
} from '../image/factor-edits.js';
import { FACTOR_FAMILY, factorPhrase, type DirectionsResult } from './directions.js';

/** The strengths each edit is applied at (units: factor-edits.ts; whole pixels for moves). */
const EDIT_LADDERS: ReadonlyArray<{ family: EditedFamily; way: EditWay; strengths: readonly number[] }> = [
  { family: 'noise', way: 1, strengths: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7] },
  { family: 'noise', way: -1, strengths: [0.25, 0.5, 0.75, 1] },
  { family: 'sharpness', way: -1, strengths: [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3] },
  { family: 'sharpness', way: 1, strengths: [0.5, 1, 1.5, 2, 3, 4, 6, 8] },
  // Up to twice the ink: beyond, the strokes are saturated and only the faint background grows.
  { family: 'ink', way: 1, strengths: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1] },
  { family: 'ink', way: -1, strengths: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] },
  { family: 'stroke', way: 1, strengths: [0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3] },
  { family: 'stroke', way: -1, strengths: [0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3] },
  { family: 'x position', way: 1, strengths: [1, 2, 3, 4, 5, 6] },
  { family: 'x position', way: -1, strengths: [1, 2, 3, 4, 5, 6] },
  { family: 'y position', way: 1, strengths: [1, 2, 3, 4, 5, 6] },
  { family: 'y position', way: -1, strengths: [1, 2, 3, 4, 5, 6] },
  { family: 'size', way: 1, strengths: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6] },
  { family: 'size', way: -1, strengths: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6] },
  // RGB only (editLadders): a colour mixed towards its complement, or towards grey; 1 = all the way.
  { family: 'stroke colour', way: 1, strengths: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1] },
  { family: 'stroke colour', way: -1, strengths: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1] },
  { family: 'background colour', way: 1, strengths: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1] },
  { family: 'background colour', way: -1, strengths: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1] },
];

/** The ladders of the families edited on images of `channels` channels. */
function editLadders(channels: number): typeof EDIT_LADDERS {
  const families = editedFamilies(channels);
  return EDIT_LADDERS.filter((l) => families.includes(l.family));
}

/** Share of the typical margin an edit must remove (mean over samples) to count as breaking a reader. */
const DEFAULT_BREAK_SHARE = 0.3;
/**
 * A reference that does not break within the ladder is given the strength its drop at the ladder's
 * last step extrapolates to (linearly from 0), at most this many times that step: a lower bound.
 */
const EXTRAPOLATION_CAP = 4;

/** One edit's mean margin-share drop at each strength, for the classifier and the reference. */
export interface EditCurve {
  family: EditedFamily;
  way: EditWay;
  /** What the edit does ("blurs", "moves right"): the phrase of its factor's change. */
  label: string;
  strengths: number[];
  classifier: number[];
  reference: number[];
}

/** One edit, scored. */
export interface EditSensitivity {
  family: EditedFamily;
  way: EditWay;
  label: string;
  /** Strength at which each reader loses `threshold` of its typical margin; null: not within the ladder. */
  breaks: { classifier: number | null; reference: number | null };
  /** The reference's strength, extrapolated past the ladder's end (a lower bound), or the ladder's own. */
  referenceExtrapolated: boolean;
  /** Reference's breaking strength / the classifier's; 0 when the classifier does not break within the ladder. */
  ratio: number;
  /** Seeded bootstrap 95% interval of the ratio over samples (the units kept fixed). */
  ciLow: number;
  ciHigh: number;
  /** Share of the bootstrap resamples in which this edit has the largest ratio. */
  firstShare: number;
}

export interface CounterfactualAttribution {
  samples: number;
  threshold: number;
  /** Median |log-odds margin| of each reader at rest: the unit of its drops. */
  medianMargin: { classifier: number; reference: number };
  curves: EditCurve[];
  /** By ratio, largest first. */
  edits: EditSensitivity[];
  /** The first edit, when its ratio's interval lies above 1; else null. */
  named: {
    family: EditedFamily;
    way: EditWay;
    label: string;
    ratio: number;
    /** Its ratio minus the runner-up's, and the runner-up's label. */
    margin: number;
    runnerUp: string;
    firstShare: number;
  } | null;
}

export interface CounterfactualOptions {
  /** Default DEFAULT_BREAK_SHARE. */
  threshold?: number;
  /** Bootstrap resamples over samples; default 200. */
  bootstrap?: number;
  seed: number;
  /** Frames per classifier batch; default 256. */
  batchSize?: number;
}

/** The label of an edit: the phrase of its factor moved its way (directions.ts's phrases). */
export function editLabel(family: EditedFamily, way: EditWay): string {
  const own = EDIT_PHRASE[family];
  return own ? own[way > 0 ? 0 : 1] : factorPhrase(FAMILY_FACTOR[family], way);
}

/** First strength at which `drops` reaches `threshold`, linear between steps from (0, 0); null if never. */
function breakingStrength(strengths: readonly number[], drops: readonly number[], threshold: number): number | null {
  let s0 = 0;
  let d0 = 0;
  for (let k = 0; k < strengths.length; k++) {
    if (drops[k] >= threshold) return s0 + ((threshold - d0) / (drops[k] - d0)) * (strengths[k] - s0);
    s0 = strengths[k];
    d0 = drops[k];
  }
  return null;
}

/** One edit's breaking strengths and ratio from its mean curves. */
function scoreCurve(
  c: Pick<EditCurve, 'strengths' | 'classifier' | 'reference'>,
  threshold: number,
): Pick<EditSensitivity, 'breaks' | 'referenceExtrapolated' | 'ratio'> {
  const own = breakingStrength(c.strengths, c.classifier, threshold);
  const ref = breakingStrength(c.strengths, c.reference, threshold);
  const last = c.strengths[c.strengths.length - 1];
  const lastDrop = c.reference[c.reference.length - 1];
  const refStrength =
    ref ?? Math.min(EXTRAPOLATION_CAP * last, lastDrop > 0 ? (last * threshold) / lastDrop : Infinity);
  return {
    breaks: { classifier: own, reference: ref },
    referenceExtrapolated: ref === null,
    ratio: own === null ? 0 : refStrength / own,
  };
}

/**
 * Edits by ratio (largest first; ties by family and way for determinism). Pure: from the mean curves
 * alone, so a committed measurement can be re-scored without the models.
 */
export function rankCurves(curves: readonly EditCurve[], threshold: number) {
  return curves
    .map((c) => ({ family: c.family, way: c.way, label: c.label, ...scoreCurve(c, threshold) }))
    .sort((a, b) => b.ratio - a.ratio || a.family.localeCompare(b.family) || b.way - a.way);
}

/** Log-odds margins (logit_true - logsumexp(other logits)) of frames [n, size, size, channels]. */
async function margins(
  classifier: Classifier,
  frames: Float32Array,
  labels: ArrayLike<number>,
  size: number,
  channels: number,
  batch: number,
): Promise<Float64Array> {
  const per = size * size * channels;
  const n = frames.length / per;
  const out = new Float64Array(n);
  for (let b = 0; b < n; b += batch) {
    const nb = Math.min(batch, n - b);
    const m = tf.tidy(() => {
      const x = tf.tensor4d(frames.subarray(b * per, (b + nb) * per), [nb, size, size, channels]);
      const logits = classifier.logits(x);
      const onehot = oneHotFloat(
        Array.from({ length: nb }, (_, k) => labels[(b + k) % labels.length]),
        logits.shape[1],
      );
      const own = tf.sum(tf.mul(logits, onehot), 1);
      // The true class masked out of the logsumexp by a large negative offset (exp underflows to 0).
      return tf.sub(own, tf.logSumExp(tf.sub(logits, tf.mul(onehot, 1e4)), 1));
    });
    out.set((await m.data()) as Float32Array, b);
    m.dispose();
  }
  return out;
}

function medianAbs(v: Float64Array): number {
  const s = Float64Array.from(v, Math.abs).sort();
  const n = s.length;
  const m = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  // A unit of 0 (every margin 0: a constant classifier) would make every drop infinite.
  return Math.max(m, 1e-6);
}

/** The frames at rest ([n, size, size, channels] in [0, 1]) and their true labels. */
export interface CounterfactualFrames {
  images: Float32Array;
  labels: ArrayLike<number>;
  size: number;
  channels: number;
}

/**
 * Edits every frame with every edit of its channels' ladders (`editLadders`), reads the originals and the edits with both
 * classifiers, and scores each edit by how much more of it the reference tolerates.
 * @param classifiers the analysed classifier, then the reference reader
 * @param frames the frames at rest ([n, size, size, channels] in [0, 1]) and their true labels
 * @example
 * const a = await counterfactualAttribution([planted, reference], { images, labels, size: 32, channels: 1 }, { seed: 1 });
 * a.named?.label; // "adds noise"
 */
export async function counterfactualAttribution(
  classifiers: readonly [Classifier, Classifier],
  frames: CounterfactualFrames,
  opts: CounterfactualOptions,
): Promise<CounterfactualAttribution> {
  const [only] = await counterfactualAttributions([classifiers[0]], classifiers[1], frames, opts);
  return only;
}

/**
 * `counterfactualAttribution([c, reference], frames, opts)` for each classifier `c`, in one pass:
 * the edited frames and the reference's reads of them are computed once (with four classifiers,
 * less than half the work of four calls), and each result is the one the single-classifier call
 * returns: the same reads, the same seeded bootstrap. For several classifiers against one reader
 * (the planted fixtures against their reference).
 * @example
 * const [a, b] = await counterfactualAttributions([planted, other], reference, frames, { seed: 1 });
 */
export async function counterfactualAttributions(
  classifiers: readonly Classifier[],
  reference: Classifier,
  frames: CounterfactualFrames,
  opts: CounterfactualOptions,
): Promise<CounterfactualAttribution[]> {
  const { images, labels, size, channels } = frames;
  const per = size * size * channels;
  const n = images.length / per;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`counterfactual attribution needs >= 2 frames, got ${n}`);
  if (labels.length !== n) throw new RangeError(`labels: ${labels.length} for ${n} frames`);
  const threshold = opts.threshold ?? DEFAULT_BREAK_SHARE;
  if (!(threshold > 0)) throw new RangeError(`threshold must be > 0, got ${threshold}`);
  if (classifiers.length === 0) throw new RangeError('counterfactual attribution needs a classifier to compare');
  const batch = opts.batchSize ?? 256;
  // The reference is the last reader: each classifier's drops are paired with its drops.
  const readers = [...classifiers, reference];
  const rest = await Promise.all(readers.map((c) => margins(c, images, labels, size, channels, batch)));
  const unit = rest.map(medianAbs);
  // Per edit, per strength, per reader: each sample's drop in shares of the reader's unit.
  const drops: Float64Array[][][] = [];
  const ladders = editLadders(channels);
  for (const ladder of ladders) {
    const perStrength: Float64Array[][] = [];
    for (const strength of ladder.strengths) {
      const edited = new Float32Array(images.length);
      for (let i = 0; i < n; i++)
        edited.set(
          editFactor(images.subarray(i * per, (i + 1) * per), size, channels, ladder.family, ladder.way, strength, {
            seed: opts.seed,
            index: i,
          }),
          i * per,
        );
      const read = await Promise.all(readers.map((c) => margins(c, edited, labels, size, channels, batch)));
      perStrength.push(read.map((m, c) => m.map((v, i) => (rest[c][i] - v) / unit[c])));
    }
    drops.push(perStrength);
  }
  const r = readers.length - 1;
  return classifiers.map((_, c) =>
    scoreDrops(
      drops.map((perStrength) => perStrength.map((byReader) => [byReader[c], byReader[r]] as const)),
      ladders,
      { classifier: unit[c], reference: unit[r] },
      n,
      threshold,
      opts,
    ),
  );
}

/**
 * One classifier's attribution from its and the reference's per-sample drops (per edit, per
 * strength): the mean curves, the ranking, the seeded bootstrap over samples and the edit named.
 */
function scoreDrops(
  drops: ReadonlyArray<ReadonlyArray<readonly [Float64Array, Float64Array]>>,
  ladders: typeof EDIT_LADDERS,
  medianMargin: CounterfactualAttribution['medianMargin'],
  n: number,
  threshold: number,
  opts: CounterfactualOptions,
): CounterfactualAttribution {
  const B = opts.bootstrap ?? 200;
  const curvesOf = (rows: ArrayLike<number>): EditCurve[] =>
    ladders.map((ladder, e) => {
      const mean = (c: number) =>
        drops[e].map((byReader) => {
          let s = 0;
          for (let k = 0; k < rows.length; k++) s += byReader[c][rows[k]];
          return s / rows.length;
        });
      return {
        family: ladder.family,
        way: ladder.way,
        label: editLabel(ladder.family, ladder.way),
        strengths: [...ladder.strengths],
        classifier: mean(0),
        reference: mean(1),
      };
    });
  const curves = curvesOf(Array.from({ length: n }, (_, i) => i));
  const ranked = rankCurves(curves, threshold);
  const key = (e: { family: string; way: number }) => `${e.family}${e.way}`;
  const boots = new Map(ranked.map((e) => [key(e), new Float64Array(B)]));
  const first = new Map(ranked.map((e) => [key(e), 0]));
  const rng = createRng(opts.seed, 0x63667461);
  const rows = new Uint32Array(n);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < n; k++) rows[k] = uniformInteger(rng, 0, n - 1);
    const r = rankCurves(curvesOf(rows), threshold);
    for (const e of r) boots.get(key(e))![b] = e.ratio;
    first.set(key(r[0]), first.get(key(r[0]))! + 1);
  }
  const edits: EditSensitivity[] = ranked.map((e) => {
    const bs = boots.get(key(e))!.sort();
    return {
      ...e,
      ciLow: B > 0 ? bs[Math.floor(0.025 * (B - 1))] : e.ratio,
      ciHigh: B > 0 ? bs[Math.ceil(0.975 * (B - 1))] : e.ratio,
      firstShare: B > 0 ? first.get(key(e))! / B : 1,
    };
  });
  const [top, second] = edits;
  return {
    samples: n,
    threshold,
    medianMargin,
    curves,
    edits,
    named:
      top && top.ratio > 1 && top.ciLow > 1
        ? {
            family: top.family,
            way: top.way,
            label: top.label,
            ratio: top.ratio,
            margin: top.ratio - (second?.ratio ?? 0),
            runnerUp: second?.label ?? 'none',
            firstShare: top.firstShare,
          }
        : null,
  };
}

/** The change a direction makes that the counterfactual edits show the classifier is specifically weak to. */
export interface DirectionWeakness {
  /** The direction's id (`dim:408`). */
  id: string;
  /** The edit ("moves down"), its family and way, its ratio and interval; null: none of the direction's changes is one. */
  edit: {
    family: EditedFamily;
    way: EditWay;
    label: string;
    ratio: number;
    ciLow: number;
    ciHigh: number;
    /** The direction's effect on that family's factor (factor stds per direction std) and the factor. */
    factor: string;
    effect: number;
  } | null;
}

/**
 * Labels each described direction by the counterfactual edits (issue 14): of the changes the
 * direction makes (a factor effect of at least the label rule's `minEffect` with its interval
 * excluding 0), the one whose edit the reference tolerates most times more of, among the edits
 * whose ratio interval lies above 1 (the classifier's specific weaknesses). What a direction does
 * to the image (its effect label) says what a user sees along it; this says which of those changes
 * breaks this classifier rather than any reader. Both readers must be the result's first two.
 */
export function directionWeaknesses(result: DirectionsResult, cf: CounterfactualAttribution): DirectionWeakness[] {
  const weak = cf.edits.filter((e) => e.ciLow > 1 && e.ratio > 1);
  return result.directions.map((d) => {
    for (const e of weak) {
      // edits are by ratio, largest first: the first change the direction makes wins.
      const family = FACTOR_FAMILY[FAMILY_FACTOR[e.family]];
      const moved = d.effects.find(
        (f) =>
          FACTOR_FAMILY[f.factor] === family &&
          Math.abs(f.effect) >= result.minEffect &&
          (f.ciLow > 0 || f.ciHigh < 0) &&
          Math.sign(f.effect) === e.way,
      );
      if (moved)
        return {
          id: d.id,
          edit: {
            family: e.family,
            way: e.way,
            label: e.label,
            ratio: e.ratio,
            ciLow: e.ciLow,
            ciHigh: e.ciHigh,
            factor: moved.factor,
            effect: moved.effect,
          },
        };
    }
    return { id: d.id, edit: null };
  });
}
