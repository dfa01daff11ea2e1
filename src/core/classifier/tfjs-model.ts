/**
 * A user's TF.js model (LayersModel or GraphModel, as `model.save` or `tensorflowjs_converter` write
 * them) behind the Classifier interface, through an input adapter.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as tf from '../tf.js';
import { contentHash } from '../hash.js';
import type { Adapter } from './adapter.js';
import type { Classifier } from './classifier.js';

export type TfjsModelFormat = 'layers-model' | 'graph-model';

/** The model's artifacts: model.json's content and its weight shards concatenated in manifest order. */
export interface TfjsModelFiles {
  modelJson: tf.io.ModelJSON;
  weightData: ArrayBuffer;
}

/**
 * A model file set that cannot be used, with the problem named; `field` says which input is at
 * fault (`model`, `weights`, or the adapter's field such as `adapter.input`) for API errors.
 */
export class ModelFormatError extends Error {
  constructor(
    readonly source: string,
    readonly detail: string,
    readonly field: string = 'model',
  ) {
    super(`${source}: ${detail}`);
    this.name = 'ModelFormatError';
  }
}

/** Parses model.json's bytes: JSON with a modelTopology (a TF.js LayersModel or GraphModel). */
export function parseModelJson(bytes: Uint8Array, source: string): tf.io.ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ModelFormatError(source, `not JSON: ${(err as Error).message}`);
  }
  const m = json as tf.io.ModelJSON | null;
  if (!m || typeof m !== 'object' || Array.isArray(m) || !m.modelTopology || typeof m.modelTopology !== 'object')
    throw new ModelFormatError(source, 'no modelTopology: not a TF.js model.json');
  const manifest = m.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new ModelFormatError(source, 'weightsManifest is not a list');
  manifest.forEach((g, i) => {
    if (!g || !Array.isArray(g.paths) || !g.paths.every((p) => typeof p === 'string' && p.length > 0))
      throw new ModelFormatError(source, `weightsManifest[${i}].paths must be a list of file names`);
    if (
      !Array.isArray(g.weights) ||
      !g.weights.every(
        (w) =>
          w &&
          typeof w.name === 'string' &&
          Array.isArray(w.shape) &&
          w.shape.every((d) => Number.isInteger(d) && d >= 0) &&
          typeof w.dtype === 'string',
      )
    ) {
      throw new ModelFormatError(source, `weightsManifest[${i}].weights must list {name, shape, dtype}`);
    }
  });
  if (modelFormat(m, source) === 'graph-model') checkGraphInputs(m, source);
  return m;
}

/**
 * Every input a GraphDef node names is a node of the graph. tfjs-converter would otherwise fail on
 * the first use with a TypeError about `children` of undefined, naming nothing. Inputs are written
 * `name`, `name:k` (output k) or `^name` (a control dependency).
 */
function checkGraphInputs(modelJson: tf.io.ModelJSON, source: string): void {
  const nodes = (modelJson.modelTopology as { node?: unknown }).node;
  if (!Array.isArray(nodes)) throw new ModelFormatError(source, 'modelTopology.node must be a list of graph nodes');
  const names = new Set<string>();
  for (const n of nodes as Array<{ name?: unknown }>) if (typeof n?.name === 'string') names.add(n.name);
  for (const [i, n] of (nodes as Array<{ name?: unknown; op?: unknown; input?: unknown }>).entries()) {
    if (typeof n?.name !== 'string' || typeof n.op !== 'string')
      throw new ModelFormatError(source, `modelTopology.node[${i}] needs a name and an op`);
    for (const input of Array.isArray(n.input) ? n.input : []) {
      const ref = String(input).replace(/^\^/, '').replace(/:\d+$/, '');
      if (!names.has(ref))
        throw new ModelFormatError(
          source,
          `graph node "${n.name}" (${n.op}) takes input "${input}", but the graph has no node "${ref}" (a dangling input: was the graph cut or renamed after conversion?)`,
        );
    }
  }
}

