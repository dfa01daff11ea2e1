/**
 * GET /v1/embeddings: the cached Z/W/S embeddings (paper figure 3): seeded by `npm run seed:edge`
 * for the built-in classifiers, computed by a runner as an `embeddings` job otherwise.
 * GET /v1/embeddings/sample: one sample of the sweep those points are, rendered and classified live
 * exactly as the sweep made it (its latent stream, class and noise stream), for the dashboard's
 * hover inspection: the image behind a point, its true and predicted class.
 */
import { SweepSchema } from '../../protocol/stored-result.js';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { EMBEDDINGS_KIND, type EmbeddingsPayload } from '../embeddings.js';
import { domainEtag, etagOf, getResult } from '../result-cache.js';
import { LIVE, REVALIDATE, json, notModified, png, pngDataUrl, type AppEnv } from '../http.js';
import { badField, errorResponses } from '../problem.js';
import { ClassifierParam, DomainParam, FormatParam, ScaleParam, SweepQuery, jsonOrPng } from '../schemas.js';
import { cachedLiveCall } from '../services/live-call.js';
import { modelIds } from '../services/model-ids.js';
import { Provenance, locate, missResponse, pendingResultResponse, resultEnvelope } from '../services/result-lookup.js';
import { EmbeddingsPayloadSchema } from '../../protocol/embeddings-payload.js';

const EmbeddingsQuery = z.object({
  domain: DomainParam,
  classifier: ClassifierParam,
  ...SweepQuery,
  space: z.enum(['Z', 'W', 'S']).optional().openapi({ description: 'Only this latent space (default: all three)' }),
});

const SampleQuery = z.object({
  domain: DomainParam,
  classifier: ClassifierParam,
  ...SweepQuery,
  index: z.coerce
    .number({ error: (iss) => (iss.code === 'invalid_type' ? 'index must be a number' : undefined) })
    .int('index must be an integer')
    .min(0)
    .openapi({ description: "The sample's index in the sweep (the embeddings' points are samples 0..count-1)" }),
  format: FormatParam,
  scale: ScaleParam,
});

const SampleResult = z
  .object({
    generatorId: z.string(),
    classifier: z.string(),
    classifierId: z.string(),
    sweep: SweepSchema,
    index: z.number().int(),
    class: z.number().int().openapi({ description: 'The true (conditioning) class: index mod the number of classes' }),
    predicted: z.number().int(),
    correct: z.boolean(),
    pTrue: z.number(),
    runnerUp: z.number().int().openapi({ description: 'The most probable class other than the true one' }),
    pRunnerUp: z.number(),
    image: z.string().openapi({ description: 'PNG data URL' }),
  })
  .openapi('SweepSample');

export function registerEmbeddings(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/embeddings',
      tags: ['results'],
      summary:
        '2-D UMAP embeddings of the sweep head in Z, W and S, with the kNN AUROC of mis- vs well-classified per space',
      request: { query: EmbeddingsQuery },
      responses: {
        200: {
          description: 'The embeddings',
          content: {
            'application/json': {
              schema: z
                .object({
                  ...Provenance,
                  resultUrl: z.string(),
                  payload: EmbeddingsPayloadSchema.openapi('EmbeddingsPayload'),
                })
                .openapi('Embeddings'),
            },
          },
        },
        202: pendingResultResponse,
        304: { description: 'Not modified' },
        ...errorResponses(400, 404, 409),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      // The embeddings kind's options are the defaults (resultOptions): the key is embeddingsKey's.
      const { key, spec } = await locate(c, EMBEDDINGS_KIND, q.classifier, { seed: q.seed, count: q.count }, q.domain);
      const etag = etagOf(key, 'embeddings', q.space ?? 'all');
      const nm = notModified(c, etag, REVALIDATE);
      if (nm) return nm;
      const r = await getResult<EmbeddingsPayload>(c.env, key);
      // Not computed: 202 with the job computing it, or 404 naming the embeddings job to submit
      // (any classifier, any sweep; the built-in ones' default sweep is seeded).
      if (r === null) return missResponse(c, key, spec);
      const payload =
        q.space === undefined
          ? r.payload
          : { ...r.payload, spaces: r.payload.spaces.filter((s) => s.space === q.space) };
      return json(resultEnvelope(r, payload), { etag, cacheControl: REVALIDATE });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/embeddings/sample',
      tags: ['live'],
      summary: "One sample of the sweep (an embedding point): its image, true class and the classifier's prediction",
      request: { query: SampleQuery },
      responses: {
        200: jsonOrPng('The sample (JSON with a PNG data URL, or image/png)', SampleResult),
        304: { description: 'Not modified' },
        ...errorResponses(400, 404, 409, 429, 503),
      },
    }),
    async (c) => {
      const { domain, ...q } = c.req.valid('query');
      if (q.index >= q.count)
        throw badField('index', 'validation', `index must be below the sweep's count (${q.count}), got ${q.index}`);
      const ids = await modelIds(c, q.classifier, domain);
      const etag = domainEtag(domain, 'embeddings-sample', ids, q);
      const nm = notModified(c, etag, LIVE);
      if (nm) return nm;
      return cachedLiveCall(c, etag, q.classifier, domain, async (k, models) => {
        const ev = await k.evaluateSweepSample(models, { seed: q.seed, count: q.count }, q.index);
        const bytes = k.gridPng([ev.pixels], { ...k.imageTile(models), columns: 1, scale: q.scale, gap: 0 });
        const predicted = ev.predicted;
        if (q.format === 'png')
          return png(bytes, etag, LIVE, { 'x-predicted-class': String(predicted), 'x-p-true': String(ev.pTrue) });
        return json(
          {
            generatorId: models.generatorId,
            classifier: models.classifierName,
            classifierId: models.classifierId,
            sweep: { seed: q.seed, count: q.count },
            index: q.index,
            class: ev.label,
            predicted,
            correct: predicted === ev.label,
            pTrue: Math.round(ev.pTrue * 1e6) / 1e6,
            runnerUp: ev.runnerUp,
            pRunnerUp: Math.round(ev.pRunnerUp * 1e6) / 1e6,
            image: pngDataUrl(bytes),
          },
          { etag, cacheControl: LIVE },
        );
      });
    },
  );
}
