/**
 * `faultlines explain` as a user runs it (the built dist/cli.mjs): bad inputs are refused with a clear
 * message and nothing is written; a real digit gets report.json, strip.png and report.html.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../src/node/mnist.js';
import { faultlines } from './cli-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Uint8Array) => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
};
const png = (width: number, height: number, channels: number, data?: Uint8Array) =>
  encode({ width, height, channels, depth: 8, data: data ?? new Uint8Array(width * height * channels) });

describe('faultlines explain', () => {
  it('refuses bad inputs with a clear message and writes nothing', async () => {
    const out = path.join(dir, 'refused');
    const cases: Array<[string[], RegExp]> = [
      [[write('text.png', new TextEncoder().encode('hello')), '--label', '3'], /text\.png is not a PNG/],
      [[write('big.png', png(64, 64, 1)), '--label', '3'], /big\.png is 64x64; this domain's images are 32x32/],
      [
        [write('rgb.png', png(32, 32, 3)), '--label', '3'],
        /rgb\.png has 3 channel\(s\) \(RGB\); this domain's images have 1 channel/,
      ],
      [[write('ok.png', png(28, 28, 1)), '--label', '10'], /--label must be an integer in \[0, 9\], got "10"/],
      [[path.join(dir, 'ok.png'), '--label', 'three'], /--label must be an integer in \[0, 9\]/],
      [[path.join(dir, 'ok.png')], /--label is required/],
      [[path.join(dir, 'missing.png'), '--label', '3'], /missing\.png: cannot read/],
      [
        [path.join(dir, 'ok.png'), '--label', '3', '--classifier', 'nope'],
        /--classifier must be one of classifier-clean, classifier-corrupted/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await faultlines('explain', ...args, '--out', out);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('explains a misread real digit: report.json, strip.png and report.html agree with the classifier', async () => {
    // Test digit 5006 of the corrupted split: a 0 that classifier-clean reads as 3.
    const set = loadDigits('test', 'corrupted');
    const pixels = Uint8Array.from(set.images.subarray(5006 * 1024, 5007 * 1024), (v) => Math.round(v * 255));
    const file = write('digit.png', png(32, 32, 1, pixels));
    const out = path.join(dir, 'out');
    const r = await faultlines('explain', file, '--label', String(set.labels[5006]), '--steps', '30', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.schema).toBe('faultlines.explanation/1');
    expect(report.label).toBe(0);
    expect(report.original.predicted).not.toBe(0);
    expect(report.deviations).toHaveLength(10);
    expect(report.counterfactual).not.toBeNull();
    expect(report.sameDecision).toBe(report.original.predicted === report.reconstruction.predicted);
    if (!report.sameDecision) expect(report.warnings.join(' ')).toMatch(/different decision/);
    if (report.counterfactual.found) {
      const last = report.counterfactual.frames.at(-1);
      expect(last.predicted).toBe(0);
      expect(report.counterfactual.frames[0].fraction).toBe(0);
    }
    expect(readFileSync(path.join(out, 'strip.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toMatch(/<h1>digit\.png: label 0/);
  });
});
