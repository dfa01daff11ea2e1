/**
 * What names a population (population.ts) without sampling it: its spec, the spec's check and the
 * hash its sums and results are keyed on. No tfjs here (the edge checks runners' payloads with it).
 */
import { contentHash } from '../hash.js';
import type { AnalysisModels } from './analysis-models.js';
import { analysisNoise, NOISE_STREAM_LIMIT } from './noise.js';

export interface PopulationSpec {
  seed: number;
  /** Number of samples. */
  count: number;
  /** One class, or null for all classes. */
  classIndex: number | null;
}

export function checkPopulationSpec(spec: PopulationSpec, numClasses: number): void {
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff)
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${spec.seed}`);
  if (!Number.isSafeInteger(spec.count) || spec.count < 1 || spec.count > NOISE_STREAM_LIMIT)
    throw new RangeError(`count must be an integer in [1, ${NOISE_STREAM_LIMIT}], got ${spec.count}`);
  if (
    spec.classIndex !== null &&
    (!Number.isInteger(spec.classIndex) || spec.classIndex < 0 || spec.classIndex >= numClasses)
  ) {
    throw new RangeError(`classIndex must be null or an integer in [0, ${numClasses}), got ${spec.classIndex}`);
  }
}

/** Hash of (models, their noise, spec): sums and results of a population are keyed on it. */
export function populationSpecHash(
  models: Pick<AnalysisModels, 'generatorId' | 'classifierId' | 'noise'>,
  spec: PopulationSpec,
): string {
  return contentHash({
    kind: 'population',
    generator: models.generatorId,
    classifier: models.classifierId,
    noise: analysisNoise(models),
    seed: spec.seed,
    count: spec.count,
    classIndex: spec.classIndex,
  });
}
