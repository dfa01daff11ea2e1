/**
 * The one cache of pending and finished loads (models, catalogs), keyed by what is loaded: one load
 * per key, shared by every caller that asks while it runs. Used per isolate by the edge and per
 * process by the runner; pure TypeScript, so it can sit in the core both import.
 *
 * What the runtimes need of it, and why:
 * - `staleMs`: workerd cancels the I/O of a request that has ended, so a load started by one request
 *   may never settle; past this age a pending load is presumed lost and started again.
 * - `forget`: a transient failure is retried on the next call; a refusal (bad checksum) may be kept
 *   so a broken model is not reloaded on every request.
 * - `limit` and `onDrop`: users' models are bounded per isolate (count and bytes), least recently
 *   used dropped first; a dropped model may still be in use, so the owner disposes it later.
 */

export interface PromiseCacheOptions<T> {
  /** A load pending longer than this (ms) is presumed lost and started again. Default: never. */
  staleMs?: number;
  /** Whether a rejected load is forgotten (so the next call loads again). Default: always. */
  forget?: (err: unknown) => boolean;
  /** At most this many entries and this total cost (least recently used dropped first). Default: unbounded. */
  limit?: { entries: number; cost: number };
  /** Receives every load dropped by `limit` or presumed lost, which may still resolve (e.g. to dispose it). */
  onDrop?: (load: Promise<T>) => void;
  /** The clock (tests). */
  now?: () => number;
}

interface Entry<T> {
  promise: Promise<T>;
  startedAt: number;
  settled: boolean;
  cost: number;
}

export class PromiseCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly opts: PromiseCacheOptions<T> = {}) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * The load of `key`: the one cached (settled, or pending and not stale), else `load()` started
   * now. `keepAlive` receives a new load (never rejecting) so that the runtime can keep it running
   * past the request that started it (workerd's ExecutionContext.waitUntil).
   */
  get(
    key: string,
    load: () => Promise<T>,
    opts: { cost?: number; keepAlive?: (p: Promise<unknown>) => void } = {},
  ): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && (hit.settled || this.opts.staleMs === undefined || this.now() - hit.startedAt < this.opts.staleMs)) {
      this.touch(key, hit);
      return hit.promise;
    }
    if (hit) this.opts.onDrop?.(hit.promise);
    const promise = load();
    this.set(key, promise, opts.cost ?? 0);
    opts.keepAlive?.(promise.catch(() => undefined));
    return promise;
  }

  /** Caches a load started elsewhere (e.g. a model already built while registering it). */
  set(key: string, promise: Promise<T>, cost = 0): void {
    const entry: Entry<T> = { promise, startedAt: this.now(), settled: false, cost };
    promise.then(
      () => (entry.settled = true),
      (err: unknown) => {
        entry.settled = true;
        if ((this.opts.forget?.(err) ?? true) && this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    this.touch(key, entry);
  }

  /** Removes `key` (e.g. its model was deleted), passing its load to `onDrop`; whether it was cached. */
  drop(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.opts.onDrop?.(entry.promise);
    return true;
  }

  /** Entries cached and their total cost. */
  get size(): number {
    return this.entries.size;
  }
  get cost(): number {
    let c = 0;
    for (const e of this.entries.values()) c += e.cost;
    return c;
  }

  /** Makes `key` the most recently used, then drops the least recently used others beyond the limit. */
  private touch(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    const limit = this.opts.limit;
    if (limit === undefined) return;
    let cost = this.cost;
    for (const [k, old] of this.entries) {
      if (this.entries.size <= limit.entries && cost <= limit.cost) break;
      if (k === key) continue;
      this.entries.delete(k);
      cost -= old.cost;
      this.opts.onDrop?.(old.promise);
    }
  }
}
