/** Request body limits: small for public endpoints, larger for runners posting results. */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './http.js';
import { LIMITS } from './limits.js';
import { problem, problemResponse } from './problem.js';

/** Runners post whole results (ranking sums of a large S can be megabytes). */
export const RUNNER_BODY_BYTES = 16 * 1024 * 1024;

export function bodyLimits(): MiddlewareHandler<AppEnv> {
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => problemResponse(problem(413, 'body-too-large', `request bodies are limited to ${maxSize} bytes`, { field: 'body', limit: maxSize })),
    });
  const small = limit(LIMITS.bodyBytes);
  const large = limit(RUNNER_BODY_BYTES);
  return (c, next) => (new URL(c.req.url).pathname.startsWith('/v1/runner/') ? large(c, next) : small(c, next));
}
