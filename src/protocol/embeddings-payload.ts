/**
 * The shape of an embeddings payload (the seeded built-in ones and a job's alike:
 * src/core/analysis/embedding.ts `EmbeddingResult`), as the edge stores and serves it and the
 * dashboard's embeddings view reads it. The edge's check of a runner's result against its job is in
 * src/worker/jobs/embeddings-payload.ts. Runtime-free: zod only.
 */
import { z } from 'zod';
import { EMBEDDING_SCHEMA } from '../core/analysis/schema-versions.js';
import { finite } from './derived-payloads.js';

export const EmbeddingsPayloadSchema = z.object({
  schema: z.literal(EMBEDDING_SCHEMA),
  count: z.number().int().positive(),
  labels: z.array(z.number().int().nonnegative()),
  correct: z.array(z.union([z.literal(0), z.literal(1)])),
  k: z.number().int().positive(),
  spaces: z.array(
    z.object({
      space: z.enum(['Z', 'W', 'S']),
      dims: z.number().int().positive(),
      points: z.array(z.tuple([finite, finite])),
      // NaN (no mis- or no well-classified sample among the points) is stored as null.
      knnAuroc: z.number().min(0).max(1).nullable(),
    }),
  ),
});

export type EmbeddingsPayload = z.infer<typeof EmbeddingsPayloadSchema>;
/** One space's 2-D projection (Z, W or S) and its k-NN AUROC. */
