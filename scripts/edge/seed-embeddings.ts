/**
 * Seeds the cached embeddings (src/worker/embeddings.ts) for every classifier with the core
 * computation a runner's `embeddings` job uses (src/core/analysis/embeddings-result.ts), so seeded
 * and job-computed embeddings are the same numbers. Called by `npm run seed:edge` after the other
 * results; `node dist/edge-seed.mjs --only embeddings` adds them to existing results (same pinned
 * models) without recomputing the rest.
 */
import { embeddingsResult } from '../../src/core/analysis/embeddings-result.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import type { SweepSpec } from '../../src/protocol/result-keys.js';
import { EMBEDDINGS_OPTIONS, type EmbeddingsPayload } from '../../src/worker/embeddings.js';

/** Payload per classifier name. */
export async function computeEmbeddings(
  models: AnalysisModels[],
  sweep: SweepSpec,
): Promise<Map<string, EmbeddingsPayload>> {
  const out = new Map<string, EmbeddingsPayload>();
  for (const m of models) out.set(m.classifier.name, await embeddingsResult(m, sweep, EMBEDDINGS_OPTIONS));
  return out;
}
