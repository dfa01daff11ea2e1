/**
 * Coloured MNIST (src/core/data/colour.ts, src/node/domain-data.ts): the palette, the colour draws
 * (deterministic per sample, foreground never the background, the spurious split's 90% label-colour
 * agreement measured on the real 60,000 training labels), and the painted images (each pixel the
 * lerp of background and foreground by the grey digit's ink).
 */
import { describe, expect, it } from 'vitest';
import {
  COLOUR_SEEDS,
  colourDigits,
  drawColours,
  labelColourAgreement,
  PALETTE,
  SPURIOUS_RATE,
  type ColourDigitSet,
} from '../src/core/data/colour.js';
import { IMAGE_SIZE } from '../src/core/data/digits.js';
import { COLOUR, getDomain } from '../src/core/data/domain.js';
import { describeDomainData, loadDomainSet } from '../src/node/domain-data.js';
import { loadDigits } from '../src/node/mnist.js';

const PX = IMAGE_SIZE * IMAGE_SIZE;

describe('coloured MNIST data', () => {
  it('has ten colours at least 0.4 apart in RGB', () => {
    expect(PALETTE).toHaveLength(COLOUR.classNames.length);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < PALETTE.length; i++)
      for (let j = i + 1; j < PALETTE.length; j++) {
        const [a, b] = [PALETTE[i].rgb, PALETTE[j].rgb];
        min = Math.min(min, Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]));
      }
    expect(min).toBeGreaterThan(0.4);
  });

  it('draws the same colours for a sample however the set is built, and other colours for another seed', () => {
    const labels = loadDigits('train', 'clean').labels;
    const a = drawColours(labels, 'spurious', 7);
    const b = drawColours(labels, 'spurious', 7);
    expect(Buffer.from(a.foreground).equals(Buffer.from(b.foreground))).toBe(true);
    expect(Buffer.from(a.background).equals(Buffer.from(b.background))).toBe(true);
    // Sample i's stream is (seed, i): a prefix of the labels gets the prefix of the colours.
    const prefix = drawColours(labels.subarray(0, 100), 'spurious', 7);
    expect(Array.from(prefix.foreground)).toEqual(Array.from(a.foreground.subarray(0, 100)));
    const other = drawColours(labels, 'spurious', 8);
    expect(Buffer.from(other.foreground).equals(Buffer.from(a.foreground))).toBe(false);
    for (const c of [a, drawColours(labels, 'independent', 7)])
      expect(c.foreground.every((f, i) => f !== c.background[i])).toBe(true);
  });

  it('gives 90% of the spurious training split its label colour (every class), and 10% of the independent one', () => {
    const labels = loadDigits('train', 'clean').labels;
    const spurious = labelColourAgreement({
      labels,
      foreground: drawColours(labels, 'spurious', COLOUR_SEEDS.train.spurious).foreground,
    });
    // Binomial standard error at n = 60,000: 0.0012; per class (~6,000): 0.004.
    expect(Math.abs(spurious.overall - SPURIOUS_RATE)).toBeLessThan(0.005);
    for (const p of spurious.perClass) expect(Math.abs(p - SPURIOUS_RATE)).toBeLessThan(0.02);
    const independent = labelColourAgreement({
      labels,
      foreground: drawColours(labels, 'independent', COLOUR_SEEDS.train.independent).foreground,
    });
    expect(Math.abs(independent.overall - 0.1)).toBeLessThan(0.005);
    for (const p of independent.perClass) expect(Math.abs(p - 0.1)).toBeLessThan(0.02);
    // Background: uniform over the 9 colours that are not the foreground, whatever the label.
    const bg = drawColours(labels, 'spurious', COLOUR_SEEDS.train.spurious).background;
    const bgLabel = labelColourAgreement({ labels, foreground: bg });
    expect(Math.abs(bgLabel.overall - (1 - SPURIOUS_RATE) / 9)).toBeLessThan(0.005);
  });

  it('paints each pixel as lerp(background, foreground, ink) and stores RGB channels last', () => {
    const grey = loadDigits('test', 'clean');
    const set = loadDomainSet('colored-mnist', 'test', 'spurious') as ColourDigitSet;
    expect(set.channels).toBe(3);
    expect(set.count).toBe(10000);
    expect(set.images.length).toBe(10000 * PX * 3);
    expect(Array.from(set.labels.subarray(0, 50))).toEqual(Array.from(grey.labels.subarray(0, 50)));
    for (const s of [0, 1, 4321, 9999]) {
      const fg = PALETTE[set.foreground[s]].rgb;
      const bg = PALETTE[set.background[s]].rgb;
      for (const p of [0, 300, 400, 500, 1023]) {
        const ink = grey.images[s * PX + p];
        for (let c = 0; c < 3; c++)
          expect(set.images[(s * PX + p) * 3 + c]).toBeCloseTo(bg[c] + (fg[c] - bg[c]) * ink, 6);
      }
      // The padding is background colour.
      expect(Array.from(set.images.subarray(s * PX * 3, s * PX * 3 + 3))).toEqual(Array.from(Float32Array.from(bg)));
    }
    // The same bytes when built again from the same grey digits and seed.
    const again = colourDigits(grey, 'spurious', COLOUR_SEEDS.test.spurious);
    expect(Buffer.from(again.images.buffer).equals(Buffer.from(set.images.buffer))).toBe(true);
    // The spurious test split follows the same rule as the training one.
    expect(Math.abs(labelColourAgreement(set).overall - SPURIOUS_RATE)).toBeLessThan(0.01);
    expect(
      Math.abs(
        labelColourAgreement(loadDomainSet('colored-mnist', 'test', 'independent') as ColourDigitSet).overall - 0.1,
      ),
    ).toBeLessThan(0.01);
  });

  it('refuses a variant the domain does not have, naming its variants', () => {
    expect(getDomain('colored-mnist').image).toEqual({ size: 32, channels: 3 });
    expect(() => loadDomainSet('colored-mnist', 'test', 'clean')).toThrow(
      /domain "colored-mnist" has no "clean" data \(its variants: independent, spurious\)/,
    );
    expect(() => loadDomainSet('mnist', 'test', 'spurious')).toThrow(/domain "mnist" has no "spurious" data/);
    expect(describeDomainData('colored-mnist', 'train', 'spurious')).toMatch(
      /90% of class c in colour c\) \(seed 20260102\)/,
    );
  });
});
