/**
 * Latent-space embeddings (paper figure 3): 2-D UMAP embeddings (umap-js, seeded) of a population
 * in Z, W and S, and a number per space for how well it separates well- from mis-classified
 * samples: the AUROC of a leave-one-out k-nearest-neighbour score (the share of a sample's k nearest
 * neighbours that are misclassified) for telling mis- from well-classified samples, computed in the
 * full, standardised space (not in 2-D). Threshold-free, so the rarity of mistakes does not bias it:
 * 0.5 = no separation, 1 = perfect.
 */
import { UMAP } from 'umap-js';
import * as tf from '../tf.js';
import { createRng, uniform } from '../random.js';
import { auroc } from './stats.js';
import { EMBEDDING_SCHEMA } from './schema-versions.js';

type LatentSpace = 'Z' | 'W' | 'S';

interface SpaceEmbedding {
  space: LatentSpace;
  dims: number;
  /** [count][2]. */
  points: Array<[number, number]>;
  /** Leave-one-out kNN AUROC of mis vs well. */
  knnAuroc: number;
}

export interface EmbeddingResult {
  schema: typeof EMBEDDING_SCHEMA;
  count: number;
  labels: number[];
  correct: number[];
  k: number;
  spaces: SpaceEmbedding[];
}

export interface EmbeddingInput {
  count: number;
  labels: Uint8Array;
  correct: Uint8Array;
  spaces: Array<{ space: LatentSpace; values: Float32Array; dims: number }>;
}

/** Leave-one-out kNN AUROC of `correct` = 0 (mis) vs 1 (well); distances computed with tfjs. */
async function knnAuroc(values: Float32Array, n: number, d: number, correct: Uint8Array, k = 10): Promise<number> {
  const dist = tf.tidy(() => {
    const x = tf.tensor2d(values, [n, d]);
    // Standardise each dim so no single large-variance dim dominates the metric.
    const { mean, variance } = tf.moments(x, 0);
    const xs = tf.div(tf.sub(x, mean), tf.add(tf.sqrt(variance), 1e-8));
    const sq = tf.sum(tf.square(xs), 1, true);
    return tf.add(tf.sub(sq, tf.mul(2, tf.matMul(xs, tf.transpose(xs)))), tf.transpose(sq));
  });
  const dm = (await dist.data()) as Float32Array;
  dist.dispose();
  const misScores: number[] = [];
  const wellScores: number[] = [];
  const order = Array.from({ length: n }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    const row = dm.subarray(i * n, (i + 1) * n);
    const nearest = order
      .filter((j) => j !== i)
      .sort((a, b) => row[a] - row[b])
      .slice(0, k);
    const score = nearest.reduce((a, j) => a + (correct[j] ? 0 : 1), 0) / k;
    (correct[i] ? wellScores : misScores).push(score);
  }
  return auroc(misScores, wellScores);
}

/**
 * @example
 * const e = await embedSpaces({ count, labels, correct, spaces: [{ space: 'S', values: styles, dims: 512 }] });
 */
export async function embedSpaces(
  input: EmbeddingInput,
  opts: { k?: number; seed?: number; nNeighbors?: number } = {},
): Promise<EmbeddingResult> {
  const k = opts.k ?? 10;
  const spaces: SpaceEmbedding[] = [];
  for (const sp of input.spaces) {
    if (sp.values.length !== input.count * sp.dims)
      throw new Error(`${sp.space}: ${sp.values.length} values for ${input.count} x ${sp.dims}`);
    const rows = Array.from({ length: input.count }, (_, i) =>
      Array.from(sp.values.subarray(i * sp.dims, (i + 1) * sp.dims)),
    );
    const rng = createRng(opts.seed ?? 0);
    const umap = new UMAP({ nComponents: 2, nNeighbors: opts.nNeighbors ?? 15, random: () => uniform(rng) });
    const points = umap.fit(rows).map((p) => [p[0], p[1]] as [number, number]);
    spaces.push({
      space: sp.space,
      dims: sp.dims,
      points,
      knnAuroc: await knnAuroc(sp.values, input.count, sp.dims, input.correct, k),
    });
  }
  return {
    schema: EMBEDDING_SCHEMA,
    count: input.count,
    labels: Array.from(input.labels),
    correct: Array.from(input.correct),
    k,
    spaces,
  };
}