/** The weight shard files model.json names, in manifest order (what to read, upload or fetch). */
export function weightPaths(modelJson: tf.io.ModelJSON): string[] {
  return (modelJson.weightsManifest ?? []).flatMap((g) => g.paths);
}

/**
 * Checks each weight group's shards against the bytes its weights need (a group's tensors are
 * stored across its shards in order, so only the group total is declared). Names the group's
 * files and says whether they are truncated or too long.
 */
export function checkShardSizes(modelJson: tf.io.ModelJSON, sizeOf: (path: string) => number, source: string): void {
  for (const group of modelJson.weightsManifest ?? []) {
    const need = expectedWeightBytes({ ...modelJson, weightsManifest: [group] });
    if (!Number.isFinite(need)) continue;
    const have = group.paths.reduce((a, p) => a + sizeOf(p), 0);
    if (have !== need) {
      const several = group.paths.length > 1;
      const files = several
        ? `weight shards ${group.paths.map((p) => `${p} (${sizeOf(p)} bytes)`).join(', ')} hold`
        : `weight shard ${group.paths[0]} holds`;
      const names = group.weights.map((w) => w.name);
      const tensors =
        names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
      throw new ModelFormatError(
        source,
        `${files} ${have} bytes, model.json's weightsManifest declares ${need} (for ${tensors}): ${have < need ? 'truncated shard' : 'extra bytes'}`,
        'weights',
      );
    }
  }
}

/** sha256 of model.json's bytes followed by its weight shards in manifest order (the model's content). */
export function tfjsModelSha256(modelJsonBytes: Uint8Array, shards: readonly Uint8Array[]): string {
  const h = sha256.create();
  h.update(modelJsonBytes);
  for (const s of shards) h.update(s);
  return bytesToHex(h.digest());
}

/**
 * Identity of a user classifier: its model's content (`tfjsModelSha256`) and its adapter (parsed, so
 * defaults spelt out or left out give the same id). The same for the CLI and the edge API, and the
 * classifier's id in result cache keys.
 */
export function tfjsClassifierId(modelSha256: string, adapter: Adapter): string {
  return contentHash({ schema: 'faultlines.tfjs-classifier/1', model: modelSha256, adapter });
}

/** Bytes that model.json's weight manifest says the shards hold (unquantised dtypes only). */
export function expectedWeightBytes(modelJson: tf.io.ModelJSON): number {
  const bytesOf: Record<string, number> = {
    float32: 4,
    int32: 4,
    bool: 1,
    uint8: 1,
    int16: 2,
    uint16: 2,
    float16: 2,
    string: NaN,
    complex64: 8,
  };
  let total = 0;
  for (const group of modelJson.weightsManifest ?? []) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const dtype = w.quantization?.dtype ?? w.dtype;
      total += n * (bytesOf[dtype] ?? NaN);
    }
  }
  return total;
}

export function modelFormat(modelJson: tf.io.ModelJSON, source: string): TfjsModelFormat {
  if (modelJson.format === 'layers-model' || modelJson.format === 'graph-model') return modelJson.format;
  // Older exports omit `format`: a Keras topology has class_name/config, a GraphDef has node.
  const topo = modelJson.modelTopology as Record<string, unknown> | undefined;
  if (topo && ('class_name' in topo || 'model_config' in topo)) return 'layers-model';
  if (topo && 'node' in topo) return 'graph-model';
  throw new ModelFormatError(source, 'model.json is neither a layers-model nor a graph-model');
}

