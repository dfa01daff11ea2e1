/**
 * The embeddings result's options (embeddings-result.ts) and their check, without UMAP or tfjs
 * (the edge checks runners' payloads with them).
 */

/** The edge's embeddings options (part of the result's key; DEFAULT_OPTIONS.embeddings in src/protocol/result-keys.ts). */
export type EmbeddingsOptions = {
  /** Samples embedded: the first `samples` of the sweep (fewer when the sweep is smaller). */
  samples: number;
  /** UMAP's neighbours. */
  nNeighbors: number;
  /** Neighbours of the kNN AUROC. */
  k: number;
  /** UMAP's seed. */
  seed: number;
};

const isInt = (v: unknown, min: number): v is number => Number.isSafeInteger(v) && (v as number) >= min;

/** A job's embeddings options (JSON) as typed options; throws naming the first bad field. */
export function parseEmbeddingsOptions(raw: Record<string, unknown>): EmbeddingsOptions {
  const int = (field: keyof EmbeddingsOptions, min: number) => {
    if (!isInt(raw[field], min))
      throw new Error(`embeddings option ${field} must be an integer >= ${min}, got ${JSON.stringify(raw[field])}`);
    return raw[field] as number;
  };
  // UMAP needs more points than neighbours; the kNN score more than k.
  return { samples: int('samples', 3), nNeighbors: int('nNeighbors', 2), k: int('k', 1), seed: int('seed', 0) };
}
