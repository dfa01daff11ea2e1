/**
 * A user's TF.js model.json (LayersModel or GraphModel, as `model.save` or `tensorflowjs_converter`
 * write it): parsing, its format, the weight shards it names and their sizes. Pure checks on the
 * files, with no tfjs-layers or tfjs-converter: the edge runs them on every registration before
 * loading anything.
 */
import type * as tf from '../tf.js';

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
          `graph node "${n.name}" (${n.op}) takes input "${input}", but the graph has ` +
            `no node "${ref}" (a dangling input: was the graph cut or renamed after conversion?)`,
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
