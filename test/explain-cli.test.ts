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
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { readTfjsModelDir } from '../src/node/user-model.js';
import { faultlines } from './cli-helpers.js';

/** A user's TF.js LayersModel: 28x28 input, mean/std normalisation, softmax output (test/fixtures). */
const USER_MODEL = 'test/fixtures/mlp-normalised';

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
        new RegExp(
          /--classifier "nope" is not a built-in classifier of domain "mnist" \(classifier-clean, classifier-corrupted\); /
            .source + /for your own TF\.js model give its folder and --adapter FILE/.source,
        ),
      ],
      [
        [path.join(dir, 'ok.png'), '--label', '3', '--adapter', `${USER_MODEL}/adapter.json`],
        /--adapter and --name are only for your own TF\.js model/,
      ],
      [
        [
          path.join(dir, 'ok.png'),
          '--label',
          '3',
          '--classifier',
          `${USER_MODEL}/model`,
          '--adapter',
          `${USER_MODEL}/adapter.json`,
          '--sweep-samples',
          '5',
        ],
        /--sweep-samples must be an integer in \[20, 1000000\]/,
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

  it("explains a digit for the user's own TF.js model: its adapter checked first, its decision the model's own", async () => {
    const set = loadDigits('test', 'clean');
    const i = 7;
    const pixels = Uint8Array.from(set.images.subarray(i * 1024, (i + 1) * 1024), (v) => Math.round(v * 255));
    const file = write('user-digit.png', png(32, 32, 1, pixels));
    const out = path.join(dir, 'user');
    const r = await faultlines(
      'explain',
      file,
      '--label',
      String(set.labels[i]),
      '--classifier',
      `${USER_MODEL}/model`,
      '--adapter',
      `${USER_MODEL}/adapter.json`,
      '--name',
      'my-mlp',
      '--sweep-samples',
      '100',
      '--steps',
      '10',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/adapter check of my-mlp on real test images/);
    expect(r.stdout).toMatch(/plausible/);
    expect(r.stderr).toMatch(/ranking sums: swept \(seed 1, 100 samples\)/);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.classifier).toBe('my-mlp');
    expect(report.classifierId).toMatch(/^[0-9a-f]{64}$/);
    expect(report.model.adapter.input.mean).toEqual([0.1307]);
    expect(report.model.sanityCheck.plausible).toBe(true);
    expect(report.deviations).toHaveLength(10);
    // Either a counterfactual (misread) or the nearest boundary (read right), as for a built-in model.
    expect(report.counterfactual !== null || report.boundary !== null).toBe(true);

    // Independently: the model itself (tfjs-layers, no adapter code) on the same 32x32 image cropped to
    // 28x28 and normalised by hand gives the decision and p_true the report states.
    await useBackend('cpu');
    const { files } = readTfjsModelDir(`${USER_MODEL}/model`);
    const mj = files.modelJson as {
      modelTopology: object;
      weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
    };
    const model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: mj.modelTopology,
        weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
        weightData: files.weightData,
      }),
    );
    const x = tf.slice(
      tf.tensor4d(set.images.subarray(i * 1024, (i + 1) * 1024), [1, 32, 32, 1]),
      [0, 2, 2, 0],
      [1, 28, 28, 1],
    );
    const quantised = tf.div(tf.round(tf.mul(x, 255)), 255);
    const probs = (model.predict(tf.div(tf.sub(quantised, 0.1307), 0.3081)) as tf.Tensor2D).dataSync();
    const predicted = probs.indexOf(Math.max(...probs));
    expect(report.original.predicted).toBe(predicted);
    expect(report.original.pTrue).toBeCloseTo(probs[set.labels[i]], 4);
  });
});
