/**
 * The cached latent-space embeddings (paper figure 3): UMAP of the first `samples` samples of the
 * default sweep in Z, W and S, per classifier (which samples are misclassified differs). Computed by
 * `npm run seed:edge` (scripts/edge/seed-embeddings.ts), never by a job or inline; served by
 * GET /v1/embeddings. Keyed like the other results (content hash of kind, models, sweep, options).
 */
import { contentHash } from '../core/hash.js';
import { RESULT_NOISE, RESULT_SCHEMA, type SweepSpec } from '../protocol/catalog.js';

export const EMBEDDINGS_KIND = 'embeddings';
export const EMBEDDINGS_OPTIONS = { samples: 500, nNeighbors: 15, k: 10, seed: 0 } as const;

export function embeddingsKey(generatorId: string, classifierId: string, sweep: SweepSpec): string {
  return contentHash({
    schema: RESULT_SCHEMA,
    kind: EMBEDDINGS_KIND,
    generator: generatorId,
    classifier: classifierId,
    noise: RESULT_NOISE,
    seed: sweep.seed,
    count: sweep.count,
    options: EMBEDDINGS_OPTIONS,
  });
}

export interface EmbeddingsPayload {
  schema: 'faultlines.embedding/1';
  count: number;
  labels: number[];
  correct: number[];
  k: number;
  spaces: Array<{ space: 'Z' | 'W' | 'S'; dims: number; points: Array<[number, number]>; knnAuroc: number }>;
}
