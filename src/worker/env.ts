/**
 * The worker's bindings (see wrangler.toml) and the few platform types it uses, declared here so
 * the worker type-checks without pulling the Workers global types into the rest of the project.
 *
 * Why not `wrangler types` (it works offline; measured with wrangler 4.86): its `Env` names the
 * global workers-types (KVNamespace, R2Bucket, Fetcher, ...), so it needs the runtime declarations
 * it writes beside it, 504,080 bytes / 13,557 lines of globals (Request, Response, TextDecoder, ...)
 * that replace the DOM and Node ones the single project tsconfig loads; checked against them,
 * src/worker and the core it imports have 6 type errors to settle first. It also types JOBS from
 * the built bundle (dist/worker/index, absent before `npm run build:edge`) and adds the secrets it
 * finds in the local, untracked .dev.vars, so its output differs per machine. Until the worker has
 * its own tsconfig, test/worker/env-bindings.test.ts runs `wrangler types` on wrangler.toml and
 * checks that every binding it derives is declared here with its kind, and no other.
 */
import type { JobBoard } from './jobs/board.js';
import type { JobIndex } from './jobs/job-index.js';

interface AssetsFetcher {
  fetch(input: Request | string): Promise<Response>;
}

interface KvNamespace {
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string, options?: { metadata?: unknown }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The R2 bucket API the worker uses (registered classifiers). */
interface R2ObjectBody {
  size: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2Bucket {
  get(key: string): Promise<R2ObjectBody | null>;
  put(
    key: string,
    value: ArrayBuffer | Uint8Array | string,
    options?: { httpMetadata?: { contentType?: string } },
  ): Promise<unknown>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: {
    prefix?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ objects: Array<{ key: string; size: number }>; truncated: boolean; cursor?: string }>;
}

interface DurableObjectId {
  toString(): string;
}

interface DurableObjectNamespace<T> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): T;
}

interface SqlCursor<T> {
  toArray(): T[];
  one(): T;
  /** Rows the statement read and wrote so far (the job board reports them per call). */
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

interface DurableObjectStorage {
  sql: { exec<T = Record<string, unknown>>(query: string, ...bindings: unknown[]): SqlCursor<T> };
  transactionSync<T>(fn: () => T): T;
}

export interface DurableObjectState {
  storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

/** RPC methods of the job board as seen through a stub (every call is async). */
type Stub<T> = {
  [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never;
};

/** The platform's rate limiting binding (`[[ratelimits]]`): counts `key` in the binding's window. */
interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface Env {
  /** Static assets: model weights, the catalog and the precomputed results (wrangler [assets]). */
  ASSETS: AssetsFetcher;
  /** Results written by jobs, keyed `result:<content hash>`; immutable once written. */
  RESULTS: KvNamespace;
  /** The job boards (SQLite-backed Durable Objects, one per job, addressed by the job's id). */
  JOBS: DurableObjectNamespace<Stub<JobBoard>>;
  /** The job index (one SQLite-backed Durable Object): job keys, statuses, and where leases go. */
  JOB_INDEX: DurableObjectNamespace<Stub<JobIndex>>;
  /** Registered classifiers (wrangler.toml [[r2_buckets]]; src/worker/registered/). */
  CLASSIFIERS?: R2Bucket;
  /**
   * URL prefixes from which classifiers may be registered (POST /v1/classifiers with a `url`),
   * separated by spaces or commas; unset or empty: registration from URLs is refused (403).
   */
  MODEL_URL_ALLOWLIST?: string;
  /**
   * Secret (bearer token) of the runner scope: /v1/runner/* (issue #6). Unset: those endpoints
   * answer 403. `npx wrangler secret put RUNNER_TOKEN`; locally `.dev.vars` (see src/worker/auth.ts).
   */
  RUNNER_TOKEN?: string;
  /**
   * Secret (bearer token) of the submitter scope: POST /v1/jobs and POST /v1/classifiers. Unset: they answer 403.
   * Must differ from RUNNER_TOKEN. `npx wrangler secret put SUBMIT_TOKEN`; locally `.dev.vars`.
   */
  SUBMIT_TOKEN?: string;
  /** Per-client read rate limit (wrangler.toml [[ratelimits]]); absent: no rate limiting. */
  READ_LIMITER?: RateLimiter;
  /** The READ_LIMITER's period in seconds (10 or 60; the Retry-After of a 429). Default "10". */
  READ_RATE_PERIOD_S?: string;
  /** Live computations running at once per isolate (default "1"; see src/worker/live-limit.ts). */
  LIVE_MAX_INFLIGHT?: string;
  /** Live computations waiting per isolate before new ones are refused with 503 (default "32"). */
  LIVE_MAX_QUEUE?: string;
  /** Longest wait (ms) for a live computation's turn, measured or projected, before 503 (default "4000"). */
  LIVE_MAX_WAIT_MS?: string;
  /** "1": every reply carries a Server-Timing header of its phases (src/worker/server-timing.ts); default off. */
  SERVER_TIMING?: string;
  /**
   * "0": the generator runs its synthesis epilogue as stock ops instead of the fused wasm kernel
   * (bit-identical; to rule the kernel out, and what test/worker/edge-fused-epilogue.test.ts compares
   * against). Default on.
   */
  FUSED_EPILOGUE?: string;
  /**
   * "0": Conv2D's 3x3 convs run XNNPACK's kernel instead of the direct conv3x3 wasm kernel
   * (bit-identical; src/core/nn/conv3x3/conv3x3-kernel.ts). Default on.
   */
  CONV3X3?: string;
}
