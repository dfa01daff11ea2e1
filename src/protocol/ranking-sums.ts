/**
 * The shape of one shard's ranking sums (src/core/analysis/ranking-sums.ts `RankingSums`) as a
 * runner uploads them: per class and dim, the counts and the sums of gradients and styles the edge
 * merges into a ranking. The edge's checks against the shard (ranges, sizes, the spec hash) are in
 * src/worker/routes/runner.ts. Runtime-free: zod only.
 */
import { z } from 'zod';
import { RANKING_SUMS_SCHEMA } from '../core/analysis/schema-versions.js';
import { finite } from './derived-payloads.js';

export const RankingSumsPayloadSchema = z.object({
  schema: z.literal(RANKING_SUMS_SCHEMA),
  specHash: z.string().min(1),
  ranges: z.array(z.tuple([z.number().int(), z.number().int()])).min(1),
  styleSize: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  count: z.array(z.number().int().nonnegative()),
  correct: z.array(z.number().int().nonnegative()),
  gradSum: z.array(finite),
  gradSqSum: z.array(finite),
  styleSum: z.array(finite),
  styleSqSum: z.array(finite),
});
