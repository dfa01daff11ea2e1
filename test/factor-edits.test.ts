/**
 * The counterfactual edits (src/core/image/factor-edits.ts) on real MNIST digits, with speckle added
 * as the generator's frames carry it: each edit moves the factor its label names, the way it names,
 * and every edit but noise's leaves the noise residual where it was (the edit acts on the median
 * image; sharpening or brightening a speckled digit must not read as "adds noise").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { effectScale } from '../src/core/analysis/directions.js';
import { editLabel } from '../src/core/analysis/counterfactual-attribution.js';
import { addGaussianNoise } from '../src/core/data/corruption.js';
import { digitImage, IMAGE_SIZE } from '../src/core/data/digits.js';
import { editFactor, FAMILY_FACTOR, SHAPE_EDITED_FAMILIES, type EditWay } from '../src/core/image/factor-edits.js';
import { measureFactors } from '../src/core/image/factors.js';
import { estimateColourPair } from '../src/core/image/colour-pair.js';
import { createRng } from '../src/core/random.js';
import { loadDigits } from '../src/node/mnist.js';

const S = IMAGE_SIZE;
let digits: Float32Array[];

beforeAll(() => {
  const set = loadDigits('test', 'clean');
  // Noised copies: addGaussianNoise works in place, and the loaded set is the process's cached one,
  // which the other files of the unit tier's shared process read after this one.
  digits = Array.from({ length: 20 }, (_, i) =>
    addGaussianNoise(Float32Array.from(digitImage(set, i)), 0.05, createRng(3, i)),
  );
});

/** A strength per family at which the change is plain (a sigma-1.5 blur, 2 px, a third of the ink). */
const STRENGTH = { noise: 0.2, sharpness: 1.5, ink: 0.4, stroke: 1, 'x position': 2, 'y position': 2, size: 0.25 };

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

