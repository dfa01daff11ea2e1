/**
 * The runner's models: the very weights the edge serves (GET /v1/runner/models/{id}/manifest and
 * /weights, token-protected), verified with the core codec (sha256 of the bytes must equal both the
 * manifest's and the id the job names), built once per process and reused across shards.
 */
import { SimpleCnn, parseCnnConfig } from '../core/classifier/simple-cnn.js';
import type { Classifier } from '../core/classifier/classifier.js';
import { parseAdapter } from '../core/classifier/adapter.js';
import { TfjsClassifier, parseModelJson, tfjsClassifierId, tfjsModelSha256 } from '../core/classifier/tfjs-model.js';
import { DEFAULT_GENERATOR } from '../core/generator/architecture.js';
import { Generator } from '../core/generator/generator.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import { decodeWeights, parseManifest, WeightsError } from '../core/weights/codec.js';
import { RANDOM_INIT_ID, RANDOM_INIT_SEED } from '../protocol/catalog.js';
import type { EdgeClient } from './client.js';

/**
 * Where model files come from: the edge client itself, or (in the compute thread, which holds no
 * token) reads relayed through the runner's main thread (src/gpu-runner/compute-worker.ts).
 */
export type ModelFiles = Pick<EdgeClient, 'base' | 'modelFile' | 'classifierFile'>;

/** Decodes and verifies one model's weights fetched from the edge. */
export async function fetchVerified(client: ModelFiles, id: string) {
  const manifestJson = await client.modelFile(id, 'manifest');
  const where = `${client.base}/v1/runner/models/${id}`;
  const manifest = parseManifest(JSON.parse(new TextDecoder().decode(manifestJson)), `${where}/manifest`);
  if (manifest.sha256 !== id)
    throw new WeightsError(
      `${where}/manifest`,
      'checksum',
      `manifest sha256 ${manifest.sha256} is not the requested model ${id}`,
    );
  const bytes = await client.modelFile(id, 'weights');
  return { manifest, tensors: decodeWeights(manifest, bytes, `${where}/weights`) };
}

const generators = new Map<string, Promise<Generator>>();
const classifiers = new Map<string, Promise<Classifier>>();

function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * A registered classifier (a user's TF.js model and adapter) fetched from the edge; its id is the
 * content hash of the files, recomputed here, so different bytes are refused, never used.
 */
export async function fetchRegisteredClassifier(client: ModelFiles, id: string): Promise<TfjsClassifier> {
  const where = `${client.base}/v1/runner/classifiers/${id}`;
  const [model, weights, adapterBytes] = await Promise.all([
    client.classifierFile(id, 'model'),
    client.classifierFile(id, 'weights'),
    client.classifierFile(id, 'adapter'),
  ]);
  const adapter = parseAdapter(JSON.parse(new TextDecoder().decode(adapterBytes)), `${where}/adapter`);
  const got = tfjsClassifierId(tfjsModelSha256(model, [weights]), adapter);
  if (got !== id) throw new WeightsError(where, 'checksum', `the files served for classifier ${id} hash to ${got}`);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return TfjsClassifier.create(id, { modelJson: parseModelJson(model, `${where}/model`), weightData }, adapter, where);
}

/**
 * The generator and classifier a job names, identified by the sha256 of their weights (a built-in
 * classifier) or by their content hash (`classifierFormat` 'tfjs': a registered classifier).
 */
export async function jobModels(
  client: ModelFiles,
  generatorId: string,
  classifierId: string,
  classifierFormat?: string,
): Promise<AnalysisModels> {
  const generator = await once(generators, generatorId, async () => {
    // The edge's placeholder when it was built without generator weights: seeded, reproducible.
    if (generatorId === RANDOM_INIT_ID) return new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED);
    const { manifest, tensors } = await fetchVerified(client, generatorId);
    return Generator.fromWeights(manifest, tensors, `${client.base}/v1/runner/models/${generatorId}/weights`);
  });
  const classifier = await once(classifiers, classifierId, async () => {
    if (classifierFormat === 'tfjs') return fetchRegisteredClassifier(client, classifierId);
    const { manifest, tensors } = await fetchVerified(client, classifierId);
    const file = `${client.base}/v1/runner/models/${classifierId}/weights`;
    if (manifest.kind !== 'classifier')
      throw new WeightsError(file, 'invalid-manifest', `model ${classifierId} is a ${manifest.kind}, not a classifier`);
    return SimpleCnn.fromWeights(
      manifest.name ?? classifierId,
      parseCnnConfig(manifest.architecture, file),
      tensors,
      file,
    );
  });
  return { generator, classifier, generatorId, classifierId };
}
