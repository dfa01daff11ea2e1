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

function liveLimits(env: Env | undefined): LiveLimits {
  return {
    maxInFlight: intVar(env?.LIVE_MAX_INFLIGHT, DEFAULT_LIVE_LIMITS.maxInFlight, 1),
    maxQueue: intVar(env?.LIVE_MAX_QUEUE, DEFAULT_LIVE_LIMITS.maxQueue, 0),
    maxWaitMs: intVar(env?.LIVE_MAX_WAIT_MS, DEFAULT_LIVE_LIMITS.maxWaitMs, 0),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const yieldToEventLoop = () => sleep(0);

/** A queued request: it polls for its turn in its own request context. */
interface Waiter {
  enqueuedAt: number;
  /** Last time its own loop ran: a cancelled request's loop stops, and its entry goes stale. */
  lastPoll: number;
}

export interface LimiterStats {
  inFlight: number;
  queued: number;
  meanMs: number;
  admitted: number;
  refused: number;
}

/** How often the oldest queued request looks for a free slot (ms); the others look less often. */
const POLL_MS = 4;
const POLL_BEHIND_MS = 20;
/**
 * A queued entry whose loop has not run for this long belongs to a cancelled request (a live one
 * taken for stale after a long synchronous computation puts itself back in its place).
 */
const STALE_MS = 300;
/** A slot held longer than this belongs to a computation that will not finish (reclaimed). */
const SLOT_TTL_MS = 60_000;

/**
 * Why polling, not a promise handed from the releasing request to the next one: in Workers a
 * promise resolved from another request's context never runs its continuation when its own
 * request was cancelled (a client that disconnected while queued), so a slot handed to it would be
 * lost for good, and workerd may take a request waiting on such a promise for hung (500). Here a
 * queued request takes a free slot itself, from its own timers; the entries of cancelled requests
 * go stale and are dropped; a slot whose holder never releases it expires.
 */
export class LiveLimiter {
  /** Start times of the computations holding a slot. */
  private readonly slots = new Map<number, number>();
  private nextSlot = 0;
  private readonly queue: Waiter[] = [];
  /** Exponentially weighted mean computation time (ms), for projected waits and Retry-After. */
  private meanMs = 50;
  private admitted = 0;
  private refused = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  stats(): LimiterStats {
    this.prune();
    return {
      inFlight: this.slots.size,
      queued: this.queue.length,
      meanMs: Math.round(this.meanMs),
      admitted: this.admitted,
      refused: this.refused,
    };
  }

  /** Runs `fn` within the limits, or throws a 503 ProblemError with Retry-After. */
  async run<T>(limits: LiveLimits, fn: () => Promise<T>): Promise<T> {
    const slot = await this.acquire(limits);
    let t0 = this.now();
    try {
      // A synchronous computation keeps the isolate from even starting the requests that arrive
      // meanwhile: they would wait unseen in the runtime. Yielding to the event loop first lets
      // them reach this limiter (queued, or refused at once), and refreshes the clock, which
      // Workers only advance between events.
      await yieldToEventLoop();
      t0 = this.now();
      return await fn();
    } finally {
      this.release(slot);
      // Read the clock after the next event, so the mean includes the synchronous compute.
      await yieldToEventLoop();
      this.meanMs = 0.8 * this.meanMs + 0.2 * Math.max(1, this.now() - t0);
    }
  }

  /** Drops stale queue entries and expired slots. */
  private prune(): void {
    const now = this.now();
    for (let i = this.queue.length - 1; i >= 0; i--)
      if (now - this.queue[i].lastPoll > STALE_MS) this.queue.splice(i, 1);
    for (const [id, started] of this.slots) if (now - started > SLOT_TTL_MS) this.slots.delete(id);
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
      {
        retryAfterSeconds: retry,
        inFlight: this.slots.size,
        queued: this.queue.length,
        meanComputeMs: Math.round(this.meanMs),
        maxInFlight: limits.maxInFlight,
        maxQueue: limits.maxQueue,
        maxWaitMs: limits.maxWaitMs,
      },
      { 'retry-after': String(retry), 'cache-control': 'no-store' },
    );
  }

  private take(): number {
    const id = this.nextSlot++;
    this.slots.set(id, this.now());
    this.admitted++;
    return id;
  }

  private async acquire(limits: LiveLimits): Promise<number> {
    this.prune();
    if (this.slots.size < limits.maxInFlight && this.queue.length === 0) return this.take();
    const position = this.queue.length;
    const projected = this.projectedWaitMs(position, limits);
    if (position >= limits.maxQueue)
      throw this.busy(limits, `${this.slots.size} running, ${position} waiting: the queue is full`, projected);
    if (projected > limits.maxWaitMs)
      throw this.busy(limits, `projected wait ${projected} ms exceeds ${limits.maxWaitMs} ms`, projected);
    const me: Waiter = { enqueuedAt: this.now(), lastPoll: this.now() };
    this.queue.push(me);
    for (;;) {
      await sleep(this.queue[0] === me ? POLL_MS : POLL_BEHIND_MS);
      me.lastPoll = this.now();
      this.prune();
      let i = this.queue.indexOf(me);
      if (i < 0) {
        // Taken for stale while the isolate was busy: back in its place (the queue is in arrival order).
        i = this.queue.findIndex((w) => w.enqueuedAt > me.enqueuedAt);
        if (i < 0) i = this.queue.length;
        this.queue.splice(i, 0, me);
      }
      if (i === 0 && this.slots.size < limits.maxInFlight) {
        this.queue.shift();
        return this.take();
      }
      if (this.now() - me.enqueuedAt >= limits.maxWaitMs) {
        this.queue.splice(this.queue.indexOf(me), 1);
        throw this.busy(
          limits,
          `waited ${limits.maxWaitMs} ms for a slot`,
          this.projectedWaitMs(this.queue.length, limits),
        );
      }
    }
  }

  private release(slot: number): void {
    this.slots.delete(slot);
  }
}

/** The isolate's limiter (module state: one per isolate). */
const liveLimiter = new LiveLimiter();

/** Runs a live computation under the isolate's limiter with the worker's configured limits. */
export function limitedCompute<T>(env: Env | undefined, fn: () => Promise<T>): Promise<T> {
  return liveLimiter.run(liveLimits(env), fn);
}
