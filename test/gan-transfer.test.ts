/**
 * `train-generator --init-from`: an RGB generator started from the committed grey MNIST generator
 * draws, in each of its three channels, exactly the grey generator's image for the same latents,
 * classes and noise — checked by rendering both, not by comparing tensors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { latentBatch } from '../src/core/random.js';
import { Generator } from '../src/core/generator/index.js';
import { readModelWeights } from '../src/node/weights-fs.js';
import { transferTensors } from '../src/node/training/gan-transfer.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('transfer initialisation of a generator', () => {
  it('widens the grey generator to RGB: every channel renders the grey image', async () => {
    const source = readModelWeights('generator');
    const grey = Generator.fromWeights(source.manifest, source.tensors);
    const rgb = new Generator({ ...grey.arch, imageChannels: 3 }, 5);
    rgb.load(transferTensors(source.tensors, rgb.params.expectedShapes(), 'weights/generator'), 'transfer');
    const n = 6;
    const z = tf.tensor2d(latentBatch(11, 0, n, grey.arch.zDim), [n, grey.arch.zDim]);
    const classes = [0, 1, 3, 5, 8, 9];
    const g = await grey.generate(z, classes, { noiseMode: 'const' }).data();
    const c = await rgb.generate(z, classes, { noiseMode: 'const' }).data();
    expect(c.length).toBe(3 * g.length);
    let worst = 0;
    for (let i = 0; i < g.length; i++)
      for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(c[3 * i + ch] - g[i]));
    expect(worst).toBeLessThan(1e-5);
    // Not vacuous: the images are digits, not a constant.
    expect(Math.max(...g) - Math.min(...g)).toBeGreaterThan(0.5);
    z.dispose();
    grey.dispose();
    rgb.dispose();
  });

  it('refuses a source of another shape, naming the tensor', () => {
    const source = readModelWeights('generator');
    const other = new Generator({ ...Generator.fromWeights(source.manifest, source.tensors).arch, numClasses: 3 }, 1);
    expect(() => transferTensors(source.tensors, other.params.expectedShapes(), 'weights/generator')).toThrow(
      /mapping\/embed\/weight is \[10, 128\] there, \[3, 128\] here/,
    );
    other.dispose();
  });
});
