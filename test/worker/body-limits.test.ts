/**
 * Request body limits per route group (src/worker/body-limit.ts), on the middleware alone: each
 * group takes a body of exactly its limit and refuses one byte more with 413 problem+json naming
 * the limit, whether the body announces its length or streams without one. The larger groups must
 * not be cut by the default limit (Hono runs every matching middleware).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { RUNNER_BODY_BYTES, registerBodyLimits } from '../../src/worker/body-limit.js';
import type { AppEnv } from '../../src/worker/http.js';
import { LIMITS } from '../../src/worker/limits.js';
import { UPLOAD_LIMITS } from '../../src/worker/registered/limits.js';

const app = new OpenAPIHono<AppEnv>();
registerBodyLimits(app);
app.all('*', async (c) => c.json({ read: (await c.req.arrayBuffer()).byteLength }));

const GROUPS: Array<{ method: string; path: string; limit: number }> = [
  { method: 'POST', path: '/v1/render', limit: LIMITS.bodyBytes },
  { method: 'POST', path: '/v1/jobs', limit: LIMITS.bodyBytes },
  { method: 'PUT', path: '/v1/classifiers', limit: LIMITS.bodyBytes }, // only POST is an upload
  { method: 'POST', path: '/v1/classify', limit: LIMITS.classifyBodyBytes },
  { method: 'POST', path: '/v1/runner/lease', limit: RUNNER_BODY_BYTES },
  { method: 'POST', path: '/v1/runner/jobs/00000000-0000-4000-8000-000000000000/complete', limit: RUNNER_BODY_BYTES },
  { method: 'POST', path: '/v1/classifiers', limit: UPLOAD_LIMITS.bodyBytes },
];

/** A body of `bytes` bytes, announced (Content-Length) or streamed in 64 KiB chunks without a length. */
function send(method: string, path: string, bytes: number, streamed: boolean): Promise<Response> {
  if (!streamed)
    return Promise.resolve(
      app.request(path, { method, headers: { 'content-length': String(bytes) }, body: new Uint8Array(bytes) }),
    );
  let left = bytes;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left === 0) return controller.close();
      const n = Math.min(left, 65536);
      left -= n;
      controller.enqueue(new Uint8Array(n));
    },
  });
  return Promise.resolve(app.request(path, { method, body, duplex: 'half' } as RequestInit));
}

describe('body limits per route group', () => {
  for (const { method, path, limit } of GROUPS) {
    for (const streamed of [false, true]) {
      it(`${method} ${path}: ${limit} bytes pass, ${limit + 1} get 413 (${streamed ? 'streamed' : 'Content-Length'})`, async () => {
        const ok = await send(method, path, limit, streamed);
        expect(ok.status).toBe(200);
        expect(await ok.json()).toEqual({ read: limit });
        const over = await send(method, path, limit + 1, streamed);
        expect(over.status).toBe(413);
        expect(over.headers.get('content-type')).toBe('application/problem+json');
        expect(await over.json()).toMatchObject({ type: '/problems/body-too-large', field: 'body', limit });
      });
    }
  }
});
