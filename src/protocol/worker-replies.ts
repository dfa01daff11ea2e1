/**
 * Replies of the worker that no core result describes: a registered classifier as the API shows
 * it, the health report, a dead-lettered shard and the flat table rows. One zod schema each, so the
 * routes, /openapi.json and any client read the same shape (runtime-free: zod and core schemas).
 */
import { z } from 'zod';
import { AdapterSchema } from '../core/classifier/adapter.js';
import { DATA_VARIANTS } from '../core/data/domain.js';
import { ShardSchema } from './job.js';

const SanityCheckSplitSchema = z.object({
  split: z.enum(DATA_VARIANTS),
  count: z.number().int(),
  accuracy: z.number(),
  mostPredicted: z.object({ classIndex: z.number().int(), share: z.number() }),
});

/** The adapter checked on the edge's sample of real test images (core/classifier/sanity-check.ts). */
export const AdapterSanityCheckSchema = z.object({
  schema: z.literal('faultlines.adapter-sanity-check/1'),
  data: z.string(),
  classes: z.number().int(),
  chance: z.number(),
  threshold: z.number(),
  splits: z.array(SanityCheckSplitSchema),
  plausible: z.boolean(),
  warning: z.string().nullable(),
  fieldsToCheck: z.array(z.string()),
});

/** A user's TF.js classifier as registration recorded it (GET /v1/classifiers/{id}, and in lists). */
export const RegisteredClassifierSchema = z.object({
  name: z.string(),
  kind: z.literal('classifier'),
  id: z.string(),
  label: z.string(),
  source: z.literal('registered'),
  status: z.literal('registered'),
  byteLength: z.number().int(),
  sha256: z.string(),
  architecture: z.object({
    format: z.enum(['layers-model', 'graph-model']),
    inputShape: z.array(z.number().int().nullable()),
    outputUnits: z.number().int(),
    parameters: z.number().int(),
    classes: z.array(z.string()),
    adapter: AdapterSchema,
  }),
  provenance: z.object({
    origin: z.union([z.object({ kind: z.literal('upload') }), z.object({ kind: z.literal('url'), url: z.string() })]),
    registeredAt: z.string(),
    shards: z.array(z.object({ path: z.string(), bytes: z.number().int() })),
    modelJsonBytes: z.number().int(),
  }),
  metrics: z.object({}),
  displayName: z.string(),
  differentiable: z.boolean(),
  nonDifferentiableOp: z.string().nullable(),
  /** The domain it classifies, given at registration (its analyses use that domain's generator). */
  domain: z.string(),
  /** null: skipped (`sanityCheckSkipped` says why) or registered before the check existed. */
  sanityCheck: AdapterSanityCheckSchema.nullable(),
  sanityCheckSkipped: z.string().optional(),
});
export type RegisteredClassifier = z.infer<typeof RegisteredClassifierSchema>;

/** GET /v1/health: liveness, the isolate's backend and models, and the limits it enforces. */
export const HealthSchema = z.object({
  ok: z.literal(true),
  isolateAgeMs: z.number(),
  backend: z.string(),
  /** Set by `?warm=true`: milliseconds the wasm backend took to start. */
  backendInitMs: z.number().nullable(),
  /** null until the backend has started. */
  tensors: z.number().int().nullable(),
  /**
   * Whether the synthesis layers run the fused epilogue kernel (a precompiled wasm module; false
   * until the backend has started, or where it could not be instantiated: then the stock ops run).
   */
  fusedEpilogue: z.boolean(),
  /**
   * Whether Conv2D's 3x3 convs run the direct conv3x3 kernel (a precompiled wasm module, same bits
   * as XNNPACK's; false until the backend has started, where it could not be instantiated, or with
   * CONV3X3 "0").
   */
  conv3x3: z.boolean(),
  registeredBuilt: z.object({
    models: z.number().int(),
    weightBytes: z.number().int(),
    awaitingDisposal: z.number().int(),
  }),
  generator: z.string(),
  classifiers: z.array(z.string()),
  catalogBuiltAt: z.string(),
  limits: z.record(z.string(), z.number()),
});

/** A shard that used up its attempts, with the job it belongs to and its last error. */
export const DeadLetterSchema = z.object({ jobId: z.string(), key: z.string(), shard: ShardSchema });

/** GET /v1/rankings/rows: one row per dim. Its keys, in order, are the CSV columns. */
export const RankingRowSchema = z.object({
  classifier: z.string(),
  /** 'all' or the class ranked. */
  class: z.union([z.literal('all'), z.number().int()]),
  rank: z.number().int(),
  dim: z.number().int(),
  layer: z.string(),
  channel: z.number().int(),
  direction: z.enum(['increase', 'decrease']),
  score: z.number(),
  meanGradient: z.number(),
  standardError: z.number(),
  mean: z.number(),
  std: z.number(),
});
export type RankingRow = z.infer<typeof RankingRowSchema>;

/**
 * GET /v1/accuracy-curves/rows: one row per classifier and distance bin, then one for the samples
 * beyond the scale (lo 1, hi and mid null); the robustness columns repeat the curve's. An empty
 * bin's accuracy and interval are NaN in the core, null here.
 */
export const AccuracyCurveRowSchema = z.object({
  reference: z.string(),
  classifier: z.string(),
  bin: z.number().int(),
  lo: z.number(),
  hi: z.number().nullable(),
  mid: z.number().nullable(),
  count: z.number().int(),
  correct: z.number().int(),
  accuracy: z.number().nullable(),
  ciLow: z.number().nullable(),
  ciHigh: z.number().nullable(),
  sparse: z.boolean(),
  /** null where the core has NaN (no bin with enough samples; JSON has no NaN), as for accuracy. */
  robustness: z.number().nullable(),
  robustnessLow: z.number().nullable(),
  robustnessHigh: z.number().nullable(),
  overallAccuracy: z.number(),
});
export type AccuracyCurveRow = z.infer<typeof AccuracyCurveRowSchema>;
