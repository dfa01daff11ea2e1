/**
 * The job protocol the board, its routes and the GPU runner share (runtime-free: zod only): the job
 * spec a runner computes from, a shard, a lease and the public job view. Types are inferred from the
 * schemas, so the three sides cannot drift apart; the worker's OpenAPI document is generated from
 * the same schemas (extended with `.openapi()` metadata there).
 */
import { z } from 'zod';
import { JOB_KINDS } from './result-keys.js';

const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
const SHARD_STATUSES = ['queued', 'running', 'done', 'dead'] as const;
export type ShardStatus = (typeof SHARD_STATUSES)[number];

/** What a runner needs to compute a job's result exactly and to check it holds the same models. */
export const JobSpecSchema = z
  .object({
    /** The kind computed, when the spec came from a result's lookup (the job's own `kind` is what counts). */
    kind: z.enum(JOB_KINDS).optional(),
    classifier: z.string(),
    seed: z.number().int(),
    count: z.number().int(),
    options: z.record(z.string(), z.unknown()).optional(),
    generatorId: z.string(),
    classifierId: z.string(),
    /** The image domain (GET /v1/domains); absent: the default one. The models' ids pin it too. */
    domain: z.string().optional(),
    /** 'tfjs': a registered classifier (a user's TF.js model, GET /v1/runner/classifiers/{id}/...). */
    classifierFormat: z.string().optional(),
    /** Explanations: the checksum of the feature extractor whose space the projection is checked in. */
    featureExtractorId: z.string().optional(),
    /** Derived kinds: the key of the sweep's ranking-sums result they derive from. */
    sums: z.string().optional(),
    /** Accuracy curves: the (built-in) classifiers measured on the same samples, in order. */
    compare: z
      .array(z.object({ classifier: z.string(), classifierId: z.string(), classifierFormat: z.string().optional() }))
      .optional(),
  })
  .strict();
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** A running shard's lease as the public sees it: its holder's pseudonym and when it expires. */
const LeaseHolderSchema = z.object({ holder: z.string().nullable(), expiresAt: z.string() });

export const ShardSchema = z.object({
  index: z.number().int(),
  start: z.number().int(),
  end: z.number().int(),
  status: z.enum(SHARD_STATUSES),
  done: z.number().int(),
  attempts: z.number().int(),
  failures: z.number().int(),
  lease: LeaseHolderSchema.nullable(),
  /** Not leasable before this time (backoff after a failure). */
  retryAt: z.string().nullable(),
  samplesPerSecond: z.number().nullable(),
  error: z.string().nullable(),
  /** Pseudonym of the runner that completed it. */
  completedBy: z.string().nullable(),
});
export type Shard = z.infer<typeof ShardSchema>;

const JobShardCountsSchema = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  running: z.number().int(),
  done: z.number().int(),
  dead: z.number().int(),
});

export const JobSchema = z.object({
  id: z.string(),
  /** Content hash of the result this job produces (the cache key and idempotency key). */
  key: z.string(),
  kind: z.string(),
  spec: JobSpecSchema,
  status: z.enum(JOB_STATUSES),
  progress: z.object({
    done: z.number(),
    total: z.number(),
    samplesPerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
  }),
  /** Most leases used by any shard. */
  attempts: z.number().int(),
  /** The first running shard's lease. */
  lease: LeaseHolderSchema.nullable(),
  shardSize: z.number().int(),
  shards: JobShardCountsSchema,
  retryAt: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The result this job waits for (its key) and the job computing it, if any. */
  needs: z
    .object({ key: z.string(), jobId: z.string().nullable(), status: z.enum(JOB_STATUSES).nullable() })
    .nullable(),
  /** When any runner last called the board, and a note while a waiting job has none computing it. */
  runners: z.object({ lastContactAt: z.string().nullable(), note: z.string().nullable() }),
});
export type Job = z.infer<typeof JobSchema>;

/** The public view of a job: the job and where to poll it and fetch its result. */
export const JobViewSchema = JobSchema.extend({ statusUrl: z.string(), resultUrl: z.string() });
export type JobView = z.infer<typeof JobViewSchema>;

/** A lease handed to a runner: the job and its shard, with the lease's secret token (only in this response). */
export const LeaseViewSchema = JobViewSchema.extend({ shard: ShardSchema.extend({ leaseToken: z.string() }) });
export type LeaseView = z.infer<typeof LeaseViewSchema>;

/**
 * The response header of the runner endpoints and job status carrying what the board call cost in
 * SQLite ("statements=N; rows-read=N; rows-written=N"): constant whatever the job's shard count
 * (docs/job-board.md; test/worker/board-scale.test.ts).
 */
export const BOARD_COST_HEADER = 'x-board-cost';
