/**
 * The Hono application: OpenAPI 3.1 routes (one module per group), problem+json errors, body
 * limits. Nothing here touches tfjs until a live route needs a model.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { WeightsError } from '../core/weights/codec.js';
import type { AppEnv } from './http.js';
import { problem, problemResponse, ProblemError } from './problem.js';
import { registerMeta } from './routes/meta.js';
import { registerModels } from './routes/models.js';
import { registerDomains } from './routes/domains.js';
import { registerClassifiers } from './routes/classifiers.js';
import { trackRequests } from './registered/built.js';
import { registerAnalysisResults } from './routes/analysis-results.js';
import { registerLive } from './routes/live.js';
import { registerTraversal } from './routes/traversal.js';
import { registerJobs } from './routes/jobs.js';
import { registerRunner } from './routes/runner.js';
import { registerBodyLimits } from './body-limit.js';
import { drainUnreadBody } from './drain-body.js';
import { registerWidgets } from './routes/widgets.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerEmbed } from './routes/embed.js';
import { registerTables } from './routes/tables.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerExplain } from './routes/explain.js';
import { registerSecuritySchemes, requireScopeFor } from './auth.js';
import { readRateLimit } from './rate-limit.js';
import { serverTiming } from './server-timing.js';

export function buildApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      const field = issue.path.map(String).join('.') || result.target;
      const detail = `${field}: ${issue.message}`;
      return problemResponse(
        problem(400, 'validation', detail, {
          field,
          in: result.target,
          errors: result.error.issues
            .slice(0, 20)
            .map((i) => ({ field: i.path.map(String).join('.') || result.target, message: i.message })),
        }),
      );
    },
  });

  // Outermost: with SERVER_TIMING=1, the whole request's phases (server-timing.ts).
  app.use('*', serverTiming());
  // First: every reply, however early, leaves the request body read (drain-body.ts).
  app.use('*', drainUnreadBody());
  // Requests in flight: models evicted from the registered-classifier cache are disposed when none is.
  app.use('*', (_c, next) => trackRequests(next));
  registerBodyLimits(app);
  // `?seed=` means "no seed": drop empty query values so coercion cannot read them as 0.
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    if ([...url.searchParams.values()].some((v) => v === '')) {
      url.search = new URLSearchParams([...url.searchParams.entries()].filter(([, v]) => v !== '')).toString();
      c.req.raw = new Request(url, c.req.raw);
    }
    await next();
  });

  registerWidgets(app); // CORS on the read endpoints, widget modules
  // After CORS, so a 429 to a cross-origin widget still carries Access-Control-Allow-Origin.
  app.use('*', readRateLimit());
  registerSecuritySchemes(app);
  // Every runner endpoint (/v1/runner/*, wherever it is registered) needs the runner scope, checked
  // before anything else.
  app.use('/v1/runner/*', requireScopeFor('runner'));
  registerDashboard(app); // before meta: `/` is the dashboard for browsers
  registerMeta(app);
  registerModels(app);
  registerDomains(app);
  registerClassifiers(app); // registered (user) classifiers: POST /v1/classifiers
  registerAnalysisResults(app);
  registerLive(app);
  registerTraversal(app);
  registerJobs(app);
  registerRunner(app);
  registerTables(app);
  registerEmbeddings(app);
  registerExplain(app);
  registerEmbed(app);

  app.notFound((c) =>
    problemResponse(problem(404, 'not-found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );

  app.onError((err) => {
    if (err instanceof ProblemError) return problemResponse(err.problem, err.headers);
    if (err instanceof HTTPException) {
      // Hono middleware that built its own reply (bearerAuth with our problem+json bodies): send it.
      if (err.res) return err.getResponse();
      const status = err.status;
      if (status === 415)
        return problemResponse(
          problem(415, 'unsupported-media-type', 'the request body must be application/json', {
            field: 'content-type',
          }),
        );
      const slug =
        status === 400
          ? 'malformed-body'
          : status === 413
            ? 'body-too-large'
            : status === 401
              ? 'unauthorized'
              : status < 500
                ? 'validation'
                : 'internal';
      return problemResponse(
        problem(status, slug, err.message || 'bad request', status === 400 ? { field: 'body' } : {}),
      );
    }
    if (err instanceof WeightsError)
      return problemResponse(problem(503, 'weights-refused', err.message, { problem: err.problem }));
    // Core argument checks (RangeError) only fire on client-controlled values the schemas let through.
    if (err instanceof RangeError) return problemResponse(problem(400, 'out-of-range', err.message));
    console.error('unhandled', err);
    return problemResponse(problem(500, 'internal', 'internal error'));
  });

  return app;
}
