/**
 * Server-Timing: where a request's time goes, phase by phase (weights fetched from the assets,
 * checked, models built, the wasm backend started, images rendered, classified, encoded), so a
 * benchmark can attribute a cold start. Only when the var SERVER_TIMING is "1": off by default, a
 * reply is byte for byte what it was, headers included, and no request pays for the bookkeeping.
 *
 * The phases happen deep inside model loading and inference, far from the Hono context, and a
 * model load is shared by every request waiting for it; so the request's context travels with
 * its async work (Hono's context storage, AsyncLocalStorage: wrangler.toml's `nodejs_als` flag) and
 * a phase lands in the request that ran it. On Cloudflare the clocks advance only across I/O, so
 * there a phase without I/O reads 0; on local workerd (the benchmark) they are real.
 */
import type { MiddlewareHandler } from 'hono';
import { contextStorage, tryGetContext } from 'hono/context-storage';
import { setMetric, timing } from 'hono/timing';
import type { AppEnv } from './http.js';

/** Each phase's name in the header, with its description (no commas: naive parsers split on them). */
const PHASES = {
  'code-load': 'live-compute code loaded (tfjs parsed and its kernels registered)',
  'cache-lookup': 'Cache API lookup of a live reply (before any computing)',
  'asset-fetch': 'model files read from the static assets',
  'weight-verify': 'manifest and weights checked (sha256; lengths; every tensor) and decoded',
  'backend-init': 'tfjs wasm backend started',
  'model-build': 'generator or classifier built from its weights',
  render: 'images rendered by the generator',
  classify: 'images classified',
  evaluate: 'images rendered and classified in one pass (traversals and corner cases)',
  encode: 'PNG and JSON encoded',
} as const;
export type Phase = keyof typeof PHASES;

const storeContext = contextStorage();
const headerTiming = timing({ totalDescription: 'whole request' });

/** The middleware: with SERVER_TIMING=1, every reply gets a Server-Timing header; otherwise nothing. */
export function serverTiming(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.env?.SERVER_TIMING !== '1') return next();
    await storeContext(c, async () => {
      await headerTiming(c, async () => {
        await next();
        // A reply may have immutable headers (one passed through from a fetch): copied, so it takes one more.
        c.res = new Response(c.res.body, c.res);
      });
    });
  };
}

/** Adds `ms` under `phase` to the current request's header (nothing when Server-Timing is off). */
export function recordPhase(phase: Phase, ms: number): void {
  const c = tryGetContext<AppEnv>();
  if (c?.get('metric')) setMetric(c, phase, ms, PHASES[phase]);
}

/** Whether the current request records phases (callers skip their own clock reads when not). */
export function timingPhases(): boolean {
  return tryGetContext<AppEnv>()?.get('metric') !== undefined;
}

/** Runs `f` (synchronous or not) and records its duration as `phase`. */
export function timed<T>(phase: Phase, f: () => T): T {
  if (!timingPhases()) return f();
  const t0 = performance.now();
  const done = () => recordPhase(phase, performance.now() - t0);
  const out = f();
  if (out instanceof Promise) return out.finally(done) as T;
  done();
  return out;
}
