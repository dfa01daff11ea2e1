/**
 * Per-client rate limiting of the public endpoints (issue #8) with the platform's rate limiting
 * binding (wrangler.toml `[[ratelimits]]` READ_LIMITER; simulated in memory by wrangler dev /
 * Miniflare), keyed by the client's IP (`CF-Connecting-IP`, set by Cloudflare's edge and by
 * wrangler dev). Over the limit: 429 problem+json with `Retry-After` (the binding's period).
 *
 * Counted: every request but the runners' (`/v1/runner/*`: authenticated machines that poll, often
 * several behind one address). Without the binding (tests calling the app directly) nothing is
 * limited; if the binding fails, the request is let through (fail open: the limit guards capacity,
 * not access).
 */
import type { MiddlewareHandler } from 'hono';
import type { Env } from './env.js';
import type { AppEnv } from './http.js';
import { problem, problemResponse } from './problem.js';

/** The Retry-After of a 429: the binding's period (READ_RATE_PERIOD_S, 10 or 60; default 10). */
function ratePeriodSeconds(env: Env | undefined): number {
  const v = Number(env?.READ_RATE_PERIOD_S ?? 10);
  return v === 60 ? 60 : 10;
}

export function readRateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limiter = c.env?.READ_LIMITER;
    if (!limiter || new URL(c.req.url).pathname.startsWith('/v1/runner/')) return next();
    const ip = c.req.header('cf-connecting-ip') ?? 'unknown';
    let allowed = true;
    try {
      allowed = (await limiter.limit({ key: `read:${ip}` })).success;
    } catch (err) {
      console.error('rate limiter failed; request let through', err);
    }
    if (allowed) return next();
    const retry = ratePeriodSeconds(c.env);
    return problemResponse(
      problem(
        429,
        'rate-limited',
        `too many requests from ${ip}: the read rate limit is per client and per ${retry} s; retry after ${retry} s`,
        { retryAfterSeconds: retry },
      ),
      { 'retry-after': String(retry), 'cache-control': 'no-store' },
    );
  };
}
