/** Index, health, the OpenAPI document, the docs page and problem type descriptions. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getCatalog, liveCompute, loadedLiveCompute } from '../isolate-models.js';
import { builtRegistered } from '../registered/built.js';
import { json, keep, type AppEnv } from '../http.js';
import { HealthSchema } from '../../protocol/worker-replies.js';
import { PROBLEM_TYPES, ProblemError, errorResponses, type ProblemSlug } from '../problem.js';
import { LIMITS } from '../limits.js';
import { fetchAsset } from '../static-assets.js';

/** The API viewer: swagger-ui-dist from the worker's own assets (no CDN). */
const DOCS_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Faultlines API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<noscript>The API description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });</script>
</body></html>`;

const DOCS_TYPES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

const startedAt = Date.now();

export function registerMeta(app: OpenAPIHono<AppEnv>): void {
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Faultlines edge API',
      version: '1.0.0',
      description:
        'Failure directions of image classifiers in a StyleGAN2 StyleSpace. Cached results (rankings, histograms, accuracy curves, corner ' +
        'cases) are served from storage and never recomputed inline; live endpoints (render, classify, traversal, one corner-case ' +
        'search) run small bounded computations on tfjs-wasm; heavy sweeps are jobs. Errors are application/problem+json.',
    },
    servers: [{ url: '/' }],
  });

  app.get('/docs', (c) => c.html(DOCS_HTML));
  app.get('/docs/:file', async (c) => {
    const file = c.req.param('file');
    // Own keys only: `toString`, `constructor` or `__proto__` are not docs files.
    const type = Object.hasOwn(DOCS_TYPES, file) ? DOCS_TYPES[file] : undefined;
    if (type === undefined) throw new ProblemError(404, 'not-found', `no docs file ${file}`);
    const res = await fetchAsset(c.env, `/docs/${file}`);
    if (!res.ok) throw new ProblemError(503, 'unavailable', 'the docs viewer was not built (npm run build:edge)');
    return new Response(res.body, { headers: { 'content-type': type, 'cache-control': 'public, max-age=3600' } });
  });

  app.get('/', (c) =>
    c.json({
      name: 'faultlines',
      docs: '/docs',
      openapi: '/openapi.json',
      endpoints: [
        '/v1/health',
        '/v1/domains',
        '/v1/models',
        '/v1/rankings',
        '/v1/histograms',
        '/v1/accuracy-curves',
        '/v1/corner-cases',
        '/v1/results',
        '/v1/render',
        '/v1/classify',
        '/v1/traversal',
        '/v1/corner-case',
        '/v1/jobs',
      ],
    }),
  );

  const ProblemSlugParam = z.object({ slug: z.string().max(64) });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/problems/{slug}',
      tags: ['meta'],
      summary: 'What a problem type means',
      request: { params: ProblemSlugParam },
      responses: {
        200: {
          description: 'The problem type',
          content: { 'application/json': { schema: z.object({ type: z.string(), title: z.string() }) } },
        },
        ...errorResponses(404),
      },
    }),
    async (c) => {
      const { slug } = c.req.valid('param');
      if (!Object.hasOwn(PROBLEM_TYPES, slug))
        throw new ProblemError(404, 'not-found', `no problem type "${slug}"`, { field: 'slug' });
      return json(
        { type: `/problems/${slug}`, title: PROBLEM_TYPES[slug as ProblemSlug] },
        { cacheControl: 'public, max-age=86400' },
      );
    },
  );

  const HealthQuery = z.object({
    warm: z
      .enum(['true', 'false'])
      .default('false')
      .openapi({ description: 'Also initialise the wasm backend and build the generator' }),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/health',
      tags: ['meta'],
      summary: 'Liveness, backend and limits',
      request: { query: HealthQuery },
      responses: {
        200: {
          description: 'Healthy',
          content: { 'application/json': { schema: HealthSchema.openapi('Health') } },
        },
        ...errorResponses(400, 503),
      },
    }),
    async (c) => {
      const { warm } = c.req.valid('query');
      const catalog = await getCatalog(c.env);
      let backendInitMs: number | null = null;
      let generator: string | null = null;
      if (warm === 'true') {
        const compute = await liveCompute();
        backendInitMs = await compute.ensureBackend();
        generator = (await compute.getGenerator(c.env, keep(c))).info.name;
      }
      // Without ?warm=true the health check loads no tfjs: an isolate that has not is on no backend.
      const k = loadedLiveCompute();
      return json({
        ok: true as const,
        isolateAgeMs: Date.now() - startedAt,
        backend: k?.backendName() ?? 'none',
        backendInitMs,
        tensors: k?.liveTensors() ?? null,
        fusedEpilogue: (k?.fusedEpilogueActive() ?? false) && c.env.FUSED_EPILOGUE !== '0',
        conv3x3: (k?.conv3x3Registered() ?? false) && c.env.CONV3X3 !== '0',
        registeredBuilt: builtRegistered(),
        generator: generator ?? catalog.generator?.name ?? 'generator-random-init',
        classifiers: catalog.classifiers.map((m) => m.name),
        catalogBuiltAt: catalog.builtAt,
        limits: LIMITS,
      });
    },
  );
}
