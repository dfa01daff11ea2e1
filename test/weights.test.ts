import { mkdtempSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { WeightsError } from '../src/core/weights/codec.js';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { readWeightsDir, writeWeightsDir } from '../src/node/weights-fs.js';

const info = {
  name: 'test-cnn',
  kind: 'classifier' as const,
  weightsFile: 'weights.bin',
  architecture: { type: 'simple-cnn', ...DEFAULT_CNN_CONFIG },
  provenance: { data: 'none (random init)', seed: 5 },
  metrics: {},
};

/** A fresh copy of a valid model folder. */
async function modelDir(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-weights-'));
  const cnn = new SimpleCnn('test-cnn', DEFAULT_CNN_CONFIG, 5);
  writeWeightsDir(dir, info, await cnn.params.toHost());
  cnn.dispose();
  return dir;
}

function expectWeightsError(fn: () => unknown, problem: string, file: RegExp, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeightsError);
    const e = err as WeightsError;
    expect(e.problem).toBe(problem);
    expect(e.file).toMatch(file);
    expect(e.message).toMatch(message);
    return;
  }
  throw new Error('expected a WeightsError');
}

describe('weights format and loader', () => {
  beforeAll(async () => useBackend('cpu'));

  it('round-trips a model exactly', async () => {
    const dir = await modelDir();
    const { manifest, tensors } = readWeightsDir(dir);
    expect(manifest.tensors.map((t) => t.name)).toContain('conv1/kernel');
    const a = new SimpleCnn('a', DEFAULT_CNN_CONFIG, 5);
    const b = SimpleCnn.fromWeights('b', DEFAULT_CNN_CONFIG, tensors, dir);
    const x = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    expect(await b.logits(x).data()).toEqual(await a.logits(x).data());
    tf.dispose([x]);
    a.dispose();
    b.dispose();
  });

  it('rejects a truncated file, naming it', async () => {
    const dir = await modelDir();
    truncateSync(path.join(dir, 'weights.bin'), 1000);
    expectWeightsError(() => readWeightsDir(dir), 'truncated', /weights\.bin$/, /truncated weights file: 1000 bytes/);
  });

  it('rejects a flipped byte by its checksum', async () => {
    const dir = await modelDir();
    const file = path.join(dir, 'weights.bin');
    const bytes = readFileSync(file);
    bytes[1234] ^= 0x01;
    writeFileSync(file, bytes);
    expectWeightsError(() => readWeightsDir(dir), 'checksum', /weights\.bin$/, /wrong checksum/);
  });

  it('rejects a file with extra bytes', async () => {
    const dir = await modelDir();
    const file = path.join(dir, 'weights.bin');
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(4)]));
    expectWeightsError(() => readWeightsDir(dir), 'oversized', /weights\.bin$/, /manifest says/);
  });

  it('rejects a missing tensor and a shape mismatch when the model is built', async () => {
    const dir = await modelDir();
    const { tensors } = readWeightsDir(dir);
    const missing = new Map(tensors);
    missing.delete('dense1/bias');
    expect(() => SimpleCnn.fromWeights('x', DEFAULT_CNN_CONFIG, missing, 'f.bin')).toThrow(
      /f\.bin: missing tensor "dense1\/bias"/,
    );
    const other = { ...DEFAULT_CNN_CONFIG, hidden: 64 };
    expect(() => SimpleCnn.fromWeights('x', other, tensors, 'f.bin')).toThrow(
      /shape \[1024,128\], the model expects \[1024,64\]/,
    );
  });

  it('rejects an invalid manifest and a missing binary', async () => {
    const dir = await modelDir();
    const man = path.join(dir, 'manifest.json');
    const json = JSON.parse(readFileSync(man, 'utf8'));
    writeFileSync(man, JSON.stringify({ ...json, sha256: 'abc' }));
    expectWeightsError(() => readWeightsDir(dir), 'invalid-manifest', /manifest\.json$/, /sha256/);
    writeFileSync(man, '{ not json');
    expectWeightsError(() => readWeightsDir(dir), 'invalid-manifest', /manifest\.json$/, /cannot read manifest/);
    writeFileSync(man, JSON.stringify({ ...json, weightsFile: 'gone.bin' }));
    expectWeightsError(() => readWeightsDir(dir), 'truncated', /gone\.bin$/, /cannot read weights/);
  });

  it('rejects a tensor that lies outside the file', async () => {
    const dir = await modelDir();
    const man = path.join(dir, 'manifest.json');
    const json = JSON.parse(readFileSync(man, 'utf8'));
    json.tensors[0].offset = json.byteLength;
    writeFileSync(man, JSON.stringify(json));
    expectWeightsError(() => readWeightsDir(dir), 'bad-layout', /weights\.bin$/, /does not fit/);
  });
});
