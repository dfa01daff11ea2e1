/**
 * Image factors against real MNIST digits with a known change: blurred, noised, thickened
 * (dilated), thinned (eroded), faded, shifted and enlarged by known amounts, and a coloured digit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addGaussianNoise, gaussianBlur } from '../src/core/data/corruption.js';
import { digitImage, IMAGE_SIZE } from '../src/core/data/digits.js';
import { createRng } from '../src/core/random.js';
import { measureFactors, skeletonLength, type FactorValues } from '../src/core/image/factors.js';
import { loadDigits } from '../src/node/mnist.js';

const S = IMAGE_SIZE;
let digits: Float32Array[];

beforeAll(() => {
  const set = loadDigits('test', 'clean');
  digits = Array.from({ length: 20 }, (_, i) => digitImage(set, i));
});

/** 3x3 max (dilate) or min (erode) filter, zero outside. */
function morph(img: Float32Array, op: 'max' | 'min'): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let m = op === 'max' ? 0 : 1;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          const v = yy >= 0 && xx >= 0 && yy < S && xx < S ? img[yy * S + xx] : 0;
          m = op === 'max' ? Math.max(m, v) : Math.min(m, v);
        }
      }
      out[y * S + x] = m;
    }
  }
  return out;
}

function shift(img: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++)
      if (y - dy >= 0 && y - dy < S && x - dx >= 0 && x - dx < S) out[y * S + x] = img[(y - dy) * S + (x - dx)];
  return out;
}

/** Nearest-neighbour zoom by `z` about the image centre. */
function zoom(img: Float32Array, z: number): Float32Array {
  const c = (S - 1) / 2;
  const out = new Float32Array(img.length);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const sy = Math.round(c + (y - c) / z);
      const sx = Math.round(c + (x - c) / z);
      if (sy >= 0 && sx >= 0 && sy < S && sx < S) out[y * S + x] = img[sy * S + sx];
    }
  }
  return out;
}

const measure = (img: Float32Array): FactorValues => measureFactors(img, S);
const ratios = (change: (img: Float32Array, i: number) => Float32Array, factor: keyof FactorValues) =>
  digits.map((d, i) => (measure(change(d, i))[factor] as number) / (measure(d)[factor] as number));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

