/**
 * The live computations' CPU budget (issue #8): render, classify, traversal and corner-case search
 * run tfjs-wasm synchronously on the isolate's one thread, so concurrent requests do not run in
 * parallel, they pile up. A per-isolate limiter admits `maxInFlight` computations at once and
 * queues the next ones in arrival order; a request is refused at once with 503 problem+json and
 * `Retry-After` when the queue is full or its projected wait (queue position x the recent mean
 * computation time) exceeds `maxWaitMs`, and a queued one that has waited `maxWaitMs` is refused
 * the same way — an answer within the budget instead of a timeout. Cached live results (Cache API
 * hits, 304s) never wait: only computations take a slot.
 *
 * Configured by the worker's vars LIVE_MAX_INFLIGHT (default 1), LIVE_MAX_QUEUE (32) and
 * LIVE_MAX_WAIT_MS (4000); see wrangler.toml.
 */
import type { Env } from './env.js';
import { ProblemError } from './problem.js';

export interface LiveLimits {
  maxInFlight: number;
  maxQueue: number;
  maxWaitMs: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = { maxInFlight: 1, maxQueue: 32, maxWaitMs: 4000 };

function intVar(v: string | undefined, fallback: number, min: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n >= min ? n : fallback;
}

export function liveLimits(env: Env | undefined): LiveLimits {
  return {
    maxInFlight: intVar(env?.LIVE_MAX_INFLIGHT, DEFAULT_LIVE_LIMITS.maxInFlight, 1),
    maxQueue: intVar(env?.LIVE_MAX_QUEUE, DEFAULT_LIVE_LIMITS.maxQueue, 0),
    maxWaitMs: intVar(env?.LIVE_MAX_WAIT_MS, DEFAULT_LIVE_LIMITS.maxWaitMs, 0),
  };
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

interface Waiter {
  grant: () => void;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface LimiterStats {
  inFlight: number;
  queued: number;
  meanMs: number;
  admitted: number;
  refused: number;
}

export class LiveLimiter {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  /** Exponentially weighted mean computation time (ms), for projected waits and Retry-After. */
  private meanMs = 50;
  private admitted = 0;
  private refused = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  stats(): LimiterStats {
    return { inFlight: this.inFlight, queued: this.queue.length, meanMs: Math.round(this.meanMs), admitted: this.admitted, refused: this.refused };
  }

  /** Runs `fn` within the limits, or throws a 503 ProblemError with Retry-After. */
  async run<T>(limits: LiveLimits, fn: () => Promise<T>): Promise<T> {
    await this.acquire(limits);
    try {
      // A synchronous computation keeps the isolate from even starting the requests that arrive
      // meanwhile: they would wait unseen in the runtime. Yielding to the event loop first lets
      // them reach this limiter (queued, or refused at once), and refreshes the clock, which
      // Workers only advance between events.
      await yieldToEventLoop();
      const t0 = this.now();
      try {
        return await fn();
      } finally {
        // Read the clock after the next event, so the mean includes the synchronous compute.
        void yieldToEventLoop().then(() => {
          this.meanMs = 0.8 * this.meanMs + 0.2 * Math.max(1, this.now() - t0);
        });
      }
    } finally {
      this.release();
    }
  }

  /** Expected wait of a request with `position` requests queued ahead of it (all slots busy). */
  private projectedWaitMs(position: number, limits: LiveLimits): number {
    return Math.ceil((position + 1) / limits.maxInFlight) * this.meanMs;
  }

  private busy(limits: LiveLimits, reason: string, waitMs: number): ProblemError {
    this.refused++;
    const retry = Math.max(1, Math.ceil(waitMs / 1000));
    return new ProblemError(
      503,
      'overloaded',
      `live computation is at capacity (${reason}); retry after ${retry} s, or use the cached results`,
      { retryAfterSeconds: retry, inFlight: this.inFlight, queued: this.queue.length, maxInFlight: limits.maxInFlight, maxQueue: limits.maxQueue, maxWaitMs: limits.maxWaitMs },
      { 'retry-after': String(retry), 'cache-control': 'no-store' },
    );
  }

  private acquire(limits: LiveLimits): Promise<void> {
    if (this.inFlight < limits.maxInFlight && this.queue.length === 0) {
      this.inFlight++;
      this.admitted++;
      return Promise.resolve();
    }
    const position = this.queue.length;
    const projected = this.projectedWaitMs(position, limits);
    if (position >= limits.maxQueue) return Promise.reject(this.busy(limits, `${this.inFlight} running, ${position} waiting: the queue is full`, projected));
    if (projected > limits.maxWaitMs) return Promise.reject(this.busy(limits, `projected wait ${projected} ms exceeds ${limits.maxWaitMs} ms`, projected));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          if (waiter.timer !== null) clearTimeout(waiter.timer);
          this.inFlight++;
          this.admitted++;
          resolve();
        },
        timer: null,
      };
      waiter.timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i < 0) return;
        this.queue.splice(i, 1);
        reject(this.busy(limits, `waited ${limits.maxWaitMs} ms for a slot`, this.projectedWaitMs(this.queue.length, limits)));
      }, limits.maxWaitMs);
      this.queue.push(waiter);
    });
  }

  private release(): void {
    this.inFlight--;
    this.queue.shift()?.grant();
  }
}

/** The isolate's limiter (module state: one per isolate). */
export const liveLimiter = new LiveLimiter();

/** Runs a live computation under the isolate's limiter with the worker's configured limits. */
export function limitedCompute<T>(env: Env | undefined, fn: () => Promise<T>): Promise<T> {
  return liveLimiter.run(liveLimits(env), fn);
}
