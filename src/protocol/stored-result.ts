/**
 * A stored result as the edge keeps and serves it whole (GET /v1/results/{key}, GET
 * /v1/jobs/{id}/result): what it was computed from (its provenance) and its kind's payload. One
 * object per kind, told apart by `kind`, so a client (and /openapi.json) knows each payload's shape.
 * Runtime-free: zod only.
 */
import { z } from 'zod';
import { DirectionsPayloadSchema } from './directions.js';
import { AccuracyCurvesPayloadSchema, CornerCasesPayloadSchema, HistogramsPayloadSchema } from './derived-payloads.js';
import { EmbeddingsPayloadSchema } from './embeddings-payload.js';
import { ExplanationPayloadSchema } from './explain.js';
import { RankingSumsPayloadSchema } from './ranking-sums.js';
import { RESULT_SCHEMA, type JobKind } from './result-keys.js';

/** The sweep a result is of: the population (seed, count). */
export const SweepSchema = z.object({ seed: z.number().int(), count: z.number().int() });

/** Each kind's payload. */
const RESULT_PAYLOAD_SCHEMAS = {
  'ranking-sums': RankingSumsPayloadSchema,
  histograms: HistogramsPayloadSchema,
  'accuracy-curves': AccuracyCurvesPayloadSchema,
  'corner-cases': CornerCasesPayloadSchema,
  directions: DirectionsPayloadSchema,
  embeddings: EmbeddingsPayloadSchema,
  explain: ExplanationPayloadSchema,
} as const satisfies Record<JobKind, z.ZodType>;

/** What a stored result was computed from: the fields every result carries beside its payload. */
export const provenanceFields = {
  key: z.string().describe('Content hash of (kind, models, sweep, options): the cache key'),
  domain: z.string().optional().describe('The image domain; absent: the default one (mnist)'),
  classifier: z.string(),
  generatorId: z.string(),
  classifierId: z.string(),
  sweep: SweepSchema,
  options: z.record(z.string(), z.unknown()).describe('The options it was keyed and computed with'),
  computed: z.record(z.string(), z.unknown()).describe('Who computed it: backend, seconds, command'),
};

/** The stored result of one kind. */
const storedResultOf = <K extends JobKind>(kind: K) =>
  z
    .object({
      schema: z.literal(RESULT_SCHEMA),
      kind: z.literal(kind),
      ...provenanceFields,
      payload: RESULT_PAYLOAD_SCHEMAS[kind],
    })
    .strict();

export const StoredResultSchema = z.discriminatedUnion('kind', [
  storedResultOf('ranking-sums'),
  storedResultOf('histograms'),
  storedResultOf('accuracy-curves'),
  storedResultOf('corner-cases'),
  storedResultOf('directions'),
  storedResultOf('embeddings'),
  storedResultOf('explain'),
]);
