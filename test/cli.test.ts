/**
 * The CLI as a user runs it: the built bundle (dist/cli.mjs, built by `npm test`) in a child
 * process.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultlines } from './cli-helpers.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { useBackend } from '../src/node/backend.js';
import { writeWeightsDir } from '../src/node/weights-fs.js';
import { DEFAULT_ANALYSIS_NOISE } from '../src/core/analysis/noise.js';
import { tfjsClassifierId, tfjsModelSha256 } from '../src/core/classifier/tfjs-classifier-id.js';

/** The naming of the failure kept small in the user-model runs: its fixed cost would dominate them. */
const SMALL_NAMING = ['--direction-dims', '4', '--direction-samples', '4', '--corner-direction-samples', '0'];

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
    const r4 = await faultlines('analyze', '--counterfactual-samples', '1');
    expect(r4.stderr).toMatch(/--counterfactual-samples must be 0 \(not computed\) or at least 2, got 1/);
    const r5 = await faultlines('analyze', '--conv', 'fft');
    expect(r5.stderr).toMatch(/--conv must be one of direct, winograd, got "fft"/);
    const r6 = await faultlines('analyze', '--conv', 'winograd', '--backend', 'cpu');
    expect(r6.stderr).toMatch(/--conv winograd needs --backend wasm/);
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
        '--counterfactual-samples',
        '16',
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
      // --counterfactual-samples: the edits on the first 16 frames, each contrastive top dim read through them.
      expect(report.options.counterfactualSamples).toBe(16);
      expect(report.contrastive.counterfactual.samples).toBe(16);
      expect(report.contrastive.weaknesses.map((w: { id: string }) => w.id)).toEqual(
        report.contrastive.directions.directions.map((d: { id: string }) => d.id),
      );
      expect(r.stdout).toContain('counterfactual edits: ');
      // The labelling's share of the contrastive stage, timed (docs/naming.md).
      for (const phase of ['sweep', 'directions', 'regression', 'counterfactual'])
        expect(report.timings[`contrastive.${phase}`]).toBeGreaterThanOrEqual(0);
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
        '20',
        '--classifier',
        'test/fixtures/mlp-layers',
        '--adapter',
        'test/fixtures/mlp-layers/adapter.json',
        ...SMALL_NAMING,
        '--out',
        userOut,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      const report = JSON.parse(readFileSync(path.join(userOut, 'report.json'), 'utf8'));
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual(['mlp-layers', 'classifier-corrupted']);
      expect(report.classifiers[0].id).toMatch(/^[0-9a-f]{64}$/);
      // Also the adapter check on 2 x 2,000 real images and the side-by-side with both CNNs.
    }, 240_000);

    it('ranks with the built-in CNN when the user model has no gradient, and measures the user model on the same dims', async () => {
      const userOut = mkdtempSync(path.join(tmpdir(), 'faultlines-user-report-'));
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '20',
        '--classifier',
        'test/fixtures/mlp-graph-equal',
        '--adapter',
        'test/fixtures/mlp-graph-equal/adapter.json',
        ...SMALL_NAMING,
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
    }, 240_000);

    it('describes your model in the report: name, files, adapter, hashes, the adapter check, side by side with every built-in classifier', async () => {
      const userOut = mkdtempSync(path.join(tmpdir(), 'faultlines-user-report-'));
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '20',
        '--classifier',
        'test/fixtures/mlp-normalised/model',
        '--adapter',
        'test/fixtures/mlp-normalised/adapter.json',
        ...SMALL_NAMING,
        '--out',
        userOut,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      expect(r.stderr).not.toContain('WARNING');
      expect(r.stdout).toMatch(
        /adapter check of mlp-normalised on real test images[^\n]*\n +clean +accuracy +92\.7% of 2000\n +corrupted +accuracy +51\.3% of 2000\n +plausible/,
      );
      const report = JSON.parse(readFileSync(path.join(userOut, 'report.json'), 'utf8'));
      // Named after the folder above the generic "model"; compared with the corruption-trained CNN.
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual([
        'mlp-normalised',
        'classifier-corrupted',
      ]);
      const [mine, reference] = report.classifiers;
      const shards = ['group1-shard1of2.bin', 'group1-shard2of2.bin'].map((f) =>
        readFileSync(path.join('test/fixtures/mlp-normalised/model', f)),
      );
      const modelJson = readFileSync('test/fixtures/mlp-normalised/model/model.json');
      expect(mine.model).toMatchObject({
        source: 'tfjs',
        path: 'test/fixtures/mlp-normalised/model',
        adapterPath: 'test/fixtures/mlp-normalised/adapter.json',
        format: 'layers-model',
        modelSha256: tfjsModelSha256(modelJson, shards),
        adapter: { input: { range: [0, 1], mean: [0.1307], std: [0.3081] }, output: { kind: 'probabilities' } },
        sanityCheck: { plausible: true, warning: null },
      });
      expect(mine.model.adapter.classes.generatorToModel).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // The id hashes model and adapter; it is not the model's sha256.
      expect(mine.id).toBe(tfjsClassifierId(mine.model.modelSha256, mine.model.adapter));
      expect(mine.id).not.toBe(mine.model.modelSha256);
      expect(reference.model).toMatchObject({ source: 'built-in', weights: 'weights/classifier-corrupted' });
      expect(reference.model.weightsSha256).toBe(reference.id);
      // Side by side on its top dims: it, the compared CNN and the other built-in CNN, on the same samples.
      expect(report.sideBySide.rankedBy).toBe('mlp-normalised');
      expect(report.sideBySide.classifiers).toEqual(['mlp-normalised', 'classifier-corrupted', 'classifier-clean']);
      expect(report.sideBySide.dims.map((d: { index: number }) => d.index)).toEqual(
        report.ranking.dims.slice(0, 10).map((d: { index: number }) => d.index),
      );
      for (const d of report.sideBySide.dims)
        for (const c of d.cells) {
          expect(c.score).toEqual(expect.any(Number));
          expect(c.pTrueAfter).toBeGreaterThanOrEqual(0);
        }
      const html = readFileSync(path.join(userOut, 'report.html'), 'utf8');
      for (const text of [
        'classifier id (results and API)',
        'weights sha256</th>',
        'mean [0.1307], std [0.3081]',
        mine.model.modelSha256,
        "Side by side on mlp-normalised's top dims",
        'Adapter check on real test images',
      ])
        expect(html).toContain(text);
    }, 240_000);

    it('warns loudly about an implausible adapter, names the model with --name, and compares with another user model', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-adapter-'));
      const adapter = JSON.parse(readFileSync('test/fixtures/mlp-normalised/adapter.json', 'utf8'));
      // The README's old example: mean 0 / std 1, wrong for this normalised model.
      writeFileSync(
        path.join(dir, 'adapter.json'),
        JSON.stringify({ ...adapter, input: { ...adapter.input, mean: [0], std: [1] } }),
      );
      const userOut = mkdtempSync(path.join(tmpdir(), 'faultlines-user-report-'));
      const r = await faultlines(
        'analyze',
        '--generator',
        genDir,
        '--samples',
        '20',
        '--classifier',
        'test/fixtures/mlp-normalised/model',
        '--adapter',
        path.join(dir, 'adapter.json'),
        '--name',
        'my-digits',
        '--compare',
        'test/fixtures/mlp-layers',
        '--compare-adapter',
        'test/fixtures/mlp-layers/adapter.json',
        ...SMALL_NAMING,
        '--out',
        userOut,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      expect(r.stderr).toMatch(
        /WARNING: classifier my-digits: 26\.7% accuracy on 2000 real clean test images \(far below the 50\.0%/,
      );
      expect(r.stderr).toMatch(/check adapter\.input\.range, adapter\.input\.mean, adapter\.input\.std/);
      expect(r.stdout).toMatch(/IMPLAUSIBLE/);
      const report = JSON.parse(readFileSync(path.join(userOut, 'report.json'), 'utf8'));
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual(['my-digits', 'mlp-layers']);
      expect(report.classifiers[0].model.sanityCheck).toMatchObject({ plausible: false });
      expect(report.classifiers[1].model).toMatchObject({ source: 'tfjs', sanityCheck: { plausible: true } });
      expect(report.sideBySide.classifiers).toEqual([
        'my-digits',
        'mlp-layers',
        'classifier-clean',
        'classifier-corrupted',
      ]);
      expect(readFileSync(path.join(userOut, 'report.html'), 'utf8')).toContain(
        '<p class="warning"><strong>Warning:</strong>',
      );
    }, 240_000);

    it('says what to fix: a truncated shard among several, a mean of the wrong length, a dangling graph input, too few samples', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-model-'));
      cpSync('test/fixtures/mlp-normalised', dir, { recursive: true });
      truncateSync(path.join(dir, 'model', 'group1-shard2of2.bin'), 1000);
      const args = ['analyze', '--generator', genDir, '--samples', '20', '--adapter', path.join(dir, 'adapter.json')];
      const truncated = await faultlines(...args, '--classifier', path.join(dir, 'model'));
      expect(truncated.code).toBe(1);
      expect(truncated.stderr).toMatch(
        new RegExp(
          /weight shards group1-shard1of2\.bin \(100000 bytes\), group1-shard2of2\.bin \(1000 bytes\) hold /.source +
            /101000 bytes, model\.json's weightsManifest declares 203560 .*truncated shard/.source,
        ),
      );
      const adapter = JSON.parse(readFileSync(path.join(dir, 'adapter.json'), 'utf8'));
      writeFileSync(
        path.join(dir, 'bad.json'),
        JSON.stringify({ ...adapter, input: { ...adapter.input, mean: [0.1, 0.1, 0.1] } }),
      );
      const mean = await faultlines(
        ...args.slice(0, -1),
        path.join(dir, 'bad.json'),
        '--classifier',
        'test/fixtures/mlp-layers',
      );
      expect(mean.stderr).toMatch(/invalid adapter at "input\.mean": needs 1 value for channels 1, got 3/);
      const graph = path.join(dir, 'graph');
      cpSync('test/fixtures/mlp-graph', graph, { recursive: true });
      const m = JSON.parse(readFileSync(path.join(graph, 'model.json'), 'utf8'));
      m.modelTopology.node.find((n: { name: string }) => n.name === 'hidden/MatMul').input[0] = 'flatten/Reshaped';
      writeFileSync(path.join(graph, 'model.json'), JSON.stringify(m));
      const dangling = await faultlines(...args.slice(0, -1), path.join(graph, 'adapter.json'), '--classifier', graph);
      expect(dangling.stderr).toMatch(
        /graph node "hidden\/MatMul" \(MatMul\) takes input "flatten\/Reshaped", but the graph has no node "flatten\/Reshaped"/,
      );
      expect(dangling.stderr).not.toMatch(/TypeError/);
      const few = await faultlines('analyze', '--generator', genDir, '--samples', '10');
      expect(few.code).toBe(1);
      expect(few.stderr).toMatch(/--samples must be at least 20 \(2 samples of each of the generator's 10 classes/);
      const oneClass = await faultlines('analyze', '--generator', genDir, '--samples', '1', '--class', '3');
      expect(oneClass.stderr).toMatch(/--samples must be an integer in \[2, /);
    }, 240_000);

    it('--conv winograd (opt-in): the committed models rank the same top dims as the default, and the report says so', async () => {
      // Two batches of 64 on two worker threads: the pool's workers take the algorithm too. One class
      // (the corner cases, joint cases and frontier of 10 classes would take minutes); one run at a time.
      const small = [
        '--class',
        '3',
        '--samples',
        '128',
        '--threads',
        '2',
        ...SMALL_NAMING,
        '--contrastive-samples',
        '0',
      ];
      const dirs = [
        mkdtempSync(path.join(tmpdir(), 'faultlines-direct-')),
        mkdtempSync(path.join(tmpdir(), 'faultlines-wino-')),
      ];
      const direct = await faultlines('analyze', ...small, '--counterfactual-samples', '0', '--out', dirs[0]);
      const wino = await faultlines(
        'analyze',
        ...small,
        '--counterfactual-samples',
        '0',
        '--conv',
        'winograd',
        '--out',
        dirs[1],
      );
      expect(direct.code, direct.stderr).toBe(0);
      expect(wino.code, wino.stderr).toBe(0);
      expect(wino.stdout).toMatch(/on 2 worker threads; winograd 3x3 convs\)/);
      type Dim = { layer: string; channel: number; score: number };
      const [a, b] = dirs.map((d) => JSON.parse(readFileSync(path.join(d, 'report.json'), 'utf8')));
      expect(a.conv).toBeUndefined(); // the default: XNNPACK's bits, the report as before
      expect(b.conv).toBe('winograd');
      const top = (r: { ranking: { dims: Dim[] } }) =>
        r.ranking.dims.slice(0, 10).map((d) => `${d.layer}:${d.channel}`);
      expect(top(b)).toEqual(top(a));
      // The scores themselves differ in the last bits only (each dim against itself).
      type Dims = { ranking: { dims: Array<Dim & { index: number }> } };
      const score = new Map((b as Dims).ranking.dims.map((d) => [d.index, d.score]));
      const scale = Math.max(...(a as Dims).ranking.dims.map((d) => Math.abs(d.score)));
      const worst = Math.max(...(a as Dims).ranking.dims.map((d) => Math.abs(d.score - score.get(d.index)!)));
      expect(worst / scale).toBeLessThan(1e-3);
      expect(b.classifiers.map((c: { accuracy: number }) => c.accuracy)).toEqual(
        a.classifiers.map((c: { accuracy: number }) => c.accuracy),
      );
    }, 400_000);

    it('refuses a user model without an adapter, and an adapter for a built-in model', async () => {
      const a = await faultlines('analyze', '--classifier', 'test/fixtures/mlp-layers');
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(/give its folder and --adapter FILE/);
      const b = await faultlines('analyze', '--classifier', 'classifier-clean', '--adapter', 'x.json');
      expect(b.stderr).toMatch(/--adapter is only for your own TF.js model/);
    });
  });
});
