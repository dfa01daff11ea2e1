/** GET /v1/embeddings: the cached Z/W/S embeddings (paper figure 3), seeded by `npm run seed:edge`. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { generatorId } from '../../protocol/catalog.js';
import { EMBEDDINGS_KIND, embeddingsKey, type EmbeddingsPayload } from '../embeddings.js';
import { classifierEntry, getCatalog } from '../isolate-models.js';
import { etagOf, getResult } from '../result-cache.js';
import { REVALIDATE, json, notModified, route, valid, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { ClassifierParam, SweepQuery } from '../schemas.js';

const EmbeddingsQuery = z.object({
  classifier: ClassifierParam,
  ...SweepQuery,
  space: z.enum(['Z', 'W', 'S']).optional().openapi({ description: 'Only this latent space (default: all three)' }),
});

export function registerEmbeddings(app: OpenAPIHono<AppEnv>): void {
  route(
    app,
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
            'application/json': { schema: z.object({ key: z.string(), payload: z.unknown() }).passthrough() },
          },
        },
        304: { description: 'Not modified' },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const q = valid(c, 'query', EmbeddingsQuery);
      const catalog = await getCatalog(c.env);
      const entry = await classifierEntry(c.env, q.classifier);
      const key = embeddingsKey(generatorId(catalog), entry.sha256, { seed: q.seed, count: q.count });
      const etag = etagOf(key, 'embeddings', q.space ?? 'all');
      const nm = notModified(c, etag, REVALIDATE);
      if (nm) return nm;
      const r = await getResult<EmbeddingsPayload>(c.env, key);
      if (r === null)
        throw new ProblemError(
          404,
          'not-computed',
          entry.source === 'registered'
            ? `no ${EMBEDDINGS_KIND} for registered classifier ${entry.name}: the edge computes embeddings for the built-in classifiers only (seeded), not as a job; the CLI computes them for your model: npx faultlines analyze --classifier DIR --adapter FILE (report.json's embedding)`
            : `no ${EMBEDDINGS_KIND} for classifier "${entry.name}" on the sweep (seed ${q.seed}, count ${q.count}) with the current generator; embeddings of the built-in classifiers are seeded, not jobs: an operator runs npm run seed:edge`,
          { key },
        );
      const payload =
        q.space === undefined
          ? r.payload
          : { ...r.payload, spaces: r.payload.spaces.filter((s) => s.space === q.space) };
      return json(
        {
          key,
          resultUrl: `/v1/results/${key}`,
          kind: EMBEDDINGS_KIND,
          classifier: r.classifier,
          generatorId: r.generatorId,
          classifierId: r.classifierId,
          sweep: r.sweep,
          options: r.options,
          computed: r.computed,
          payload,
        },
        { etag, cacheControl: REVALIDATE },
      );
    },
  );
}
