/** Response helpers: ETag / If-None-Match (304), Cache-Control, JSON and PNG bodies. */
import type { Context } from 'hono';
import type { RouteConfig, OpenAPIHono } from '@hono/zod-openapi';
import type { z } from '@hono/zod-openapi';
import type { Env } from './env.js';

export type AppEnv = { Bindings: Env };
export type AppContext = Context<AppEnv, string, object>;

/** Results addressed by their content hash never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Named views (e.g. "the ranking of the default classifier"): their target changes when models do. */
export const REVALIDATE = 'public, max-age=60, must-revalidate';
/** Live computations: deterministic in their inputs and the model ids, so cacheable too. */
export const LIVE = 'public, max-age=3600';

/**
 * Whether If-None-Match names `etag`. `*` is not taken as a match: it means "any current
 * representation", and these checks run before the worker knows whether the thing exists (a
 * result may be missing, a model unknown), so answering 304 to it would claim things that are not
 * there; the request is answered in full instead.
 */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** 304 when the client already holds `etag`; null otherwise (compute and send the body). */
export function notModified(c: AppContext, etag: string, cacheControl: string): Response | null {
  if (!matches(c.req.header('if-none-match'), etag)) return null;
  return new Response(null, { status: 304, headers: { etag, 'cache-control': cacheControl } });
}

export function json(
  body: unknown,
  init: { status?: number; etag?: string; cacheControl?: string; headers?: Record<string, string> } = {},
): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...init.headers };
  if (init.etag) headers.etag = init.etag;
  headers['cache-control'] = init.cacheControl ?? 'no-store';
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

export function png(
  bytes: Uint8Array,
  etag: string,
  cacheControl: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(bytes as unknown as BodyInit, {
    status: 200,
    headers: { 'content-type': 'image/png', etag, 'cache-control': cacheControl, ...headers },
  });
}

/** Registers an OpenAPI route whose handler returns plain Responses (PNG, 304, problems). */
export function route<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  config: R,
  handler: (c: AppContext) => Promise<Response>,
): void {
  app.openapi(config, handler as never);
}

/** The validated input of `target`, typed by its schema. */
export function valid<S extends z.ZodType>(c: AppContext, target: 'query' | 'json' | 'param', _schema: S): z.infer<S> {
  return (c.req as unknown as { valid(t: string): unknown }).valid(target) as z.infer<S>;
}

export { base64, pngDataUrl } from '../core/image/png.js';

/** Keeps a shared load alive past this request (see isolate-models.ts). */
export function keep(c: AppContext): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      c.executionCtx.waitUntil(p);
    } catch {
      /* no execution context (tests calling the app directly) */
    }
  };
}

interface EdgeCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

/**
 * Live results through the Cache API (shared by the isolates of a location), keyed by their ETag,
 * which hashes the model ids and every input: a hit costs no computation. Marked
 * `x-faultlines-cache: hit|miss`. Without a Cache API (tests calling the app directly) it computes.
 */
export async function viaCache(c: AppContext, etag: string, compute: () => Promise<Response>): Promise<Response> {
  const cache = (globalThis as unknown as { caches?: { default?: EdgeCache } }).caches?.default;
  if (!cache) return compute();
  const key = new Request(`https://live-cache.faultlines.invalid/${etag.replace(/"/g, '')}`);
  const hit = await cache.match(key);
  if (hit) {
    const res = new Response(hit.body, hit);
    res.headers.set('x-faultlines-cache', 'hit');
    return res;
  }
  const res = await compute();
  if (res.status === 200) {
    res.headers.set('x-faultlines-cache', 'miss');
    keep(c)(cache.put(key, res.clone()));
  }
  return res;
}
