/**
 * Explaining one real image as a job (issue 20; docs/explain.md "API"): what POST /v1/explain puts
 * in an `explain` job's spec (the image's PNG bytes, its label and the budget), the key the answer
 * is cached under, and the shape of the answer a runner uploads — the CLI's report.json content
 * (src/core/analysis/explain.ts `explanationJson`), computed with the same core code. The edge's
 * further checks (sizes against the generator, the label against the job) are in
 * src/worker/jobs/explain-payload.ts. Runtime-free: zod and the content hash only.
 */
import { z } from 'zod';
import { contentHash } from '../core/hash.js';
import { EXPLANATION_SCHEMA } from '../core/analysis/schema-versions.js';
import { RESULT_NOISE, type SweepSpec } from './result-keys.js';

/** Bounds of an explain request: a projection of more steps is a job of many minutes on a CPU. */
export const EXPLAIN_LIMITS = {
  /** Projection steps (the CLI's default is 100; docs/explain.md: PSNR per budget). */
  steps: 1000,
  /** Deviating dims reported and moved (the CLI's --top). */
  top: 64,
  /** PNG bytes: a 32x32 grey PNG is about 1 KB; 32 KiB leaves room for any encoder's chunks. */
  pngBytes: 32 * 1024,
  /** Samples of the ranking sweep, at least (the CLI's --sweep-samples bound): fewer leave classes without samples. */
  minSweepSamples: 20,
} as const;

/**
 * Budgets POST /v1/explain computes inline, answering 200 at once (docs/explain.md, "Inline at the
 * edge": seconds measured per inline explanation); anything larger is a job for runners. Inline
 * needs the classifier's ranking sums at hand (the built-in classifiers' are seeded).
 */
export const EXPLAIN_INLINE = { steps: 8, top: 2 } as const;

/** Whether a request's budget is computed inline at the edge (else queued as a job). */
export const explainsInline = (b: { steps: number; top: number }) =>
  b.steps <= EXPLAIN_INLINE.steps && b.top <= EXPLAIN_INLINE.top;

/** Base64 (standard alphabet, padded) of a PNG: the signature 89 50 4E 47 0D 0A 1A 0A encodes as iVBORw0KGgo. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** An explain job's options (its spec's `options`): checked again when a runner leases it. */
export const ExplainJobOptionsSchema = z
  .object({
    /** The image's PNG bytes, base64 (as submitted: the runner decodes them as the CLI decodes the file). */
    image: z
      .string()
      .max(Math.ceil(EXPLAIN_LIMITS.pngBytes / 3) * 4)
      .regex(BASE64, 'must be base64'),
    label: z.number().int().nonnegative(),
    steps: z.number().int().min(0).max(EXPLAIN_LIMITS.steps),
    seed: z.number().int().min(0).max(0xffffffff),
    top: z.number().int().min(1).max(EXPLAIN_LIMITS.top),
  })
  .strict();
export type ExplainJobOptions = z.infer<typeof ExplainJobOptionsSchema>;

const EXPLAIN_KEY_SCHEMA = 'faultlines.explain-key/1';

export interface ExplainKeyInput {
  generatorId: string;
  classifierId: string;
  /** The sweep whose ranking sums give the std units and class ranking. */
  sweep: SweepSpec;
  /** sha256 (hex) of the decoded pixels (float32, little-endian): two encodings of one image share a key. */
  pixels: string;
  label: number;
  steps: number;
  seed: number;
  top: number;
  /** The image domain: set outside the default domain only (whose keys are unchanged). */
  domain?: string;
}

/** Content hash of everything an explanation depends on: the cache key of POST /v1/explain. */
export function explainKey(k: ExplainKeyInput): string {
  return contentHash({ schema: EXPLAIN_KEY_SCHEMA, kind: 'explain', noise: RESULT_NOISE, ...k });
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);
const LIST_MAX = 64;
/** One image of the generator's size as a PNG data URL (a 32x32 grey one is about 1.4 KB). */
const pngUrl = z
  .string()
  .max(16 * 1024)
  .regex(/^data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/, 'must be a PNG data URL');

const VerdictShape = { predicted: count, pTrue: unit };

const DeviatingDimSchema = z
  .object({
    index: count,
    name: z.string().max(64),
    deviation: finite,
    value: finite,
    centre: finite,
    std: finite.positive(),
    classRank: z.number().int().min(1),
    label: z.string().max(200).nullable(),
  })
  .strict();

const CounterfactualFrameSchema = z.object({ fraction: unit, ...VerdictShape, image: pngUrl }).strict();

const CounterfactualSchema = z
  .object({
    found: z.boolean(),
    dims: z.array(count).max(4096),
    allDims: z.boolean(),
    fraction: unit.nullable(),
    distance: finite.nonnegative().nullable(),
    frames: z.array(CounterfactualFrameSchema).max(LIST_MAX),
    reason: z.string().max(1000),
  })
  .strict();

const BoundaryDimSchema = z
  .object({
    index: count,
    name: z.string().max(64),
    classRank: z.number().int().min(1),
    shift: finite.nullable(),
    predicted: count.nullable(),
    image: pngUrl.nullable(),
  })
  .strict();

/** The CLI's report.json without what only a file has (its path, backend, where the sums came from). */
export const ExplanationPayloadSchema = z
  .object({
    schema: z.literal(EXPLANATION_SCHEMA),
    label: count,
    original: z.object(VerdictShape).strict(),
    reconstruction: z
      .object({
        ...VerdictShape,
        image: pngUrl,
        style: z.array(finite).max(1 << 16),
        psnr: finite,
        featureDistance: finite.nonnegative(),
      })
      .strict(),
    sameDecision: z.boolean(),
    warnings: z.array(z.string().max(1000)).max(16),
    centre: z.object({ samples: count, wellClassified: count }).strict(),
    deviations: z.array(DeviatingDimSchema).max(LIST_MAX),
    counterfactual: CounterfactualSchema.nullable(),
    boundary: z
      .object({
        nearest: BoundaryDimSchema.nullable(),
        dims: z.array(BoundaryDimSchema).max(LIST_MAX),
        maxSteps: finite,
      })
      .strict()
      .nullable(),
    seconds: z.object({ projection: finite.nonnegative(), explanation: finite.nonnegative() }).strict(),
  })
  .strict();
export type ExplanationPayload = z.infer<typeof ExplanationPayloadSchema>;

/** GET /v1/explain/{key} (and a repeated POST): the explanation with what it was computed from. */
export const ExplainAnswerSchema = z.object({
  status: z.literal('done'),
  key: z.string(),
  /** The image domain; absent: the default one. */
  domain: z.string().optional(),
  classifier: z.string(),
  generatorId: z.string(),
  classifierId: z.string(),
  request: z.object({ label: count, steps: count, seed: count, top: count, sweepSamples: count }),
  /** The submitted PNG, as a data URL. */
  image: z.string(),
  computed: z.record(z.string(), z.unknown()),
  explanation: ExplanationPayloadSchema,
});
export type ExplainAnswer = z.infer<typeof ExplainAnswerSchema>;
