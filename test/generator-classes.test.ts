/**
 * Defaults follow the generator: class count, class names and the default traversal class come from
 * the generator's manifest (`classes`, src/core/generator/classes.ts), so a generator with other
 * than MNIST's 10 classes can be analysed. The fixture `test/fixtures/generator-3class` (built by
 * `npm run fixtures:build:generator`) has 3 classes named eight, seven, three and
 * `classes.traversalClass: 1`; `mlp-adapter.json` beside it maps them to the `mlp-layers` MLP.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultlines } from './cli-helpers.js';
import { analyze } from '../src/core/analysis/report.js';
import { defaultTraversalClass, Generator, resolveGeneratorClasses } from '../src/core/generator/index.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { readWeightsDir } from '../src/node/weights-fs.js';

const GEN = 'test/fixtures/generator-3class';
const NAMES = ['eight', 'seven', 'three'];

describe('generator classes from the manifest', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('falls back to names "0".."K-1" and traversal class min(3, K-1), and checks against K', () => {
    expect(resolveGeneratorClasses(3)).toEqual({ names: ['0', '1', '2'], traversalClass: 2 });
    expect(resolveGeneratorClasses(10).traversalClass).toBe(3);
    expect([1, 2, 4, 10].map(defaultTraversalClass)).toEqual([0, 1, 3, 3]);
    // Legacy: the names train-generator --data recorded in the provenance.
    expect(resolveGeneratorClasses(2, {}, 'm', ['cat', 'dog']).names).toEqual(['cat', 'dog']);
    expect(() => resolveGeneratorClasses(3, { names: ['a', 'b'] }, 'm.json')).toThrow(
      /m\.json: classes\.names has 2 names, the generator has 3 classes/,
    );
    expect(() => resolveGeneratorClasses(3, { traversalClass: 3 }, 'm.json')).toThrow(
      /classes\.traversalClass must be in \[0, 2\] \(the generator has 3 classes\), got 3/,
    );
  });

  it('the fixture generator: 3 classes with names and a traversal class, written by train-generator --data', () => {
    const { generator, manifest } = loadGenerator(path.resolve(GEN));
    expect(generator.arch.numClasses).toBe(3);
    expect(manifest.classes).toEqual({ names: NAMES, traversalClass: 1 });
    expect(generator.classes).toEqual({ names: NAMES, traversalClass: 1 });
    // Without the manifest field: the legacy provenance names, and min(3, K-1).
    const w = readWeightsDir(path.resolve(GEN));
    const legacy = Generator.fromWeights({ ...w.manifest, classes: undefined }, w.tensors);
    expect(legacy.classes).toEqual({ names: NAMES, traversalClass: 2 });
    const bare = Generator.fromWeights({ ...w.manifest, classes: undefined, provenance: {} }, w.tensors);
    expect(bare.classes).toEqual({ names: ['0', '1', '2'], traversalClass: 2 });
    for (const g of [generator, legacy, bare]) g.dispose();
  });

  it('analyze refuses a classifier of another class count, and a traversal class outside the generator', async () => {
    const gen = loadGenerator(path.resolve(GEN));
    const cnn = loadBuiltinClassifier('classifier-corrupted');
    const models = {
      generator: gen.generator,
      classifier: cnn.classifier,
      generatorId: gen.manifest.sha256,
      classifierId: cnn.manifest.sha256,
    };
    await expect(analyze(models, { samples: 10 })).rejects.toThrow(
      /classifier classifier-corrupted has 10 classes, the generator has 3 classes: eight, seven, three/,
    );
    const same = { ...models, classifier: Object.assign(Object.create(cnn.classifier), { numClasses: 3 }) };
    await expect(analyze(same, { samples: 10, traversalClass: 3 })).rejects.toThrow(
      /traversalClass must be an integer in \[0, 2\] \(the generator has 3 classes/,
    );
    await expect(analyze(same, { samples: 10, classIndex: 1, traversalClass: 0 })).rejects.toThrow(
      /traversalClass 0 differs from classIndex 1/,
    );
    gen.generator.dispose();
  });

  describe('faultlines analyze --generator <3-class generator>', () => {
    const user = ['--classifier', 'test/fixtures/mlp-layers', '--adapter', `${GEN}/mlp-adapter.json`];
    // About 25 s of CPU each on 2 idle cores; the timeouts leave room for a loaded machine.
    it("all classes: 3 classes, their names, the manifest's traversal class", { timeout: 240_000 }, async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'faultlines-gen3-'));
      const r = await faultlines('analyze', '--generator', GEN, ...user, '--samples', '300', '--out', out);
      expect(r.stderr + r.stdout).toContain('wrote');
      expect(r.code).toBe(0);
      // The built-in CNNs have 10 classes: no default comparison, said so.
      expect(r.stderr).toMatch(
        /no comparison classifier: classifier-corrupted has 10 classes .* has 3 classes: eight, seven, three/,
      );
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(report.classNames).toEqual(NAMES);
      expect(report.options.classIndex).toBeNull();
      expect(report.options.traversalClass).toBe(1);
      expect(report.traversals.length).toBeGreaterThan(0);
      for (const t of report.traversals) expect(t.classIndex).toBe(1);
      expect(report.cornerCases.classes.map((c: { classIndex: number }) => c.classIndex)).toEqual([0, 1, 2]);
      expect(report.classAccuracyCurves).toHaveLength(3);
      expect(report.classifiers.map((c: { name: string }) => c.name)).toEqual(['mlp-layers']);
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('3 classes: 0 (eight), 1 (seven), 2 (three).');
      expect(html).toContain('class-average style of class 1 (seven)');
      expect(r.stdout).toContain('traversals from class 1 (seven)');
    });

    it('--class 0 is the traversal class', { timeout: 240_000 }, async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'faultlines-gen3-'));
      // One class: all 150 samples are of class 0.
      const r = await faultlines(
        'analyze',
        '--generator',
        GEN,
        ...user,
        '--compare',
        'none',
        '--class',
        '0',
        '--samples',
        '150',
        '--out',
        out,
      );
      expect(r.stderr + r.stdout).toContain('wrote');
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
      expect(report.classNames).toEqual(NAMES);
      expect(report.options.classIndex).toBe(0);
      expect(report.options.traversalClass).toBe(0);
      for (const t of report.traversals) expect(t.classIndex).toBe(0);
      expect(report.cornerCases.classes.map((c: { classIndex: number }) => c.classIndex)).toEqual([0]);
    });

    it("names the option and the generator's class count in its errors", async () => {
      const a = await faultlines('analyze', '--generator', GEN, ...user, '--class', '3');
      expect(a.code).toBe(1);
      expect(a.stderr).toMatch(
        new RegExp(
          /--class must be all, a class index in \[0, 2\] or a class name; /.source +
            /the generator \(test\/fixtures\/generator-3class\) has 3 classes: eight, seven, three; got "3"/.source,
        ),
      );
      const b = await faultlines('analyze', '--generator', GEN);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(
        /--classifier classifier-corrupted has 10 classes \(MNIST digits\), the generator .* has 3 classes/,
      );
      const c = await faultlines(
        'analyze',
        '--generator',
        GEN,
        '--classifier',
        'test/fixtures/mlp-layers',
        '--adapter',
        'test/fixtures/mlp-layers/adapter.json',
      );
      expect(c.stderr).toMatch(
        /--adapter test\/fixtures\/mlp-layers\/adapter\.json: classes\.generatorToModel maps 10 classes, the generator .* has 3 classes/,
      );
      const d = await faultlines('analyze', '--generator', GEN, ...user, '--compare', 'classifier-clean');
      expect(d.stderr).toMatch(/--compare classifier-clean has 10 classes .*; use --compare none/);
    });
  });
});
