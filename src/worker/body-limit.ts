/**
 * Request body limits, one Hono `bodyLimit` per route group: runners posting results and classifier
 * uploads get more room than the public endpoints. Hono runs every middleware whose path matches, so
 * the default (small) limit is wrapped in `except` for the larger groups: chained, the small one
 * would refuse their bodies first.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import type { AppEnv } from './http.js';
import { LIMITS } from './limits.js';
import { problem, problemResponse } from './problem.js';
import { UPLOAD_LIMITS } from './registered/limits.js';

/** Runners post whole results (ranking sums of a large S can be megabytes). */
export const RUNNER_BODY_BYTES = 16 * 1024 * 1024;

/** Hono's bodyLimit answering 413 problem+json with the limit (its own reply is plain text). */
const limit = (maxSize: number, detail = `request bodies are limited to ${maxSize} bytes`) =>
  bodyLimit({
    maxSize,
    onError: () => problemResponse(problem(413, 'body-too-large', detail, { field: 'body', limit: maxSize })),
  });

const isUpload = (c: Context) => c.req.method === 'POST' && c.req.path === '/v1/classifiers';

export function registerBodyLimits(app: OpenAPIHono<AppEnv>): void {
  app.use('/v1/runner/*', limit(RUNNER_BODY_BYTES));
  app.use('/v1/classify', limit(LIMITS.classifyBodyBytes));
  const upload = limit(
    UPLOAD_LIMITS.bodyBytes,
    `classifier uploads are limited to ${UPLOAD_LIMITS.bodyBytes} bytes (${UPLOAD_LIMITS.bodyBytes / 1024 / 1024} MiB) ` +
      `in all: model.json, the weight shards, the adapter and the multipart framing`,
  );
  app.on('POST', '/v1/classifiers', upload);
  app.use('*', except(['/v1/runner/*', '/v1/classify', isUpload], limit(LIMITS.bodyBytes)));
}
