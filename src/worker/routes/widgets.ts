/**
 * The browser side of the API: CORS on the read endpoints the widgets call (GET/HEAD only, any
 * origin, no credentials; write endpoints get none, so browsers refuse cross-origin writes), and the
 * widgets / dashboard modules from the static assets (scripts/edge/widgets-bundle.ts).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { Env } from '../env.js';
import type { AppEnv } from '../http.js';
import { IMMUTABLE } from '../http.js';
import { problem, problemResponse } from '../problem.js';
import { fetchAsset } from '../static-assets.js';
import { widgetsManifest } from '../services/widgets-manifest.js';

/** Read endpoints a page on another origin may call. */
const CORS_READ = [
  new RegExp(
    `^/v1/(${[
      'health',
      'models',
      'classifiers',
      'rankings',
      'rankings/rows',
      'histograms',
      'accuracy-curves',
      'accuracy-curves/rows',
      'corner-cases',
      'corner-case',
      'directions',
      'render',
      'traversal',
      'embeddings',
      'embeddings/sample',
      'results',
    ].join('|')})$`,
  ),
  /^\/v1\/(models|results|explain)\/[^/]+$/,
  /^\/widgets\/v1\/[^/]+$/,
  /^\/openapi\.json$/,
];
const EXPOSE = [
  'etag',
  'location',
  'retry-after',
  'x-faultlines-cache',
  'x-p-true',
  'x-predicted-class',
  'x-flipped',
  'x-outcome',
];
/** GET and HEAD are the reads; OPTIONS is their preflight. */
const CORS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const corsReadable = (pathname: string) => CORS_READ.some((r) => r.test(pathname));

async function serveModule(env: Env, pathname: string, cacheControl: string, etag: string): Promise<Response> {
  const res = await fetchAsset(env, pathname);
  if (!res.ok) return problemResponse(problem(404, 'not-found', `no module ${pathname}`));
  return new Response(res.body, {
    status: 200,
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': cacheControl,
      etag,
      'x-content-type-options': 'nosniff',
    },
  });
}

export function registerWidgets(app: OpenAPIHono<AppEnv>): void {
  // Hono's CORS middleware with a fixed origin '*' (so no `Vary: Origin` that would split caches),
  // run only on the read paths and the methods a widget may use: a POST on a read path (POST
  // /v1/render, POST /v1/classifiers) and every write path get no CORS headers at all, so browsers
  // refuse cross-origin writes; a preflight on a write path falls through to the app (404).
  const readCors = cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD'],
    allowHeaders: ['if-none-match'],
    exposeHeaders: EXPOSE,
    maxAge: 86400,
  });
  app.use('*', (c, next) =>
    corsReadable(new URL(c.req.url).pathname) && CORS_METHODS.has(c.req.method) ? readCors(c, next) : next(),
  );

  // The widgets module: a stable v1 URL (revalidated) and its content-addressed twin (immutable).
  app.get('/widgets/v1/:file', async (c) => {
    const file = c.req.param('file');
    const m = await widgetsManifest(c.env);
    const etag = `"${m.widgets.sha256.slice(0, 32)}"`;
    if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers: { etag } });
    if (`/widgets/v1/${file}` === m.widgets.hashed) return serveModule(c.env, m.widgets.hashed, IMMUTABLE, etag);
    if (`/widgets/v1/${file}` === m.widgets.stable)
      return serveModule(c.env, m.widgets.stable, 'public, max-age=300, stale-while-revalidate=86400', etag);
    return problemResponse(
      problem(404, 'not-found', `no widgets module ${file}; the current one is ${m.widgets.stable}`),
    );
  });

  app.get('/dashboard/v1/:file', async (c) => {
    const m = await widgetsManifest(c.env);
    if (`/dashboard/v1/${c.req.param('file')}` !== m.dashboard.hashed)
      return problemResponse(problem(404, 'not-found', `no dashboard module ${c.req.param('file')}`));
    return serveModule(c.env, m.dashboard.hashed, IMMUTABLE, `"${m.dashboard.sha256.slice(0, 32)}"`);
  });
}
