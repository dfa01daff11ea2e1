/**
 * `analyze` per domain, as a user runs it (dist/cli.mjs in a child process): the built-in
 * classifiers are the domain's own (descriptor classifierVariants -> classifier-<variant>), and a
 * domain without a generator says so and how to make one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { decode } from 'fast-png';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultlines } from './cli-helpers.js';

/** The smallest analysis that still runs every stage: two samples per class, little naming. */
const TINY = [
  '--samples',
  '20',
  '--direction-dims',
  '2',
  '--direction-samples',
  '2',
  '--corner-direction-samples',
  '0',
  '--contrastive-samples',
  '0',
  '--threads',
  '1',
];

describe('analyze --domain', () => {
  it('says when colored-mnist has no generator and how to make one', async () => {
    // A weights folder with the domain's classifiers and no generator (as before paint-generator ran).
    const root = mkdtempSync(path.join(tmpdir(), 'faultlines-weights-'));
    mkdirSync(path.join(root, 'colored-mnist'));
    for (const name of ['classifier-spurious', 'classifier-independent', 'feature-extractor'])
      symlinkSync(path.resolve('weights/colored-mnist', name), path.join(root, 'colored-mnist', name));
    const was = process.env.FAULTLINES_WEIGHTS;
    process.env.FAULTLINES_WEIGHTS = root;
    try {
      const r = await faultlines('analyze', '--domain', 'colored-mnist');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /colored-mnist\/generator is missing\): make one with `npm run paint:generator -- --domain colored-mnist`/,
      );
      expect(r.stderr).not.toMatch(/classifier-corrupted/);
      // Nor can the generator be made there: the ink generator paint-generator paints is missing too.
      const paint = await faultlines('paint-generator', '--domain', 'colored-mnist');
      expect(paint.code).toBe(1);
      expect(paint.stderr).toMatch(
        /--from \S*colored-mnist\/ink-generator: no generator there; the default is the domain's ink generator/,
      );
      expect(existsSync(path.join(root, 'colored-mnist', 'generator'))).toBe(false);
    } finally {
      if (was === undefined) delete process.env.FAULTLINES_WEIGHTS;
      else process.env.FAULTLINES_WEIGHTS = was;
    }
  });

  it("offers only the domain's classifiers", async () => {
    const r = await faultlines('analyze', '--domain', 'fashion', '--classifier', 'classifier-spurious');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /--classifier "classifier-spurious" is not a built-in classifier of domain "fashion" \(classifier-clean, classifier-corrupted\)/,
    );
    const help = await faultlines('analyze', '--help');
    expect(help.stdout).toMatch(
      /colored-mnist: classifier-spurious \| classifier-independent, default classifier-spurious/,
    );
  });

  // Whole analyses on a shared 2-core machine: minutes, not the default 2.
  it('analyses colored-mnist with its spurious classifier, compared with its independent one', {
    timeout: 900_000,
  }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'faultlines-rgb-report-'));
    const r = await faultlines('analyze', '--domain', 'colored-mnist', ...TINY, '--out', out);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      classifiers: Array<{ model: { weights?: string } }>;
    };
    // The committed painted generator: its images are RGB in every figure.
    const grid = decode(readFileSync(path.join(out, 'traversals.png')));
    expect(grid.channels).toBe(3);
    expect(report.classifiers.map((c) => c.model.weights)).toEqual([
      'weights/colored-mnist/classifier-spurious',
      'weights/colored-mnist/classifier-independent',
    ]);
  });

  it('analyses fashion with its committed generator and its corruption-trained classifier by default', {
    timeout: 900_000,
  }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'faultlines-fashion-report-'));
    const r = await faultlines('analyze', '--domain', 'fashion', ...TINY, '--out', out);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      classifiers: Array<{ model: { weights?: string } }>;
    };
    expect(report.classifiers.map((c) => c.model.weights)).toEqual([
      'weights/fashion/classifier-corrupted',
      'weights/fashion/classifier-clean',
    ]);
  });
});
