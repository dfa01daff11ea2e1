/**
 * The Conv2D calls of the built-in models on wasm (a spy over the registered kernel): the conv
 * shapes the 3x3 conv kernel's tests (test/conv3x3-kernel.test.ts, test/conv3x3-winograd.test.ts)
 * check.
 */
import * as tf from '../src/core/tf.js';
import { analysisModels, loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { pTrueGradient, sampleNoiseStreams } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { Discriminator } from '../src/core/generator/discriminator.js';

/** One Conv2D call: its input and filter shapes and attributes. */
export interface ConvCall {
  x: number[];
  filter: number[];
  attrs: tf.Conv2DAttrs;
}

/** The Conv2D calls `f` makes on wasm (a spy over the registered kernel, removed afterwards). */
function convCalls(f: () => void): ConvCall[] {
  const kernel = tf.getKernel('Conv2D', 'wasm')!;
  const calls: ConvCall[] = [];
  tf.unregisterKernel('Conv2D', 'wasm');
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
      calls.push({
        x: [...x.shape],
        filter: [...filter.shape],
        attrs: { ...(args.attrs as unknown as tf.Conv2DAttrs) },
      });
      return kernel.kernelFunc(args);
    },
  });
  try {
    tf.tidy(f);
  } finally {
    tf.unregisterKernel('Conv2D', 'wasm');
    tf.registerKernel(kernel);
  }
  return calls;
}

/** The built-in models' conv calls (batch 3; the discriminator's at 4, its minibatch-std group). */
export function modelConvCalls(): ConvCall[] {
  const gen = loadGenerator();
  const clean = analysisModels(gen, loadBuiltinClassifier('classifier-clean'));
  const rgb = loadBuiltinClassifier('classifier-independent', 'colored-mnist').classifier;
  const d = new Discriminator();
  const calls: ConvCall[] = [];
  calls.push(
    ...convCalls(() => {
      const { s, w, labels } = populationStyles(clean, { seed: 1, count: 1_000_000, classIndex: null }, 0, 3);
      w.dispose();
      pTrueGradient(clean, s, labels, sampleNoiseStreams(0, 3));
    }),
    ...convCalls(() => {
      const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      tf.grad((t: tf.Tensor) => tf.sum(rgb.logits(t as tf.Tensor4D)))(x);
    }),
    ...convCalls(() => {
      const x = tf.randomNormal([4, 32, 32, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
      tf.grad((t: tf.Tensor) => tf.sum(d.apply(t as tf.Tensor4D, [0, 1, 2, 3])))(x);
    }),
  );
  gen.generator.dispose();
  clean.classifier.dispose();
  rgb.dispose();
  d.dispose();
  return calls;
}
