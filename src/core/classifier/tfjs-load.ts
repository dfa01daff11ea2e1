/**
 * Loads a checked TF.js model.json and its weights into tfjs-layers (LayersModel) or
 * tfjs-converter (GraphModel), behind one differentiable function.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '../tf.js';
import {
  ModelFormatError,
  expectedWeightBytes,
  modelFormat,
  type TfjsModelFiles,
  type TfjsModelFormat,
} from './tfjs-model-json.js';

/** The model behind a `tf.LayersModel` or `GraphModel`, as one differentiable function. */
export interface LoadedModel {
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
      `weight shards hold ${files.weightData.byteLength} bytes, model.json's weightsManifest needs ` +
        `${expected} (${files.weightData.byteLength < expected ? 'truncated shard' : 'extra bytes'})`,
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
