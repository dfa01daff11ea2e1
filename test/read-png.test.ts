/** A user's PNG as the models take it (src/core/image/read-png.ts): what is accepted, and what is refused with which words. */
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { checkLabel, ImageInputError, readDomainPng } from '../src/core/image/read-png.js';

const MNIST = { size: 32, channels: 1 };
const png = (width: number, height: number, channels: number, fill = (i: number) => i % 256) =>
  encode({
    width,
    height,
    channels,
    depth: 8,
    data: Uint8Array.from({ length: width * height * channels }, (_, i) => fill(i)),
  });

describe('readDomainPng', () => {
  it('reads a grey 32x32 PNG as is and pads a 28x28 one by 2 px of background', () => {
    const full = readDomainPng(png(32, 32, 1), MNIST);
    expect(full.length).toBe(1024);
    expect(full[5]).toBeCloseTo(5 / 255, 6);
    const small = readDomainPng(
      png(28, 28, 1, () => 255),
      MNIST,
    );
    expect(small.length).toBe(1024);
    expect(small[0]).toBe(0); // padding
    expect(small[2 * 32 + 2]).toBe(1); // first pixel of the 28x28 image
    expect(small[29 * 32 + 29]).toBe(1); // its last
    expect(small[30 * 32 + 30]).toBe(0);
  });

  it('refuses a file that is not a PNG, a wrong size and a wrong channel count, naming the field', () => {
    const refused = (bytes: Uint8Array) => {
      try {
        readDomainPng(bytes, MNIST);
      } catch (err) {
        expect(err).toBeInstanceOf(ImageInputError);
        expect((err as ImageInputError).field).toBe('image');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(new TextEncoder().encode('GIF89a not a png at all'))).toMatch(/image is not a PNG/);
    const truncated = png(32, 32, 1).slice(0, 40);
    expect(refused(truncated)).toMatch(/image is not a readable PNG/);
    expect(refused(png(64, 64, 1))).toMatch(
      /image is 64x64; this domain's images are 32x32 \(or 28x28, padded by 2 px\)/,
    );
    expect(refused(png(32, 32, 3))).toMatch(
      /image has 3 channel\(s\) \(RGB\); this domain's images have 1 channel\(s\) \(grey\)/,
    );
    expect(refused(png(32, 32, 2))).toMatch(/2 channel\(s\) \(grey \+ alpha\)/);
  });

  it('reads an RGB PNG for an RGB domain, channel by channel', () => {
    const rgb = readDomainPng(
      png(32, 32, 3, (i) => (i % 3 === 1 ? 255 : 0)),
      { size: 32, channels: 3 },
    );
    expect(Array.from(rgb.subarray(0, 6))).toEqual([0, 1, 0, 0, 1, 0]);
  });
});

describe('checkLabel', () => {
  it('takes an integer class (or its decimal string) and refuses anything else', () => {
    expect(checkLabel(7, 10)).toBe(7);
    expect(checkLabel('0', 10)).toBe(0);
    for (const bad of [10, -1, 2.5, '3x', '', null, undefined, 'seven'])
      expect(() => checkLabel(bad, 10)).toThrow(/label must be an integer in \[0, 9\]/);
  });
});
