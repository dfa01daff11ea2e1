/**
 * The latent-space embeddings of a sweep's head (paper figure 3) as one computation for every
 * producer: `analyze`'s embedding stage (report.ts), and the edge's `embeddings` result that a
 * runner computes as a job for a registered classifier. The first n samples of the population
 * (sample i depends on (seed, i) alone, so the head of any count is the same), with their z and w,
 * UMAP per space (seeded) and the kNN AUROC of mis- vs well-classified per space.
 *
 * Not shardable: UMAP and the kNN score both need every point at once (neighbour graphs over all
 * n samples), so a job computes it whole, on one runner.
 *
 * Pure core code (tfjs-core, no Node APIs).
 */
import { embedSpaces, type EmbeddingResult } from './embedding.js';
import type { AnalysisModels } from './analysis-models.js';
import { samplePopulation, type PopulationSpec } from './population.js';
// The options and their check need no tfjs (the edge checks payloads with them): embeddings-options.ts.
import type { EmbeddingsOptions } from './embeddings-options.js';
export { parseEmbeddingsOptions, type EmbeddingsOptions } from './embeddings-options.js';

/**
 * Samples per batch of the embedded head (fixed, as the seeded built-in embeddings were sampled:
 * a batch's size may change a kernel's float32 summation order, and results must not depend on who
 * computed them).
 */
const EMBEDDINGS_BATCH = 100;

/**
 * UMAP of the first `n` samples of `spec` in Z, W and S, and their kNN AUROC: `analyze`'s
 * embedding stage and the edge's embeddings result both call this.
 */
export async function sweepHeadEmbedding(
  models: AnalysisModels,
  spec: PopulationSpec,
  n: number,
  o: { seed: number; k?: number; nNeighbors?: number; batchSize: number },
): Promise<EmbeddingResult> {
  const g = models.generator.arch;
  const head = await samplePopulation(models, { ...spec, count: n, batchSize: o.batchSize, keepLatents: true });
  return embedSpaces(
    {
      count: n,
      labels: head.labels,
      correct: head.correct,
      spaces: [
        { space: 'Z', values: head.z!, dims: g.zDim },
        { space: 'W', values: head.w!, dims: g.wDim },
        { space: 'S', values: head.styles, dims: head.styleSize },
      ],
    },
    { seed: o.seed, k: o.k, nNeighbors: o.nNeighbors },
  );
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * The points rounded to 4 decimals (UMAP's layout is meaningful far above that; it keeps the
 * payload small), as the edge stores every embeddings result, seeded or computed by a job.
 */
export function storedEmbedding(e: EmbeddingResult): EmbeddingResult {
  return {
    ...e,
    spaces: e.spaces.map((s) => ({ ...s, points: s.points.map(([x, y]) => [r4(x), r4(y)] as [number, number]) })),
  };
}

/** The edge's embeddings result of (models, sweep): the head of the whole sweep (every class), as stored. */
export async function embeddingsResult(
  models: AnalysisModels,
  sweep: { seed: number; count: number },
  o: EmbeddingsOptions,
): Promise<EmbeddingResult> {
  const n = Math.min(o.samples, sweep.count);
  const e = await sweepHeadEmbedding(models, { seed: sweep.seed, count: sweep.count, classIndex: null }, n, {
    seed: o.seed,
    k: o.k,
    nNeighbors: o.nNeighbors,
    batchSize: EMBEDDINGS_BATCH,
  });
  return storedEmbedding(e);
}
