/**
 * The adapter's sanity check: a user classifier, through its adapter, on the domain's real test
 * images (clean and corrupted). A wrong adapter (range, normalisation, class map) still loads and
 * still yields a plausible-looking analysis — only the accuracy on images whose labels are known
 * tells. Pure core code: the CLI and the edge worker run the same check on their own copy of the
 * images (all of them from the npm package in the CLI, a committed sample on the edge).
 */
import { evaluateClassifier, type Classifier } from './classifier.js';
import type { DataVariant } from '../data/domain.js';

const SANITY_CHECK_SCHEMA = 'faultlines.adapter-sanity-check/1';

/**
 * Below this accuracy on clean test images the adapter is reported as implausible. Half the clean
 * test images is far under what any classifier worth analysing reaches on the built-in domains (a
 * linear model: about 92% on MNIST, 84% on Fashion-MNIST; the built-in CNNs 99% and 90%), and far
 * over what the wrong adapters measured in docs/bring-your-own-model.md leave (chance to ~40%).
 */
export const PLAUSIBLE_CLEAN_ACCURACY = 0.5;
/** "Near chance": under this multiple of chance (1 / classes). */
const NEAR_CHANCE_FACTOR = 2;

/** The adapter fields a failed check points at, in the order they usually go wrong. */
const ADAPTER_FIELDS_TO_CHECK = [
  'adapter.input.range',
  'adapter.input.mean',
  'adapter.input.std',
  'adapter.classes.generatorToModel',
  'adapter.output.index',
] as const;

/**
 * Labelled images [count, side*side*channels] (channels last) in [0, 1], labels in the generator's
 * class order; `split` is the domain's data variant they come from.
 */
export interface SanityCheckImages {
  /** The domain's data variant (clean, corrupted, independent, spurious). */
  split: DataVariant;
  images: Float32Array;
  labels: ArrayLike<number>;
  /** Image channels (absent = 1, grey). */
  channels?: number;
}

interface SanityCheckSplit {
  split: DataVariant;
  count: number;
  accuracy: number;
  /** The class predicted most often and its share (a wrong range often collapses every prediction to one class). */
  mostPredicted: { classIndex: number; share: number };
}

export interface AdapterSanityCheck {
  schema: typeof SANITY_CHECK_SCHEMA;
  /** Where the images come from, in words. */
  data: string;
  classes: number;
  chance: number;
  threshold: number;
  splits: SanityCheckSplit[];
  /** Whether the clean accuracy reaches the threshold. */
  plausible: boolean;
  /** Why not, naming the adapter fields to check; null when plausible. */
  warning: string | null;
  /** Checked too: which fields the warning names. */
  fieldsToCheck: string[];
}

/** Accuracy and the most predicted class of `classifier` on one labelled set. */
async function evaluateSplit(classifier: Classifier, set: SanityCheckImages): Promise<SanityCheckSplit> {
  const r = await evaluateClassifier(classifier, set.images, set.labels, 500, undefined, set.channels ?? 1);
  const top = r.predictedCounts.reduce((best, n, c) => (n > r.predictedCounts[best] ? c : best), 0);
  return {
    split: set.split,
    count: r.count,
    accuracy: r.accuracy,
    mostPredicted: { classIndex: top, share: r.predictedCounts[top] / r.count },
  };
}

/**
 * Runs the check. `data` describes the images (reported as is).
 * @example
 * const check = await adapterSanityCheck(user.classifier, [clean, corrupted], 'MNIST test, first 2,000');
 * if (!check.plausible) console.warn(check.warning);
 */
export async function adapterSanityCheck(
  classifier: Classifier,
  sets: readonly SanityCheckImages[],
  data: string,
): Promise<AdapterSanityCheck> {
  const K = classifier.numClasses;
  const chance = 1 / K;
  const splits: SanityCheckSplit[] = [];
  for (const s of sets) splits.push(await evaluateSplit(classifier, s));
  // The reference split decides: clean images, or the first variant of a domain without one (coloured MNIST's independent colours).
  const clean = splits.find((s) => s.split === 'clean') ?? splits[0];
  const plausible = clean.accuracy >= PLAUSIBLE_CLEAN_ACCURACY;
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const nearChance = clean.accuracy < NEAR_CHANCE_FACTOR * chance;
  const collapse =
    clean.mostPredicted.share >= 0.5
      ? `; ${pct(clean.mostPredicted.share)} of the images are read as class ${clean.mostPredicted.classIndex}`
      : '';
  const warning = plausible
    ? null
    : `classifier ${classifier.name}: ${pct(clean.accuracy)} accuracy on ${clean.count} real ${clean.split} test images (` +
      `${nearChance ? 'near chance' : 'far below'} ` +
      `${nearChance ? pct(chance) : `the ${pct(PLAUSIBLE_CLEAN_ACCURACY)} a classifier of these classes should reach`}` +
      `${collapse}): the adapter probably does not describe the model; check ${ADAPTER_FIELDS_TO_CHECK.join(', ')} (the pixel range and normalisation ` +
      `the model was trained with, and which output is which class). An analysis through this adapter describes the adapter's mistake, not the model.`;
  return {
    schema: SANITY_CHECK_SCHEMA,
    data,
    classes: K,
    chance,
    threshold: PLAUSIBLE_CLEAN_ACCURACY,
    splits,
    plausible,
    warning,
    fieldsToCheck: plausible ? [] : [...ADAPTER_FIELDS_TO_CHECK],
  };
}
