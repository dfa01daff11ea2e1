/**
 * The CLI as a user runs it: the built bundle (dist/cli.mjs, built by `npm test`) in a child
 * process.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultlines } from './cli-helpers.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { useBackend } from '../src/node/backend.js';
import { writeWeightsDir } from '../src/node/weights-fs.js';
import { DEFAULT_ANALYSIS_NOISE } from '../src/core/analysis/noise.js';

describe('faultlines CLI', () => {
  it('lists its commands and rejects unknown ones', async () => {
    const help = await faultlines('--help');
    expect(help.code).toBe(0);
    for (const c of ['analyze', 'evaluate', 'train-classifier', 'train-generator']) expect(help.stdout).toContain(c);
    const bad = await faultlines('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('rejects bad options with a clear message', async () => {
    const r = await faultlines('analyze', '--samples', 'many');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--samples must be an integer/);
    const r2 = await faultlines('evaluate', '--backend', 'gpu');
    expect(r2.stderr).toMatch(/--backend must be one of cpu, wasm/);
    const r3 = await faultlines('analyze', '--noise', 'fresh');
    expect(r3.stderr).toMatch(/--noise must be one of const, per-sample/);
  });

  it("evaluate prints both classifiers' accuracies as JSON", async () => {
    const r = await faultlines('evaluate', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ classifier: string; clean: number; corrupted: number }>;
    expect(rows.map((x) => x.classifier)).toEqual(['classifier-clean', 'classifier-corrupted']);
    for (const row of rows) expect(row.clean).toBeGreaterThan(0.97);
  });

  describe('analyze', () => {
    let genDir: string;
    const out = mkdtempSync(path.join(tmpdir(), 'faultlines-report-'));
    beforeAll(async () => {
      await useBackend('cpu');
      // Any generator in the weights format works; a seeded random init keeps this test fast and
      // independent of training.
      genDir = mkdtempSync(path.join(tmpdir(), 'faultlines-gen-'));
      const g = new Generator(DEFAULT_GENERATOR, 5);
      writeWeightsDir(genDir, g.weightsInfo('generator-test'), await g.toHost());
      g.dispose();
    });

    it('writes report.json, the figures and a self-contained report.html', async () => {
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '120',
        '--direction-dims',
        '6',
        '--direction-samples',
        '6',
        '--corner-direction-samples',
        '2',
        '--out',
        out,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      expect(r.code).toBe(0);
      for (const f of ['report.json', 'report.html', 'traversals.png', 'corner-cases.png', 'joint-corner-cases.png'])
        expect(existsSync(path.join(out, f))).toBe(true);
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(report.schema).toBe('faultlines.report/2');
      expect(report.noise).toEqual(DEFAULT_ANALYSIS_NOISE); // recorded, the default
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual([
        'classifier-corrupted',
        'classifier-clean',
      ]);
      expect(report.ranking.dims).toHaveLength(report.ranking.dims.length);
      expect(report.traversals).toHaveLength(10);
      expect(report.cornerCases.classes).toHaveLength(10);
      expect(report.embedding.spaces.map((s: { space: string }) => s.space)).toEqual(['Z', 'W', 'S']);
      // Naming the failure: every top dim described with a label, both classifiers' "why" sentences.
      expect(report.directions.result.directions).toHaveLength(6);
      for (const d of report.directions.result.directions)
        expect(d.label.text).toMatch(/^(entangled: |no visible change|[a-z])/);
      expect(report.directions.why.map((w: { classifier: string }) => w.classifier)).toEqual([
        'classifier-corrupted',
        'classifier-clean',
      ]);
      expect(r.stdout).toContain('why: classifier-corrupted');
      // The contrastive ranking against the compared classifier: every dim, the factor attribution.
      expect(report.contrastive.ranking.reference).toBe('classifier-clean');
      expect(report.contrastive.ranking.dims).toHaveLength(report.ranking.dims.length);
      expect(report.contrastive.attribution.factors).toHaveLength(7);
      expect(report.contrastive.attribution.samples).toBe(120);
      expect(r.stdout).toContain('specific weakness: ');
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('What the directions do to the image');
      expect(html).toContain('Specific weakness against classifier-clean');
      expect(html).toContain('data:image/png;base64,');
      expect(html).not.toMatch(/<script[^>]+src=/); // nothing loaded from elsewhere
      // The whole analysis in a child process; the naming is kept small (6 dims x 6 samples, corner
      // cases 2 samples each) so that its fixed cost does not dominate the test.
    }, 240_000);

    it('analyses a user TF.js model through its adapter, compared with the built-in CNN', async () => {
      const userOut = mkdtempSync(path.join(tmpdir(), 'faultlines-user-report-'));
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '60',
        '--classifier',
        'test/fixtures/mlp-layers',
        '--adapter',
        'test/fixtures/mlp-layers/adapter.json',
        '--out',
        userOut,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      const report = JSON.parse(readFileSync(path.join(userOut, 'report.json'), 'utf8'));
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual(['mlp-layers', 'classifier-corrupted']);
      expect(report.classifiers[0].id).toMatch(/^[0-9a-f]{64}$/);
    });

    it('ranks with the built-in CNN when the user model has no gradient, and measures the user model on the same dims', async () => {
      const userOut = mkdtempSync(path.join(tmpdir(), 'faultlines-user-report-'));
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '60',
        '--classifier',
        'test/fixtures/mlp-graph-equal',
        '--adapter',
        'test/fixtures/mlp-graph-equal/adapter.json',
        '--out',
        userOut,
      );
      expect(r.stderr).toMatch(
        /no gradient for op Equal; ranking, traversals and corner cases use classifier-corrupted/,
      );
      const report = JSON.parse(readFileSync(path.join(userOut, 'report.json'), 'utf8'));
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual([
        'classifier-corrupted',
        'mlp-graph-equal',
      ]);
      expect(report.accuracyCurves.curves).toHaveLength(2);
      // No gradient through the user model: no contrastive ranking.
      expect(report.contrastive).toBeNull();
    });

    it('refuses a user model without an adapter, and an adapter for a built-in model', async () => {
      const a = await faultlines('analyze', '--classifier', 'test/fixtures/mlp-layers');
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(/give its folder and --adapter FILE/);
      const b = await faultlines('analyze', '--classifier', 'classifier-clean', '--adapter', 'x.json');
      expect(b.stderr).toMatch(/--adapter is only for your own TF.js model/);
    });
  });
});
