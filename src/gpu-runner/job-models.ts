/**
 * The runner's models: the very weights the edge serves (GET /v1/runner/models/{id}/manifest and
 * /weights, token-protected), verified with the core codec (sha256 of the bytes must equal both the
 * manifest's and the id the job names), built once per process and reused across shards.
 */
import type { Classifier } from '../core/classifier/classifier.js';
import type { SimpleCnn } from '../core/classifier/simple-cnn.js';
import { parseAdapter } from '../core/classifier/adapter.js';
import { tfjsClassifierId, tfjsModelSha256 } from '../core/classifier/tfjs-classifier-id.js';
import { TfjsClassifier } from '../core/classifier/tfjs-model.js';
import { parseModelJson } from '../core/classifier/tfjs-model-json.js';
import type { Generator } from '../core/generator/generator.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import {
  buildClassifier,
  buildFeatureExtractor,
  buildGenerator,
  placeholderGenerator,
} from '../core/loading/built-models.js';
import { loadModelFiles, type ModelFile } from '../core/loading/model-files.js';
import { PromiseCache } from '../core/loading/promise-cache.js';
import { WeightsError } from '../core/weights/codec.js';
import { RANDOM_INIT_ID } from '../protocol/catalog.js';
import type { EdgeClient } from './client.js';

/**
 * Where model files come from: the edge client itself, or (in the compute thread, which holds no
 * token) reads relayed through the runner's main thread (src/gpu-runner/compute-worker.ts).
 */
export type ModelFiles = Pick<EdgeClient, 'base' | 'modelFile' | 'classifierFile'>;

/** Decodes and verifies one model's weights fetched from the edge (GET /v1/runner/models/{id}/manifest and /weights). */
function fetchVerified(client: ModelFiles, id: string) {
  const endpoint = (f: ModelFile) => (f.role === 'manifest' ? 'manifest' : 'weights');
  return loadModelFiles(
    {
      where: (f) => `${client.base}/v1/runner/models/${id}/${endpoint(f)}`,
      read: (f) => client.modelFile(id, endpoint(f)),
    },
    { sha256: id, sha256Of: 'the requested model' },
  );
}

/** Built once per process and reused across shards; a failed load is tried again by the next job. */
const generators = new PromiseCache<Generator>();
const classifiers = new PromiseCache<Classifier>();
const featureExtractors = new PromiseCache<SimpleCnn>();

/**
 * A registered classifier (a user's TF.js model and adapter) fetched from the edge; its id is the
 * content hash of the files, recomputed here, so different bytes are refused, never used.
 */
async function fetchRegisteredClassifier(client: ModelFiles, id: string): Promise<TfjsClassifier> {
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
  const generator = await generators.get(generatorId, async () =>
    // The edge's placeholder when it was built without generator weights: seeded, reproducible.
    generatorId === RANDOM_INIT_ID ? placeholderGenerator() : buildGenerator(await fetchVerified(client, generatorId)),
  );
  const classifier = await classifiers.get(classifierId, async () => {
    if (classifierFormat === 'tfjs') return fetchRegisteredClassifier(client, classifierId);
    const files = await fetchVerified(client, classifierId);
    return buildClassifier(files.manifest.name ?? classifierId, files);
  });
  return { generator, classifier, generatorId, classifierId };
}

/** The evaluation CNN an explain job names (its projection's feature distance), fetched and verified like the others. */
export function jobFeatureExtractor(client: ModelFiles, id: string): Promise<SimpleCnn> {
  return featureExtractors.get(id, async () => buildFeatureExtractor(await fetchVerified(client, id)));
}
