/** The generator and the classifiers: metadata, provenance and metrics from their manifests. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getCatalog, getClassifier, getGenerator, modelInfos, registeredInfo } from '../isolate-models.js';
import { getRecord, listRecords } from '../registered/records.js';
import { etagOf } from '../result-cache.js';
import { json, keep, notModified, REVALIDATE, route, valid, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { generatorId } from '../../protocol/catalog.js';

const ModelInfoSchema = z
  .object({
    name: z.string(),
    kind: z.enum(['generator', 'classifier']),
    id: z.string(),
    label: z.string(),
    source: z.string(),
    status: z.string().optional(),
    architecture: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
  .openapi('Model');

const NameParam = z.object({ name: z.string().min(1).max(64).openapi({ example: 'classifier-clean' }) });

export function registerModels(app: OpenAPIHono<AppEnv>): void {
  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/models',
      tags: ['models'],
      summary: 'The generator and every classifier (weights verified on first use)',
      responses: {
        200: {
          description: 'Models',
          content: { 'application/json': { schema: z.object({ models: z.array(ModelInfoSchema) }) } },
        },
        ...errorResponses(503),
      },
    }),
    async (c) => {
      const catalog = await getCatalog(c.env);
      const etag = etagOf(
        'models',
        catalog.builtAt,
        generatorId(catalog),
        catalog.classifiers.map((m) => m.sha256),
        (await listRecords(c.env)).map((r) => r.id),
      );
      const nm = notModified(c, etag, REVALIDATE);
      if (nm) return nm;
      const models = await modelInfos(c.env, keep(c));
      const refused = models.some((m) => 'status' in m && m.status === 'refused');
      return json(
        { defaultClassifier: catalog.defaultClassifier, models },
        refused ? {} : { etag, cacheControl: REVALIDATE },
      );
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/classifiers',
      tags: ['models'],
      summary: 'The classifiers with their metrics: the built-in ones, then the registered ones (POST /v1/classifiers)',
      responses: {
        200: {
          description: 'Classifiers',
          content: { 'application/json': { schema: z.object({ classifiers: z.array(ModelInfoSchema) }) } },
        },
        ...errorResponses(503),
      },
    }),
    async (c) => {
      const catalog = await getCatalog(c.env);
      const models = await modelInfos(c.env, keep(c));
      return json({
        defaultClassifier: catalog.defaultClassifier,
        classifiers: models.filter((m) => m.kind === 'classifier'),
      });
    },
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/models/{name}',
      tags: ['models'],
      summary: 'One model; 503 when its weights fail verification',
      request: { params: NameParam },
      responses: {
        200: { description: 'The model', content: { 'application/json': { schema: ModelInfoSchema } } },
        ...errorResponses(404, 503),
      },
    }),
    async (c) => {
      const { name } = valid(c, 'param', NameParam);
      const catalog = await getCatalog(c.env);
      const genName = catalog.generator?.name ?? 'generator-random-init';
      if (name === genName || name === 'generator') {
        const g = await getGenerator(c.env, keep(c));
        return json(
          { ...g.info, status: 'ready', styleSize: g.model.styleSize, layers: g.model.layout.layers },
          { cacheControl: REVALIDATE },
        );
      }
      if (!catalog.classifiers.some((m) => m.name === name)) {
        const record = await getRecord(c.env, name);
        if (record) return json({ ...registeredInfo(record), status: 'registered' }, { cacheControl: REVALIDATE });
        throw new ProblemError(404, 'not-found', `no model "${name}"`, { field: 'name' });
      }
      const cl = await getClassifier(c.env, name, keep(c));
      return json({ ...cl.info, status: 'ready' }, { cacheControl: REVALIDATE });
    },
  );
}
