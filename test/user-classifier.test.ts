/**
 * Bring your own model: TF.js LayersModel and GraphModel fixtures (test/fixtures, built by
 * `npm run fixtures:build`) behind the Classifier interface through an adapter.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateClassifier } from '../src/core/classifier/classifier.js';
import { parseAdapter } from '../src/core/classifier/adapter.js';
import { differentiability } from '../src/core/classifier/tfjs-differentiability.js';
import { loadTfjsModel } from '../src/core/classifier/tfjs-load.js';
import { TfjsClassifier } from '../src/core/classifier/tfjs-model.js';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { loadDigits } from '../src/node/mnist.js';
import { loadUserClassifier, readAdapter, readTfjsModelDir } from '../src/node/user-model.js';

const fixture = (name: string) => path.resolve('test/fixtures', name);
const copy = (name: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-model-'));
  cpSync(fixture(name), dir, { recursive: true });
  return dir;
};

describe('user TF.js classifiers', () => {
  beforeAll(async () => useBackend('wasm'));

  it('loads the LayersModel and the GraphModel of the same network, with the same outputs', async () => {
    const layers = await loadUserClassifier(fixture('mlp-layers'), fixture('mlp-layers/adapter.json'));
    const graph = await loadUserClassifier(fixture('mlp-graph'), fixture('mlp-graph/adapter.json'));
    expect(layers.classifier.check.format).toBe('layers-model');
    expect(graph.classifier.check.format).toBe('graph-model');
    expect(layers.id).not.toBe(graph.id);
    const test = loadDigits('test', 'clean');
    const x = tf.tensor4d(test.images.subarray(0, 16 * 1024), [16, 32, 32, 1]);
    const a = await layers.classifier.logits(x).data();
    const b = await graph.classifier.logits(x).data();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    expect(diff).toBeLessThan(1e-4);
    x.dispose();
    graph.classifier.dispose();
    // The adapter's 28x28 centre crop undoes the padding: the MLP is accurate on real digits.
    const r = await evaluateClassifier(
      layers.classifier,
      test.images.subarray(0, 2000 * 1024),
      test.labels.subarray(0, 2000),
    );
    expect(r.accuracy).toBeGreaterThan(0.9);
    layers.classifier.dispose();
  });

  it('is differentiable with respect to the generator image, through the adapter', async () => {
    const { classifier } = await loadUserClassifier(fixture('mlp-graph'), fixture('mlp-graph/adapter.json'));
    expect(classifier.check.differentiable).toBe(true);
    const x = tf.fill([2, 32, 32, 1], 0.3) as tf.Tensor4D;
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.softmax(classifier.logits(t as tf.Tensor4D))))(x);
    expect(g.shape).toEqual([2, 32, 32, 1]);
    // The 2 px border is cropped away: no gradient there; inside, some.
    const v = await g.data();
    expect(v[0]).toBe(0);
    expect(Math.max(...Array.from(v).map(Math.abs))).toBeGreaterThan(0);
    classifier.dispose();
  });

  it('reports a model with an op that has no gradient, and still classifies with it', async () => {
    const equal = await loadUserClassifier(fixture('mlp-graph-equal'), fixture('mlp-graph-equal/adapter.json'));
    const graph = await loadUserClassifier(fixture('mlp-graph'), fixture('mlp-graph/adapter.json'));
    expect(equal.classifier.check.differentiable).toBe(false);
    expect(equal.classifier.check.nonDifferentiableOp).toBe('Equal');
    const x = tf.fill([3, 32, 32, 1], 0.25) as tf.Tensor4D;
    expect(Array.from(await equal.classifier.logits(x).data())).toEqual(
      Array.from(await graph.classifier.logits(x).data()),
    );
    x.dispose();
    equal.classifier.dispose();
    graph.classifier.dispose();
  });

  it("finds the op without a gradient in the model's graph, on its own 28x28 input, as a backward pass does", async () => {
    const kernelsOf = async (name: string) => {
      const model = await loadTfjsModel(readTfjsModelDir(fixture(name)).files, name);
      expect(model.inputShape).toEqual([null, 28, 28, 1]);
      const x = tf.fill([1, 28, 28, 1], 0.5);
      const found = differentiability((t) => model.predict(t) as tf.Tensor, x);
      // Independently: a backward pass through the same model on the same input fails exactly when an op is found.
      let backward: string | null = null;
      try {
        tf.tidy(() => void tf.grad((t: tf.Tensor) => tf.sum(model.predict(t) as tf.Tensor))(x));
      } catch (err) {
        backward = (err as Error).message;
      }
      x.dispose();
      model.dispose();
      return { ...found, backward };
    };
    const plain = await kernelsOf('mlp-graph');
    expect(plain.withoutGradient).toEqual([]);
    expect(plain.backward).toBeNull();
    // The MLP's own kernels (flatten, two dense layers, softmax), nothing from an adapter.
    expect(plain.kernels).toEqual(expect.arrayContaining(['Reshape', 'Softmax']));
    expect(plain.kernels).not.toContain('Slice');
    const masked = await kernelsOf('mlp-graph-equal');
    expect(masked.withoutGradient).toEqual(['Equal']);
    expect(masked.kernels).toEqual(expect.arrayContaining(['Equal', 'Cast', 'Reshape']));
    expect(masked.backward).toMatch(/gradient function not found for Equal/);
    const layers = await loadUserClassifier(fixture('mlp-layers'), fixture('mlp-layers/adapter.json'));
    expect(layers.classifier.check).toMatchObject({ differentiable: true, nonDifferentiableOp: null });
    layers.classifier.dispose();
  });

  it('counts only ops between input and output, and names every op without a gradient there', () => {
    const c = tf.scalar(1);
    // Equal on constants only (no gradient needed: the backward pass prunes it, and so does the probe).
    const offPath = (x: tf.Tensor) => tf.add(x, tf.cast(tf.equal(c, c), 'float32'));
    const x = tf.fill([1, 4, 4, 1], 0.5);
    expect(differentiability(offPath, x).withoutGradient).toEqual([]);
    expect(differentiability(offPath, x).kernels).toEqual(['Add']);
    tf.tidy(() => void tf.grad((t: tf.Tensor) => tf.sum(offPath(t)))(x));
    // Two ops without a gradient on the path: both named, in the order they run.
    const twoMasks = (t: tf.Tensor) =>
      tf.add(tf.add(t, tf.cast(tf.equal(t, c), 'float32')), tf.cast(tf.notEqual(t, c), 'float32'));
    expect(differentiability(twoMasks, x).withoutGradient).toEqual(['Equal', 'NotEqual']);
    // An op with its own gradient (tf.customGrad, as the portable gradients are) has one, whatever its kernels.
    const custom = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.round(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => dy,
    }));
    expect(differentiability((t) => custom(t) as tf.Tensor, x).withoutGradient).toEqual([]);
    const before = tf.memory().numTensors;
    differentiability(twoMasks, x);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    c.dispose();
  });

  it('leaves no tensors behind: loading and checking, classifying, disposing (the edge builds and evicts many)', async () => {
    for (const name of ['mlp-layers', 'mlp-graph', 'mlp-graph-equal']) {
      const { files } = readTfjsModelDir(fixture(name));
      const adapter = readAdapter(fixture(`${name}/adapter.json`));
      const before = tf.memory().numTensors;
      const c = await TfjsClassifier.create(name, files, adapter, name);
      const x = tf.fill([2, 32, 32, 1], 0.5) as tf.Tensor4D;
      const held = tf.memory().numTensors;
      c.logits(x).dispose();
      expect(tf.memory().numTensors, name).toBe(held);
      x.dispose();
      c.dispose();
      expect(tf.memory().numTensors, name).toBe(before);
    }
  });

  it('refuses an adapter that does not fit the model, at registration', async () => {
    const { files } = readTfjsModelDir(fixture('mlp-layers'));
    const base = readAdapter(fixture('mlp-layers/adapter.json'));
    await expect(
      TfjsClassifier.create('m', files, { ...base, input: { ...base.input, height: 32, width: 32 } }, 'mlp-layers'),
    ).rejects.toThrow(/takes input \[N,28,28,1\], the adapter gives \[N,32,32,1\]/);
    await expect(
      TfjsClassifier.create(
        'm',
        files,
        { ...base, classes: { names: ['a', 'b', 'c'], generatorToModel: [0, 1, 2] } },
        'mlp-layers',
      ),
    ).rejects.toThrow(/10 outputs, the adapter names 3 classes/);
  });

  it('rejects invalid adapters, naming the field', () => {
    const base = JSON.parse(readFileSync(fixture('mlp-layers/adapter.json'), 'utf8'));
    expect(() => parseAdapter({ ...base, input: { ...base.input, channels: 2 } }, 'a.json')).toThrow(
      /a\.json: invalid adapter at "input\.channels"/,
    );
    expect(() => parseAdapter({ ...base, classes: { names: ['x', 'y'], generatorToModel: [0, 5] } }, 'a.json')).toThrow(
      /"classes\.generatorToModel\.1": output 5 does not exist/,
    );
    expect(() => parseAdapter({ ...base, output: { kind: 'scores' } }, 'a.json')).toThrow(/"output\.kind"/);
  });

  it('rejects a truncated weight shard and a missing one with clear errors', async () => {
    const dir = copy('mlp-graph');
    truncateSync(path.join(dir, 'group1-shard1of1.bin'), 1000);
    await expect(loadUserClassifier(dir, path.join(dir, 'adapter.json'))).rejects.toThrow(
      /weight shard group1-shard1of1\.bin holds 1000 bytes, model.json's weightsManifest declares 203568 .*: truncated shard/,
    );
    rmSync(path.join(dir, 'group1-shard1of1.bin'));
    expect(() => readTfjsModelDir(dir)).toThrow(/group1-shard1of1\.bin: weight shard listed in model.json is missing/);
    writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": null}');
    expect(() => readTfjsModelDir(dir)).toThrow(/not a TF.js model.json/);
  });
});
