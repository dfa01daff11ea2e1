/**
 * `analyze` per domain, as a user runs it (dist/cli.mjs in a child process): the built-in
 * classifiers are the domain's own (descriptor classifierVariants -> classifier-<variant>), and a
 * domain without a trained generator says so and how to train one.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultlines } from './cli-helpers.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { COLOUR, domainStamp } from '../src/core/data/domain.js';
import { useBackend } from '../src/node/backend.js';
import { writeWeightsDir } from '../src/node/weights-fs.js';

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
  let rgbGen: string;
  beforeAll(async () => {
    await useBackend('cpu');
    // An untrained RGB generator stamped with the domain: enough to check which classifiers are chosen.
    rgbGen = mkdtempSync(path.join(tmpdir(), 'faultlines-rgb-gen-'));
    const g = new Generator({ ...DEFAULT_GENERATOR, imageChannels: 3 }, 5);
    g.setClasses({ names: [...COLOUR.classNames] }, rgbGen);
    writeWeightsDir(rgbGen, { ...g.weightsInfo('generator-rgb-test'), domain: domainStamp(COLOUR) }, await g.toHost());
    g.dispose();
  });

  it('says that colored-mnist has no trained generator yet and how to train one', async () => {
    const r = await faultlines('analyze', '--domain', 'colored-mnist');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /colored-mnist\/generator is missing\): train one with `npm run train:generator -- --domain colored-mnist`/,
    );
    expect(r.stderr).not.toMatch(/classifier-corrupted/);
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
    const r = await faultlines('analyze', '--domain', 'colored-mnist', '--generator', rgbGen, ...TINY, '--out', out);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      classifiers: Array<{ model: { weights?: string } }>;
    };
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
