/**
 * A user's TF.js model behind the Classifier interface, through an input adapter: loaded
 * (tfjs-load.ts) and checked against the adapter when created, so a misfit is refused at
 * registration, not at the first analysis.
 */
import * as tf from '../tf.js';
import type { Adapter } from './adapter.js';
import type { Classifier } from './classifier.js';
import { differentiability } from './tfjs-differentiability.js';
import { loadTfjsModel, type LoadedModel } from './tfjs-load.js';
import { ModelFormatError, type TfjsModelFiles, type TfjsModelFormat } from './tfjs-model-json.js';

/** What registration found out about a model. */
export interface ModelCheck {
  format: TfjsModelFormat;
  inputShape: Array<number | null>;
  outputUnits: number;
  /** Whether d(logits)/d(input) exists for every op; the gradient ranking needs it. */
  differentiable: boolean;
  /** The ops without a gradient between the model's input and output, comma-separated in the order they
   * run, when not differentiable. */
  nonDifferentiableOp: string | null;
}

export class TfjsClassifier implements Classifier {
  readonly numClasses: number;
  private readonly selection: tf.Tensor2D;

  private constructor(
    readonly name: string,
    private readonly model: LoadedModel,
    readonly adapter: Adapter,
    readonly check: ModelCheck,
  ) {
    this.numClasses = adapter.classes.generatorToModel.length;
    const sel = new Float32Array(check.outputUnits * this.numClasses);
    adapter.classes.generatorToModel.forEach((m, k) => (sel[m * this.numClasses + k] = 1));
    this.selection = tf.tensor2d(sel, [check.outputUnits, this.numClasses]);
  }

  /**
   * Loads, then checks the model against the adapter at once (input shape, output width, a forward
   * pass, differentiability), so a misfit is refused at registration, not at the first analysis.
   */
  static async create(name: string, files: TfjsModelFiles, adapter: Adapter, source: string): Promise<TfjsClassifier> {
    const model = await loadTfjsModel(files, source);
    try {
      const { height, width, channels } = adapter.input;
      const [, h, w, c] = model.inputShape;
      if (
        model.inputShape.length !== 4 ||
        (h !== null && h !== height) ||
        (w !== null && w !== width) ||
        (c !== null && c !== channels)
      ) {
        throw new ModelFormatError(
          source,
          `the model takes input [${model.inputShape.map((d) => d ?? 'N')}], the adapter gives [N,${height},${width},${channels}]`,
          'adapter.input',
        );
      }
      let probe: tf.Tensor;
      try {
        probe = tf.tidy(() => {
          const out = model.predict(tf.zeros([2, height, width, channels]));
          const y = Array.isArray(out) ? out[adapter.output.index] : out;
          if (y === undefined)
            throw new ModelFormatError(
              source,
              `the model has no output ${adapter.output.index}`,
              'adapter.output.index',
            );
          return y;
        });
      } catch (err) {
        if (err instanceof ModelFormatError) throw err;
        throw new ModelFormatError(
          source,
          `a forward pass on [2,${height},${width},${channels}] fails: ${(err as Error).message}`,
        );
      }
      const outShape = probe.shape;
      probe.dispose();
      if (outShape.length !== 2 || outShape[0] !== 2)
        throw new ModelFormatError(source, `the model's output has shape [${outShape}], expected [N, classes]`);
      if (outShape[1] !== adapter.classes.names.length) {
        throw new ModelFormatError(
          source,
          `the model has ${outShape[1]} outputs, the adapter names ${adapter.classes.names.length} classes`,
          'adapter.classes.names',
        );
      }
      const check: ModelCheck = {
        format: model.format,
        inputShape: model.inputShape,
        outputUnits: outShape[1],
        differentiable: true,
        nonDifferentiableOp: null,
      };
      const classifier = new TfjsClassifier(name, model, adapter, check);
      // Probed on the model's own input ([1, height, width, channels], a mid-gray image normalised as
      // the adapter normalises), not through the adapter: the adapter's ops all have gradients.
      const input = tf.tidy(() => classifier.adapt(tf.fill([1, height, width, 1], 0.5)));
      try {
        const { withoutGradient } = differentiability((x) => classifier.output(model.predict(x)), input);
        check.differentiable = withoutGradient.length === 0;
        check.nonDifferentiableOp = check.differentiable ? null : withoutGradient.join(', ');
      } finally {
        input.dispose();
      }
      return classifier;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /**
   * The generator's images [N,H,W,C] in [0,1] (C = 1 grey, 3 RGB) -> the model's input, per the adapter:
   * a grey image is repeated for a 3-channel model; an RGB image needs one (registration checks the domain).
   */
  adapt(images: tf.Tensor4D): tf.Tensor4D {
    const a = this.adapter.input;
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      const [, H, W] = images.shape;
      if (a.height !== H || a.width !== W) {
        const dy = H - a.height;
        const dx = W - a.width;
        // A smaller, centred, even margin is a crop (28 from 32 undoes MNIST's padding exactly).
        x =
          dy >= 0 && dx >= 0 && dy % 2 === 0 && dx % 2 === 0
            ? (tf.slice(x, [0, dy / 2, dx / 2, 0], [-1, a.height, a.width, -1]) as tf.Tensor4D)
            : tf.image.resizeBilinear(x, [a.height, a.width], true);
      }
      const c = images.shape[3];
      if (c !== 1 && c !== a.channels)
        throw new RangeError(`the adapter takes ${a.channels}-channel images; these have ${c} (another domain's)`);
      if (a.channels === 3 && c === 1) x = tf.tile(x, [1, 1, 1, 3]) as tf.Tensor4D;
      const [lo, hi] = a.range;
      let y: tf.Tensor = lo === 0 && hi === 1 ? x : tf.add(tf.mul(x, hi - lo), lo);
      const mean = a.mean.length === 1 ? a.mean[0] : tf.tensor1d(a.mean);
      const std = a.std.length === 1 ? a.std[0] : tf.tensor1d(a.std);
      if (!(a.mean.length === 1 && a.mean[0] === 0)) y = tf.sub(y, mean);
      if (!(a.std.length === 1 && a.std[0] === 1)) y = tf.div(y, std);
      return y as tf.Tensor4D;
    });
  }

  /** The adapter's output of the model's outputs. */
  private output(out: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(out) ? out[this.adapter.output.index] : out;
  }

  logits(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let y = this.output(this.model.predict(this.adapt(images))) as tf.Tensor2D;
      if (this.adapter.output.kind === 'probabilities') y = tf.log(tf.clipByValue(y, 1e-7, 1)) as tf.Tensor2D;
      // Keep the generator's classes, in its order (a matMul, which has a gradient everywhere).
      return tf.matMul(y, this.selection);
    });
  }

  dispose(): void {
    this.model.dispose();
    this.selection.dispose();
  }
}
