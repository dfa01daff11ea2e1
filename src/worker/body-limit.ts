/** Request body limits: small for public endpoints, larger for runners posting results and classifier uploads. */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './http.js';
import { LIMITS } from './limits.js';
import { problem, problemResponse } from './problem.js';
import { UPLOAD_LIMITS } from './registry.js';

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
  const classify = limit(LIMITS.classifyBodyBytes);
  const upload = bodyLimit({
    maxSize: UPLOAD_LIMITS.bodyBytes,
    onError: () =>
      problemResponse(
        problem(413, 'body-too-large', `classifier uploads are limited to ${UPLOAD_LIMITS.bodyBytes} bytes (${UPLOAD_LIMITS.bodyBytes / 1024 / 1024} MiB) in all: model.json, the weight shards, the adapter and the multipart framing`, { field: 'body', limit: UPLOAD_LIMITS.bodyBytes }),
      ),
  });
  return (c, next) => {
    const p = new URL(c.req.url).pathname;
    if (p === '/v1/classifiers' && c.req.method === 'POST') return upload(c, next);
    if (p === '/v1/classify') return classify(c, next);
    return p.startsWith('/v1/runner/') ? large(c, next) : small(c, next);
  };
}