describe('image factors on real MNIST digits', () => {
  it('noise: Gaussian noise (std 0.2) raises the residual of every digit by 1.3x or more (median 2x); blur lowers it', () => {
    const noised = ratios((d, i) => addGaussianNoise(Float32Array.from(d), 0.2, createRng(7, i)), 'noise');
    for (const r of noised) expect(r).toBeGreaterThan(1.3);
    expect(median(noised)).toBeGreaterThan(2);
    for (const r of ratios((d) => gaussianBlur(d, S, 1), 'noise')) expect(r).toBeLessThan(1);
  });

  it('sharpness: blur (sigma 1 px) divides it by more than 4; noise changes it far less', () => {
    for (const r of ratios((d) => gaussianBlur(d, S, 1), 'sharpness')) expect(r).toBeLessThan(0.25);
    const noised = ratios((d, i) => addGaussianNoise(Float32Array.from(d), 0.2, createRng(7, i)), 'sharpness');
    expect(median(noised)).toBeGreaterThan(0.5);
  });

  it('thickness: a 3x3 dilation thickens every stroke by 1.3x or more (median 1.6x), an erosion thins them back', () => {
    const thick = ratios((d) => morph(d, 'max'), 'thickness');
    for (const r of thick) expect(r).toBeGreaterThan(1.3);
    expect(median(thick)).toBeGreaterThan(1.6);
    // Size comes from the skeleton, so a thicker stroke does not read as a larger digit.
    expect(Math.abs(median(ratios((d) => morph(d, 'max'), 'scale')) - 1)).toBeLessThan(0.1);
    for (const r of ratios((d) => morph(d, 'max'), 'area')) expect(r).toBeGreaterThan(1.4);
    // MNIST strokes are 2-3 px wide, so a 3x3 erosion of the digit itself erases most of it: thin
    // the dilated digit back instead.
    for (const d of digits)
      expect(measure(morph(morph(d, 'max'), 'min')).thickness).toBeLessThan(0.8 * measure(morph(d, 'max')).thickness);
  });

  it('intensity: halving the ink halves the stroke intensity and keeps its area (the threshold adapts)', () => {
    const half = (d: Float32Array) => d.map((v) => v / 2);
    for (const r of ratios(half, 'intensity')) expect(r).toBeCloseTo(0.5, 1);
    for (const r of ratios(half, 'area')) expect(Math.abs(r - 1)).toBeLessThan(0.1);
  });

  it('position: a shift by (3, -2) px moves the centroid by exactly that and changes nothing else', () => {
    // Only digits whose ink stays 2 px off the edge after the shift (MNIST centres by mass, so some
    // strokes come close to it; the median filter replicates edge pixels).
    const clear = (v: Float32Array) =>
      v.every(
        (x, i) => x === 0 || (i % S >= 2 && i % S < S - 2 && Math.floor(i / S) >= 2 && Math.floor(i / S) < S - 2),
      );
    const whole = digits.filter((d) => clear(d) && clear(shift(d, 3, -2)));
    expect(whole.length).toBeGreaterThanOrEqual(10);
    for (const d of whole) {
      const a = measure(d);
      const b = measure(shift(d, 3, -2));
      expect(b.centroidX - a.centroidX).toBeCloseTo(3, 4);
      expect(b.centroidY - a.centroidY).toBeCloseTo(-2, 4);
      for (const f of ['noise', 'sharpness', 'intensity', 'contrast', 'area', 'thickness', 'scale'] as const)
        expect(b[f]).toBeCloseTo(a[f], 5);
    }
  });

  it('scale: zooming by 1.4 about the centre enlarges the skeleton bounding box by 20-70% (skeleton ends sit half a stroke inside the ink)', () => {
    for (const r of ratios((d) => zoom(d, 1.4), 'scale')) {
      expect(r).toBeGreaterThan(1.2);
      expect(r).toBeLessThanOrEqual(1.7);
    }
  });

  it('skeleton: a filled 3-px-wide bar thins to about its length', () => {
    const mask = new Uint8Array(S * S);
    for (let y = 10; y < 13; y++) for (let x = 5; x < 25; x++) mask[y * S + x] = 1;
    const n = skeletonLength(mask, S);
    expect(n).toBeGreaterThanOrEqual(16);
    expect(n).toBeLessThanOrEqual(20);
  });

  it(
    'colour: a red digit on a blue background has hue 0 / 2/3; halving the background ' +
      'brightness halves bgBrightness and leaves the stroke brightness within 5%',
    () => {
      const rgb = (d: Float32Array, bg: number) => {
        const out = new Float32Array(S * S * 3);
        for (let i = 0; i < S * S; i++) {
          out[3 * i] = d[i];
          out[3 * i + 2] = d[i] > 0 ? 0 : bg;
        }
        return out;
      };
      const a = measureFactors(rgb(digits[0], 0.8), S, 3);
      const b = measureFactors(rgb(digits[0], 0.4), S, 3);
      // The stroke mask (from the distance to the background colour) takes in a little of the anti-aliased edge, where red meets blue.
      expect(Math.min(a.fgHue!, 1 - a.fgHue!)).toBeLessThan(0.01);
      // The faint anti-aliased stroke edge (below the stroke threshold) is red on black: bg hue a little off blue.
      expect(Math.abs(a.bgHue! - 2 / 3)).toBeLessThan(0.02);
      expect(b.bgBrightness! / a.bgBrightness!).toBeCloseTo(0.5, 1);
      // The stroke mask's threshold moves a little with the background.
      expect(Math.abs(b.fgBrightness! / a.fgBrightness! - 1)).toBeLessThan(0.05);
      expect(a.fgRed!).toBeGreaterThan(0.5);
      expect(a.fgBlue!).toBeLessThan(0.02);
      expect(a.bgBlue! / b.bgBlue!).toBeCloseTo(2, 1);
      expect(() => measureFactors(digits[0], S, 3)).toThrow(/values/);
    },
  );

  it('colour: the shape factors of a painted digit do not depend on its colours (dark on light, equal luminance)', () => {
    const paint = (d: Float32Array, fg: number[], bg: number[]) =>
      Float32Array.from({ length: S * S * 3 }, (_, k) => bg[k % 3] + (fg[k % 3] - bg[k % 3]) * d[Math.floor(k / 3)]);
    const d = digits[0];
    const white = measureFactors(paint(d, [1, 1, 1], [0, 0, 0]), S, 3);
    const gray = measureFactors(d, S, 1);
    // Black on yellow, and red on a green of (about) the same luminance.
    for (const [fg, bg] of [
      [
        [0, 0, 0],
        [1, 0.95, 0.1],
      ],
      [
        [0.9, 0.1, 0.1],
        [0.1, 0.45, 0.1],
      ],
    ]) {
      const f = measureFactors(paint(d, fg, bg), S, 3);
      for (const k of ['thickness', 'area', 'centroidX', 'centroidY', 'scale'] as const) {
        expect(f[k]).toBeCloseTo(white[k], 5);
        expect(f[k]).toBeCloseTo(gray[k], 5);
      }
      // Mean channels: the painted colour at the region's mean ink, which the white-on-black painting reads directly.
      expect(f.fgRed!).toBeCloseTo(bg[0] + (fg[0] - bg[0]) * white.fgRed!, 5);
      expect(f.bgGreen!).toBeCloseTo(bg[1] + (fg[1] - bg[1]) * white.bgGreen!, 5);
    }
  });
});