/** The model behind a `tf.LayersModel` or `GraphModel`, as one differentiable function. */
interface LoadedModel {
  format: TfjsModelFormat;
  /** Input shape with the batch dimension (null or -1 for any). */
  inputShape: Array<number | null>;
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

export async function loadTfjsModel(files: TfjsModelFiles, source: string): Promise<LoadedModel> {
  const format = modelFormat(files.modelJson, source);
  const expected = expectedWeightBytes(files.modelJson);
  if (Number.isFinite(expected) && files.weightData.byteLength !== expected) {
    throw new ModelFormatError(
      source,
      `weight shards hold ${files.weightData.byteLength} bytes, model.json's weightsManifest needs ${expected} (${files.weightData.byteLength < expected ? 'truncated shard' : 'extra bytes'})`,
      'weights',
    );
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: files.modelJson.modelTopology,
    format: files.modelJson.format,
    generatedBy: files.modelJson.generatedBy,
    convertedBy: files.modelJson.convertedBy,
    signature: files.modelJson.signature,
    userDefinedMetadata: files.modelJson.userDefinedMetadata,
    modelInitializer: files.modelJson.modelInitializer,
    weightSpecs: (files.modelJson.weightsManifest ?? []).flatMap((g) => g.weights),
    weightData: files.weightData,
  };
  try {
    if (format === 'layers-model') {
      const m = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
      const shape = m.inputs[0].shape;
      return {
        format,
        inputShape: shape,
        predict: (x) => m.apply(x, { training: false }) as tf.Tensor | tf.Tensor[],
        dispose: () => m.dispose(),
      };
    }
    const g: GraphModel = await loadGraphModel(tf.io.fromMemory(artifacts));
    const shape = g.inputs[0]?.shape ?? [];
    return {
      format,
      inputShape: shape.map((d) => (d === -1 ? null : d)),
      predict: (x) => g.predict(x) as tf.Tensor | tf.Tensor[],
      dispose: () => g.dispose(),
    };
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    throw new ModelFormatError(source, `cannot load the ${format}: ${(err as Error).message}`);
  }
}

/** What registration found out about a model. */
export interface ModelCheck {
  format: TfjsModelFormat;
  inputShape: Array<number | null>;
  outputUnits: number;
  /** Whether d(logits)/d(input) exists for every op; the gradient ranking needs it. */
  differentiable: boolean;
  /** The first op without a gradient, when not differentiable. */
  nonDifferentiableOp: string | null;
}

/**
 * tfjs-core 4.22's `engine.gradients` leaves its tape behind when the backward pass throws (a
 * kernel without a gradient): the tensors the forward pass saved for it stay allocated until the
 * next successful gradient anywhere in the process. Releases them as a successful call would.
 */
function releaseFailedTape(): void {
  const state = (
    tf.engine() as unknown as { state: { gradientDepth: number; activeTape: Array<{ saved?: tf.Tensor[] }> | null } }
  ).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
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
      try {
        // tidy keeps what its function returns: return nothing, so the probe's gradient is freed too.
        tf.tidy(
          () =>
            void tf.grad((x: tf.Tensor) => tf.sum(classifier.logits(x as tf.Tensor4D)))(tf.fill([1, 32, 32, 1], 0.5)),
        );
      } catch (err) {
        releaseFailedTape();
        const m =
          /gradient function not found for (\w+)|Cannot compute gradient[^:]*: gradient function not found for (\w+)/i.exec(
            (err as Error).message,
          );
        check.differentiable = false;
        check.nonDifferentiableOp = m?.[1] ?? m?.[2] ?? (err as Error).message;
      }
      return classifier;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** Generator images [N,32,32,1] in [0,1] -> the model's input, per the adapter. */
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
      if (a.channels === 3) x = tf.tile(x, [1, 1, 1, 3]) as tf.Tensor4D;
      const [lo, hi] = a.range;
      let y: tf.Tensor = lo === 0 && hi === 1 ? x : tf.add(tf.mul(x, hi - lo), lo);
      const mean = a.mean.length === 1 ? a.mean[0] : tf.tensor1d(a.mean);
      const std = a.std.length === 1 ? a.std[0] : tf.tensor1d(a.std);
      if (!(a.mean.length === 1 && a.mean[0] === 0)) y = tf.sub(y, mean);
      if (!(a.std.length === 1 && a.std[0] === 1)) y = tf.div(y, std);
      return y as tf.Tensor4D;
    });
  }

  logits(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.model.predict(this.adapt(images));
      let y = (Array.isArray(out) ? out[this.adapter.output.index] : out) as tf.Tensor2D;
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
