/**
 * The worker's bindings (see wrangler.toml) and the few platform types it uses, declared here so
 * the worker type-checks without pulling the Workers global types into the rest of the project.
 */
import type { JobBoard } from './jobs/board.js';

export interface AssetsFetcher {
  fetch(input: Request | string): Promise<Response>;
}

export interface KvNamespace {
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string, options?: { metadata?: unknown }): Promise<void>;
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectNamespace<T> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): T;
}

export interface SqlCursor<T> {
  toArray(): T[];
  one(): T;
}

export interface DurableObjectStorage {
  sql: { exec<T = Record<string, unknown>>(query: string, ...bindings: unknown[]): SqlCursor<T> };
  transactionSync<T>(fn: () => T): T;
}

export interface DurableObjectState {
  storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

/** RPC methods of the job board as seen through a stub (every call is async). */
export type Stub<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export interface Env {
  /** Static assets: model weights, the catalog and the precomputed results (wrangler [assets]). */
  ASSETS: AssetsFetcher;
  /** Results written by jobs, keyed `result:<content hash>`; immutable once written. */
  RESULTS: KvNamespace;
  /** The job board (one SQLite-backed Durable Object). */
  JOBS: DurableObjectNamespace<Stub<JobBoard>>;
  /** Bearer token of the GPU runners (issue #6); runner endpoints answer 403 while unset. */
  RUNNER_TOKEN?: string;
}
