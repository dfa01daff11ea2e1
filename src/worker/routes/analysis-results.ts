/**
 * Cached results: rankings (global, per class, per classifier), histograms, accuracy curves,
 * corner cases and directions (what the top dims do to the image, labelled: docs/naming.md). Served from the
 * result cache only; a miss answers 202 with the job computing it or
 * 404 with the job to submit, never an inline recompute.
 */
import { SweepSchema } from '../../protocol/stored-result.js';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { RANKING_SCHEMA, type RankingSums } from '../../core/analysis/ranking-sums.js';
import type { StyleLayout } from '../../core/generator/style-layout.js';
import { generatorId } from '../../protocol/catalog.js';
import {
  DEFAULT_OPTIONS,
  RESULT_KINDS,
  RESULTS_INDEX_PATH,
  type ResultKind,
  type ResultsIndex,
  type StoredResult,
} from '../../protocol/result-keys.js';
import { forgetJob } from '../jobs/board-client.js';
import { domainModels, getCatalog } from '../isolate-models.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { deleteResult, getResult, isBuiltInResult, rankingOfStoredSums, resultEtag } from '../result-cache.js';
import { SECURITY, requireScope } from '../auth.js';
import { IMMUTABLE, REVALIDATE, json, notModified, type AppContext, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { ClassParam, ClassifierParam, DomainParam, SweepQuery, topParam } from '../schemas.js';
import { fetchAsset } from '../static-assets.js';
import {
  Provenance,
  StoredResultSchema,
  locate,
  missResponse,
  pendingResultResponse,
  resultEnvelope,
} from '../services/result-lookup.js';
import { DirectionDimSchema, DirectionsPayloadSchema } from '../../protocol/directions.js';
import { DERIVED_PAYLOAD_SCHEMAS } from '../../protocol/derived-payloads.js';

const Common = { domain: DomainParam, classifier: ClassifierParam, ...SweepQuery };
const RankingQuery = z.object({
  ...Common,
  class: ClassParam.optional().openapi({ description: 'Ranking of one class (default: all classes)' }),
  top: topParam('Dims returned (most influential first)'),
});
const PlainQuery = z.object(Common);
const CornerQuery = z.object({ ...Common, class: ClassParam.optional().openapi({ description: 'Only this class' }) });
const DirectionsQuery = z.object({
  ...Common,
  class: ClassParam.optional().openapi({
    description:
      "Only this class's directions (its ranking's top dims on its samples); the global ones are always included",
  }),
});
const KeyParam = z.object({ key: z.string().regex(/^[0-9a-f]{64}$/, 'key must be a 64-hex content hash') });

/** A result as the named views serve it: its provenance, its immutable URL and the payload (of one view). */
const served = (name: string, payload: z.ZodType, extra: z.ZodRawShape = {}) =>
  z.object({ ...Provenance, resultUrl: z.string(), ...extra, payload }).openapi(name);
/** A dim of a ranking: the fields of a ranked dim in a directions result, and the statistics behind its score. */
const RankedDimSchema = DirectionDimSchema.extend({
  meanGradient: z.number().openapi({ description: 'mean of d p_true / d s_j over the samples' }),
  standardError: z.number().openapi({ description: 'standard error of the mean gradient' }),
  mean: z.number().openapi({ description: 'mean of s_j over the samples' }),
}).openapi('RankedDim');
const RankingPayload = z
  .object({
    schema: z.literal(RANKING_SCHEMA),
    specHash: z.string(),
    classIndex: z.number().int().nullable().openapi({ description: 'null: all classes' }),
    count: z.number().int().openapi({ description: 'Samples ranked' }),
    styleSize: z.number().int(),
    dims: z.array(RankedDimSchema).openapi({ description: 'The `top` most influential dims, by rank' }),
  })
  .openapi('RankingPayload');

const viewResponses = (description: string, schema: z.ZodType) => ({
  200: { description, content: { 'application/json': { schema } } },
  202: pendingResultResponse,
  304: { description: 'Not modified (If-None-Match)' },
  ...errorResponses(400, 404, 409),
});

/** The GET route of a named view of a cached result. */
const resultView = <Q extends z.ZodObject>(
  v: { path: string; summary: string; description: string; name: string },
  query: Q,
  payload: z.ZodType,
) =>
  createRoute({
    method: 'get',
    path: v.path,
    tags: ['results'],
    summary: v.summary,
    request: { query },
    responses: viewResponses(v.description, served(v.name, payload)),
  });

async function serve(
  c: AppContext,
  kind: ResultKind,
  q: { domain: string; classifier?: string; seed: number; count: number },
  view: string[],
  shape: (r: StoredResult, layout: StyleLayout) => unknown,
): Promise<Response> {
  const { layout, key, spec } = await locate(c, kind, q.classifier, { seed: q.seed, count: q.count }, q.domain);
  // The key is the domain's (resultKey), so the ETag is too.
  const etag = resultEtag(kind, key, view);
  const nm = notModified(c, etag, REVALIDATE);
  if (nm) return nm;
  const r = await getResult(c.env, key);
  if (r === null) return missResponse(c, key, spec);
  return json(shape(r, layout), { etag, cacheControl: REVALIDATE });
}

export function registerAnalysisResults(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/rankings',
      tags: ['results'],
      summary: 'Ranking of StyleSpace dims by their effect on p_true (global or per class)',
      request: { query: RankingQuery },
      responses: viewResponses(
        'The ranking',
        served('Ranking', RankingPayload, {
          accuracy: z.number().openapi({ description: "The classifier's accuracy on the ranked samples" }),
        }),
      ),
    }),
    async (c) => {
      const q = c.req.valid('query');
      return serve(c, 'ranking-sums', q, ['ranking', String(q.class ?? 'all'), String(q.top)], (r, layout) => {
        const sums = r.payload as RankingSums;
        const ranking = rankingOfStoredSums(r, layout, q.class ?? null);
        return resultEnvelope(
          r,
          {
            schema: ranking.schema,
            specHash: ranking.specHash,
            classIndex: ranking.classIndex,
            count: ranking.count,
            styleSize: sums.styleSize,
            dims: ranking.dims.slice(0, q.top),
          },
          {
            accuracy:
              q.class === undefined
                ? sums.correct.reduce((a, b) => a + b, 0) /
                  Math.max(
                    1,
                    sums.count.reduce((a, b) => a + b, 0),
                  )
                : sums.correct[q.class] / Math.max(1, sums.count[q.class]),
          },
        );
      });
    },
  );

  // Served whole: the payload as stored.
  for (const v of [
    {
      kind: 'histograms',
      path: '/v1/histograms',
      summary: 'Histograms of top and random dims for well- vs mis-classified samples',
      description: 'The histograms',
      name: 'Histograms',
    },
    {
      kind: 'accuracy-curves',
      path: '/v1/accuracy-curves',
      summary: 'Accuracy vs distance from the well-classified centre (this classifier is the reference)',
      description: 'The curves',
      name: 'AccuracyCurves',
    },
  ] as const) {
    app.openapi(resultView(v, PlainQuery, DERIVED_PAYLOAD_SCHEMAS[v.kind].openapi(`${v.name}Payload`)), async (c) => {
      const q = c.req.valid('query');
      return serve(c, v.kind, q, [v.kind], (r) => resultEnvelope(r, r.payload));
    });
  }

  // Per class: with `class`, only that class's entry of the payload's `classes`.
  for (const v of [
    {
      kind: 'corner-cases',
      path: '/v1/corner-cases',
      summary: 'Corner cases per class (images as PNG data URLs)',
      description: 'The corner cases',
      name: 'CornerCases',
      query: CornerQuery,
      payload: DERIVED_PAYLOAD_SCHEMAS['corner-cases'].openapi('CornerCasesPayload'),
    },
    {
      kind: 'directions',
      path: '/v1/directions',
      summary:
        'What the top dims do to the image: measured factors, a computed label, p_true of the classifier ' +
        'and its reference readers along each, the contrastive order and why it fails (docs/naming.md)',
      description: 'The directions (global, and per class)',
      name: 'Directions',
      query: DirectionsQuery,
      payload: DirectionsPayloadSchema.openapi('DirectionsPayload'),
    },
  ] as const) {
    app.openapi(resultView(v, v.query, v.payload), async (c) => {
      const q = c.req.valid('query');
      return serve(c, v.kind, q, [v.kind, String(q.class ?? 'all')], (r) => {
        const p = r.payload as { classes: Array<{ classIndex: number }> };
        return resultEnvelope(
          r,
          q.class === undefined ? p : { ...p, classes: p.classes.filter((x) => x.classIndex === q.class) },
        );
      });
    });
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/results',
      tags: ['results'],
      summary: "A domain's built-in precomputed results",
      request: { query: z.object({ domain: DomainParam }) },
      responses: {
        200: {
          description: 'Index',
          content: {
            'application/json': {
              schema: z
                .object({
                  generatedAt: z.string().openapi({ description: "When the domain's results were seeded" }),
                  defaults: z.object({ sweep: SweepSchema, options: z.record(z.string(), z.unknown()) }),
                  entries: z.array(
                    z.object({
                      key: z.string(),
                      kind: z.enum(RESULT_KINDS),
                      domain: z.string().optional().openapi({ description: 'Outside the default domain' }),
                      classifier: z.string(),
                      generatorId: z.string(),
                      classifierId: z.string(),
                      sweep: SweepSchema,
                      bytes: z.number().int(),
                      url: z.string(),
                      current: z.boolean().openapi({
                        description: 'Computed with the models the worker now holds (else kept for reference)',
                      }),
                    }),
                  ),
                })
                .openapi('ResultsIndex'),
            },
          },
        },
        ...errorResponses(400),
      },
    }),
    async (c) => {
      const { domain } = c.req.valid('query');
      const catalog = await getCatalog(c.env);
      const res = await fetchAsset(c.env, RESULTS_INDEX_PATH);
      const index: ResultsIndex = res.ok
        ? await res.json()
        : { schema: 'faultlines.edge-results-index/1', generatedAt: '', entries: [] };
      const own = domainModels(catalog, domain);
      // A domain without a generator has no current results (the default one's placeholder has an id).
      const gid = domain === DEFAULT_DOMAIN ? generatorId(catalog) : own.generator?.sha256;
      const ids = new Set(own.classifiers.map((m) => m.sha256));
      return json(
        {
          generatedAt:
            domain === DEFAULT_DOMAIN ? index.generatedAt : (index.domainsGeneratedAt?.[domain] ?? index.generatedAt),
          defaults: {
            sweep: { seed: SweepQuery.seed.parse(undefined), count: SweepQuery.count.parse(undefined) },
            options: DEFAULT_OPTIONS,
          },
          entries: index.entries
            .filter((e) => (e.domain ?? DEFAULT_DOMAIN) === domain)
            .map((e) => ({
              ...e,
              url: `/v1/results/${e.key}`,
              current: e.generatorId === gid && ids.has(e.classifierId),
            })),
        },
        { cacheControl: REVALIDATE },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/results/{key}',
      tags: ['results'],
      summary: 'A result by its content hash (immutable)',
      request: { params: KeyParam },
      responses: {
        200: { description: 'The stored result', content: { 'application/json': { schema: StoredResultSchema } } },
        304: { description: 'Not modified (If-None-Match)' },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const etag = `"${key}"`;
      const nm = notModified(c, etag, IMMUTABLE);
      if (nm) return nm;
      const r = await getResult(c.env, key);
      if (r === null) throw new ProblemError(404, 'not-found', `no result ${key}`, { field: 'key' });
      return json(r, { etag, cacheControl: IMMUTABLE });
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/results/{key}',
      tags: ['results'],
      security: SECURITY.submit,
      summary:
        'Invalidate a result computed by a job (submitter token), so that submitting its job again recomputes it',
      description:
        'Removes the stored result and forgets its job; idempotent. Built-in results (static assets) cannot be removed: regenerate ' +
        'them with `npm run seed:edge`. Clients and caches may still hold a copy they fetched before (results are served as immutable).',
      request: { params: KeyParam },
      responses: {
        200: {
          description: 'What was removed',
          content: {
            'application/json': {
              schema: z.object({ key: z.string(), deleted: z.boolean(), jobForgotten: z.boolean() }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      await requireScope(c, 'submit');
      const { key } = c.req.valid('param');
      if (await isBuiltInResult(c.env, key))
        throw new ProblemError(
          409,
          'conflict',
          `result ${key} is built in (static assets): regenerate it with npm run seed:edge`,
          { field: 'key' },
        );
      const deleted = await deleteResult(c.env, key);
      const jobForgotten = await forgetJob(c.env, key);
      return json({ key, deleted, jobForgotten });
    },
  );
}
