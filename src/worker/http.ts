/** Response helpers: ETag / If-None-Match (304), Cache-Control, JSON and PNG bodies. */
import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import type { Env } from './env.js';
import { timed } from './server-timing.js';

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

/**
 * A Response that says, to the type checker, which status it has and what JSON it carries — as
 * Hono's own `c.json()` does — so `app.openapi(route, handler)` checks a handler's bodies against
 * the route's response schemas. (These helpers build their own Responses rather than use
 * `c.json()` because they also set the ETag, Cache-Control and `charset` every reply has carried.)
 */
export type JsonResponse<T, S extends ContentfulStatusCode = 200> = Response & TypedResponse<JSONParsed<T>, S, 'json'>;
/** A bodiless reply of status `S` (304, 204), typed as routes with no content for `S` expect it. */
// biome-ignore lint/complexity/noBannedTypes: @hono/zod-openapi types a bodiless response as TypedResponse<{}>.
export type EmptyResponse<S extends 204 | 304> = Response & TypedResponse<{}, S, string>;

/** 304 when the client already holds `etag`; null otherwise (compute and send the body). */
export function notModified(c: AppContext, etag: string, cacheControl: string): EmptyResponse<304> | null {
  if (!matches(c.req.header('if-none-match'), etag)) return null;
  return new Response(null, { status: 304, headers: { etag, 'cache-control': cacheControl } }) as EmptyResponse<304>;
}

export function json<T, S extends ContentfulStatusCode = 200>(
  body: T,
  init: { status?: S; etag?: string; cacheControl?: string; headers?: Record<string, string> } = {},
): JsonResponse<T, S> {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...init.headers };
  if (init.etag) headers.etag = init.etag;
  headers['cache-control'] = init.cacheControl ?? 'no-store';
  // The type is the body's, serialised by the line below: the one place it is asserted.
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers }) as JsonResponse<T, S>;
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

export { base64, pngDataUrl } from '../core/image/data-url.js';

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
export async function viaCache<R extends Response>(c: AppContext, etag: string, compute: () => Promise<R>): Promise<R> {
  const cache = (globalThis as unknown as { caches?: { default?: EdgeCache } }).caches?.default;
  if (!cache) return compute();
  const key = new Request(`https://live-cache.faultlines.invalid/${etag.replace(/"/g, '')}`);
  // Timed apart: on a warm live call it is the edge's own cost beside the model's (issue #19).
  const hit = await timed('cache-lookup', () => cache.match(key));
  if (hit) {
    // A hit is a reply `compute` made for this very ETag (only 200s are stored): the same type.
    const res = new Response(hit.body, hit) as R;
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
