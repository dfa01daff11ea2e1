/**
 * Image edits that change one image factor (factors.ts) and as little else as a pixel operation can:
 * the counterfactuals of the factor attribution (src/core/analysis/counterfactual-attribution.ts).
 * Each edit has a continuous strength (0: the image unchanged) and two ways, so its size can be set
 * to move its factor by a given amount. Images are size x size x channels, interleaved (HWC), values
 * in [0, 1]. An RGB image's shape is edited on its ink (colour-pair.ts: taken apart into a colour
 * pair and ink, the ink edited, painted again), so a dark digit on a light background thickens,
 * moves and blurs as a light one on black does; RGB images also have colour edits. Pure TypeScript
 * on Float32Arrays (core: no Node or DOM APIs), deterministic (the noise is seeded per image).
 */
import { gaussianBlur } from '../data/corruption.js';
import { createRng, normals } from '../random.js';
import { repaint, unpaint, type ColourPair } from './colour-pair.js';
import type { Factor } from './factors.js';

/** The families edited on any image. */
export const SHAPE_EDITED_FAMILIES = [
  'noise',
  'sharpness',
  'ink',
  'stroke',
  'x position',
  'y position',
  'size',
] as const;
/** The families edited on RGB images only. */
const COLOUR_EDITED_FAMILIES = ['stroke colour', 'background colour'] as const;
/** The factor families an edit exists for, and the factor each one is measured by (factors.ts). */
export const EDITED_FAMILIES = [...SHAPE_EDITED_FAMILIES, ...COLOUR_EDITED_FAMILIES] as const;
export type EditedFamily = (typeof EDITED_FAMILIES)[number];
type ColourEditedFamily = (typeof COLOUR_EDITED_FAMILIES)[number];

/** The families edited on images of `channels` channels. */
export function editedFamilies(channels: number): readonly EditedFamily[] {
  return channels === 3 ? EDITED_FAMILIES : SHAPE_EDITED_FAMILIES;
}

/** The factor each family's edit is meant to move (the one its label names). */
export const FAMILY_FACTOR: Record<EditedFamily, Factor> = {
  noise: 'noise',
  sharpness: 'sharpness',
  ink: 'intensity',
  stroke: 'thickness',
  'x position': 'centroidX',
  'y position': 'centroidY',
  size: 'scale',
  'stroke colour': 'fgSaturation',
  'background colour': 'bgSaturation',
};

/**
 * What an edit is called where its factor's phrase would not say it: a colour edit's +1 way moves the
 * colour towards its complement (a new colour, which no one factor measures), its -1 way desaturates.
 */
export const EDIT_PHRASE: Partial<Record<EditedFamily, [string, string]>> = {
  'stroke colour': ['recolours strokes', 'desaturates strokes'],
  'background colour': ['recolours the background', 'desaturates the background'],
};

/**
 * +1: the way that raises the family's factor (noisier, sharper, more ink, thicker, right, down,
 * larger); colour edits: +1 recolours (towards the complement), -1 desaturates (towards grey).
 */
export type EditWay = 1 | -1;

function perChannel(img: Float32Array, size: number, channels: number, f: (plane: Float32Array) => Float32Array) {
  if (channels === 1) return f(img);
  const px = size * size;
  const out = new Float32Array(img.length);
  const plane = new Float32Array(px);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < px; i++) plane[i] = img[i * channels + c];
    const e = f(plane);
    for (let i = 0; i < px; i++) out[i * channels + c] = e[i];
  }
  return out;
}

const clip = (v: number) => Math.min(1, Math.max(0, v));

/** Bilinear sample of a plane at (x, y), zero outside (the background of a digit). */
function sample(plane: Float32Array, size: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number) => (xx >= 0 && xx < size && yy >= 0 && yy < size ? plane[yy * size + xx] : 0);
  return (
    (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
    fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1))
  );
}

/** 3x3 grey-level dilation (max) or erosion (min), plus-shaped, zero outside. */
function morph(plane: Float32Array, size: number, dilate: boolean): Float32Array {
  const out = new Float32Array(plane.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let v = plane[y * size + x];
      const n = [
        x + 1 < size ? plane[y * size + x + 1] : 0,
        x > 0 ? plane[y * size + x - 1] : 0,
        y + 1 < size ? plane[(y + 1) * size + x] : 0,
        y > 0 ? plane[(y - 1) * size + x] : 0,
      ];
      for (const u of n) v = dilate ? Math.max(v, u) : Math.min(v, u);
      out[y * size + x] = v;
    }
  return out;
}

/**
 * The image with one family's factor moved `way` by an edit of `strength` (>= 0):
 * - noise: + N(0, strength^2) per pixel (seeded by `seed`, `index`), clipped; the other way, the
 *   image's own high-frequency residual removed by a 3x3 median blended in by min(1, strength);
 * - sharpness: a Gaussian blur of sigma `strength` / an unsharp mask x + strength (x - blur_1(x));
 * - ink: values scaled by 1 - strength / 1 + strength (clipped);
 * - stroke: blended towards a plus-shaped dilation / erosion by `strength` (2: twice, fractional between);
 * - x / y position: moved `strength` px, rounded to whole pixels (zero fill);
 * - size: zoomed about the image centre by (1 + strength) / 1 / (1 + strength);
 * - stroke colour / background colour (RGB only): that colour c mixed, by min(1, strength), towards
 *   its complement 1 - c / towards its grey (the mean of its channels); the ink unchanged.
 * On RGB images every family but noise edits the ink (or the colours) and paints the image again.
 */