describe('factor edits', () => {
  for (const family of SHAPE_EDITED_FAMILIES)
    for (const way of [1, -1] as EditWay[]) {
      // Removing noise: a digit with a little speckle has little to remove; tested on its own below.
      if (family === 'noise' && way < 0) continue;
      it(`${family} ${way > 0 ? '+' : '-'} ("${editLabel(family, way)}") moves ${FAMILY_FACTOR[family]} ${way > 0 ? 'up' : 'down'}`, () => {
        const f = FAMILY_FACTOR[family];
        const change: number[] = [];
        const noise: number[] = [];
        digits.forEach((d, i) => {
          const before = measureFactors(d, S);
          const after = measureFactors(editFactor(d, S, 1, family, way, STRENGTH[family], { seed: 1, index: i }), S);
          change.push(effectScale(f, after[f]!) - effectScale(f, before[f]!));
          noise.push(after.noise / before.noise);
        });
        // Moves: the centroid by the whole pixels asked for; the rest clearly, on most digits.
        if (family === 'x position' || family === 'y position')
          expect(Math.abs(median(change) - way * 2)).toBeLessThan(0.1);
        else
          expect(way * median(change), `${family}: ${change.map((c) => c.toFixed(2)).join(' ')}`).toBeGreaterThan(0.05);
        // Thinning leaves the residual of the edges it removed on the background (x1.4 here): looser.
        const bound = family === 'stroke' && way < 0 ? 0.4 : 0.2;
        if (family !== 'noise')
          expect(Math.abs(Math.log(median(noise))), `noise residual ratio ${median(noise).toFixed(3)}`).toBeLessThan(
            bound,
          );
      });
    }

  it('removing noise lowers the residual; strength 0 is the identity', () => {
    const d = digits[0];
    const before = measureFactors(d, S).noise;
    expect(measureFactors(editFactor(d, S, 1, 'noise', -1, 1), S).noise).toBeLessThan(0.7 * before);
    expect(editFactor(d, S, 1, 'sharpness', -1, 0)).toEqual(d);
    expect(() => editFactor(d, S, 1, 'ink', 1, -1)).toThrow(/strength/);
  });

  it('edits a grey image stored as RGB like the grey image (its ink is the grey image)', () => {
    const d = digits[1];
    const rgb = new Float32Array(S * S * 3);
    for (let i = 0; i < S * S; i++) rgb.set([d[i], d[i], d[i]], i * 3);
    const gray = editFactor(d, S, 1, 'stroke', 1, 1);
    const colour = editFactor(rgb, S, 3, 'stroke', 1, 1);
    // Equal up to the speckle below the background, which the ink clips and the residual carries unedited.
    let sum = 0;
    for (let i = 0; i < S * S; i++) {
      expect(Math.abs(colour[i * 3 + 2] - gray[i])).toBeLessThan(0.1);
      sum += Math.abs(colour[i * 3 + 2] - gray[i]);
    }
    expect(sum / (S * S)).toBeLessThan(0.005);
  });

  /** A grey digit painted fg on bg (RGB). */
  const paint = (d: Float32Array, fg: number[], bg: number[]) =>
    Float32Array.from({ length: S * S * 3 }, (_, k) => bg[k % 3] + (fg[k % 3] - bg[k % 3]) * d[Math.floor(k / 3)]);

  // Clean digits below: the distance from the background that RGB factors read rectifies speckle, a
  // measurement matter the edits do not cause.
  const clean = (i: number) => digitImage(loadDigits('test', 'clean'), i);

  it('on a dark digit painted on a light background, every shape edit does what it does to the grey digit', () => {
    const fg = [0.1, 0.1, 0.5];
    const bg = [1, 0.95, 0.1];
    for (const family of SHAPE_EDITED_FAMILIES) {
      if (family === 'noise') continue;
      for (const way of [1, -1] as EditWay[]) {
        const f = FAMILY_FACTOR[family];
        [0, 1, 2, 3, 4].map(clean).forEach((d, i) => {
          const grey = measureFactors(editFactor(d, S, 1, family, way, STRENGTH[family], { seed: 1, index: i }), S);
          const rgb = editFactor(paint(d, fg, bg), S, 3, family, way, STRENGTH[family], { seed: 1, index: i });
          const painted = measureFactors(rgb, S, 3);
          // The ink the factors read on RGB is |fg - bg| / sqrt(3) times the grey ink: compare scale-free factors.
          if (f === 'intensity')
            expect(painted.intensity / measureFactors(paint(d, fg, bg), S, 3).intensity).toBeCloseTo(
              grey.intensity / measureFactors(d, S).intensity,
              1,
            );
          // Within 10% (+0.3 px): the distance from the background rectifies the digits' speckle.
          else if (f !== 'sharpness')
            expect(Math.abs(painted[f]! - grey[f]!), `${family} ${way} ${f}`).toBeLessThan(
              0.1 * Math.abs(grey[f]!) + 0.3,
            );
          // The colours stay: the stroke's own colour where the ink is full.
          expect(painted.bgRed!).toBeGreaterThan(0.85);
        });
      }
    }
  });

  it('colour edits recolour (towards the complement) or desaturate one colour and leave the shape', () => {
    const d = clean(2);
    const fg = [0.9, 0.1, 0.1];
    const bg = [0.1, 0.7, 0.15];
    const before = measureFactors(paint(d, fg, bg), S, 3);
    const full = measureFactors(editFactor(paint(d, fg, bg), S, 3, 'stroke colour', 1, 1), S, 3);
    // Red strokes become cyan (1 - red) over the same mask; the background stays green.
    expect(full.fgRed! / before.fgRed!).toBeLessThan(0.35);
    expect(full.fgGreen!).toBeGreaterThan(before.fgGreen! + 0.3);
    // (The background region holds the faint anti-aliased edge, whose colour moves with the stroke's.)
    expect(full.bgGreen!).toBeCloseTo(before.bgGreen!, 1);
    // The ink is unchanged; its contrast is not, and the stroke mask's threshold moves a little with it.
    for (const k of ['thickness', 'area', 'centroidX', 'scale'] as const)
      expect(Math.abs(full[k] - before[k])).toBeLessThanOrEqual(0.05 * Math.abs(before[k]) + (k === 'scale' ? 1 : 0.1));
    const greyed = editFactor(paint(d, fg, bg), S, 3, 'background colour', -1, 1);
    expect(measureFactors(greyed, S, 3).bgSaturation!).toBeLessThan(0.05);
    // The pair read off the pixels: the stroke's colour as it was, the background its grey.
    const pair = estimateColourPair(greyed, S);
    const g = (bg[0] + bg[1] + bg[2]) / 3;
    [...fg, g, g, g].forEach((v, j) => expect(pair[j]).toBeCloseTo(v, 5));
    expect(editLabel('stroke colour', 1)).toBe('recolours strokes');
    expect(() => editFactor(d, S, 1, 'stroke colour', 1, 0.5)).toThrow(/RGB/);
  });
});
