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
import { EDITED_FAMILIES, editFactor, FAMILY_FACTOR, type EditWay } from '../src/core/image/factor-edits.js';
import { measureFactors } from '../src/core/image/factors.js';
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
  for (const family of EDITED_FAMILIES)
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

  it('edits each channel of a colour image the same way', () => {
    const d = digits[1];
    const rgb = new Float32Array(S * S * 3);
    for (let i = 0; i < S * S; i++) rgb.set([d[i], d[i], d[i]], i * 3);
    const gray = editFactor(d, S, 1, 'stroke', 1, 1);
    const colour = editFactor(rgb, S, 3, 'stroke', 1, 1);
    for (let i = 0; i < S * S; i += 37) expect(colour[i * 3 + 2]).toBeCloseTo(gray[i], 6);
  });
});
