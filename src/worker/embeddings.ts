/**
 * The latent-space embeddings (paper figure 3): UMAP of the first `samples` samples of the sweep in
 * Z, W and S, per classifier (which samples are misclassified differs). For the built-in
 * classifiers seeded by `npm run seed:edge` (scripts/edge/seed-embeddings.ts); for a registered
 * classifier computed by a runner as an `embeddings` job (src/core/analysis/embeddings-result.ts).
 * Served by GET /v1/embeddings. Keyed like the other results (resultKey: content hash of kind,
 * models, sweep, options), so the seeded keys and the jobs' keys are one scheme.
 */
import type { EmbeddingResult } from '../core/analysis/embedding.js';
import { DEFAULT_OPTIONS, resultKey, type SweepSpec } from '../protocol/result-keys.js';

export const EMBEDDINGS_KIND = 'embeddings';
export const EMBEDDINGS_OPTIONS = DEFAULT_OPTIONS.embeddings;

export function embeddingsKey(generatorId: string, classifierId: string, sweep: SweepSpec, domain?: string): string {
  return resultKey({ kind: EMBEDDINGS_KIND, generatorId, classifierId, sweep, options: EMBEDDINGS_OPTIONS, domain });
}

export type EmbeddingsPayload = EmbeddingResult;
