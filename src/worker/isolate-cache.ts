/**
 * The per-isolate cache of loads (catalog, built models), on the core's PromiseCache with the one
 * setting every isolate cache needs: workerd cancels a finished request's pending I/O, so a load
 * pending longer than STALE_MS belongs to a cancelled request and is started again rather than
 * awaited forever.
 */
import { PromiseCache, type PromiseCacheOptions } from '../core/loading/promise-cache.js';

/** Keeps a load running when the request that started it ends (ExecutionContext.waitUntil). */
export type KeepAlive = (p: Promise<unknown>) => void;

/** Age (ms) past which a pending load is presumed lost. */
const STALE_MS = 30_000;

export function isolateCache<T>(opts: Omit<PromiseCacheOptions<T>, 'staleMs'> = {}): PromiseCache<T> {
  return new PromiseCache<T>({ ...opts, staleMs: STALE_MS });
}