export function editFactor(
  img: Float32Array,
  size: number,
  channels: number,
  family: EditedFamily,
  way: EditWay,
  strength: number,
  noise: { seed: number; index: number } = { seed: 0, index: 0 },
): Float32Array {
  if (!(strength >= 0)) throw new RangeError(`edit strength must be >= 0, got ${strength}`);
  if (strength === 0) return Float32Array.from(img);
  if (family === 'noise') return editNoise(img, size, channels, way, strength, noise);
  if (channels === 3) {
    const parts = unpaint(img, size);
    if (family === 'stroke colour' || family === 'background colour')
      return repaint(parts.ink, recolour(parts.pair, family, way, strength), parts.residual);
    return repaint(editShape(parts.ink, size, family, way, strength), parts.pair, parts.residual);
  }
  if (family === 'stroke colour' || family === 'background colour')
    throw new RangeError(`the ${family} edit needs an RGB image, got ${channels} channel(s)`);
  return perChannel(img, size, channels, (p) => editShape(p, size, family, way, strength));
}

/** A colour of the pair mixed towards its complement (way +1) or its grey (way -1). */
function recolour(pair: ColourPair, family: ColourEditedFamily, way: EditWay, strength: number): ColourPair {
  const out = [...pair] as ColourPair;
  const at = family === 'stroke colour' ? 0 : 3;
  const a = Math.min(1, strength);
  const grey = (pair[at] + pair[at + 1] + pair[at + 2]) / 3;
  for (let c = at; c < at + 3; c++) out[c] = (1 - a) * pair[c] + a * (way > 0 ? 1 - pair[c] : grey);
  return out;
}

/** One plane (a grey image or an RGB image's ink) with a shape family's edit. */
function editShape(
  p: Float32Array,
  size: number,
  family: Exclude<EditedFamily, 'noise' | ColourEditedFamily>,
  way: EditWay,
  strength: number,
): Float32Array {
  // Every other edit acts on the 3x3 median of the image and the residual is added back unchanged:
  // the `noise` factor is that residual, so sharpening, brightening or dilating a speckled frame
  // does not also amplify its speckle (an edit of one factor, not of noise as well).
  const m = median3(p, size);
  const e = editPlane(m, size, family, way, strength);
  return e.map((v, i) => clip(v + p[i] - m[i]));
}

function editNoise(
  img: Float32Array,
  size: number,
  channels: number,
  way: EditWay,
  strength: number,
  noise: { seed: number; index: number },
): Float32Array {
  if (way > 0) {
    const n = normals(createRng(noise.seed, noise.index), img.length);
    return img.map((v, i) => clip(v + strength * n[i]));
  }
  return perChannel(img, size, channels, (p) => {
    const m = median3(p, size);
    const a = Math.min(1, strength);
    return p.map((v, i) => (1 - a) * v + a * m[i]);
  });
}

/** One plane (a median-filtered channel) with a non-noise family's edit. */
function editPlane(
  p: Float32Array,
  size: number,
  family: Exclude<EditedFamily, 'noise' | ColourEditedFamily>,
  way: EditWay,
  strength: number,
) {
  switch (family) {
    case 'sharpness': {
      if (way < 0) return gaussianBlur(p, size, strength);
      const b = gaussianBlur(p, size, 1);
      return p.map((v, i) => clip(v + strength * (v - b[i])));
    }
    case 'ink':
      return p.map((v) => clip(v * (way > 0 ? 1 + strength : Math.max(0, 1 - strength))));
    case 'stroke': {
      let cur = p;
      let left = strength;
      while (left > 0) {
        const next = morph(cur, size, way > 0);
        const a = Math.min(1, left);
        cur = a === 1 ? next : cur.map((v, i) => (1 - a) * v + a * next[i]);
        left -= 1;
      }
      return cur;
    }
    case 'x position':
    case 'y position': {
      // Whole pixels: a fractional move resamples, and resampling softens the strokes (a blur as well).
      const px = Math.round(strength);
      const dx = family === 'x position' ? way * px : 0;
      const dy = family === 'y position' ? way * px : 0;
      const out = new Float32Array(p.length);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = sample(p, size, x - dx, y - dy);
      return out;
    }
    case 'size': {
      const z = way > 0 ? 1 + strength : 1 / (1 + strength);
      const c = (size - 1) / 2;
      const out = new Float32Array(p.length);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) out[y * size + x] = sample(p, size, c + (x - c) / z, c + (y - c) / z);
      return out;
    }
  }
}

/** 3x3 median of a plane (edges: the window inside the image). */
function median3(p: Float32Array, size: number): Float32Array {
  const out = new Float32Array(p.length);
  const w: number[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      w.length = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < size && xx >= 0 && xx < size) w.push(p[yy * size + xx]);
        }
      w.sort((a, b) => a - b);
      out[y * size + x] = w.length % 2 ? w[(w.length - 1) / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2;
    }
  return out;
}
