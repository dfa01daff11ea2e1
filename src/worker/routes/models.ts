/** The generator and the classifiers: metadata, provenance and metrics from their manifests. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getCatalog, getClassifier, getGenerator, modelInfos, registeredInfo } from '../isolate-models.js';
import { getRecord, listRecords } from '../registered/records.js';
import { etagOf } from '../result-cache.js';
import { json, keep, notModified, REVALIDATE, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { generatorId } from '../../protocol/catalog.js';

const ModelInfoSchema = z
  .object({
    name: z.string(),
    kind: z.enum(['generator', 'classifier']),
    id: z.string(),
    label: z.string(),
    source: z.enum(['weights', 'checkpoint', 'random-init', 'registered']),
    status: z.enum(['ready', 'registered']).optional(),
    byteLength: z.number().int().openapi({ description: 'Size of the weights file' }),
    sha256: z
      .string()
      .nullable()
      .openapi({ description: 'Checksum of the weights (the model id); null for random init' }),
    architecture: z.record(z.string(), z.unknown()),
    provenance: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.unknown()),
    displayName: z.string().optional().openapi({ description: "Registered classifiers: the submitter's label" }),
    differentiable: z.boolean().optional().openapi({ description: 'Registered classifiers: whether gradients flow' }),
    nonDifferentiableOp: z.string().nullable().optional(),
    styleSize: z.number().int().optional().openapi({ description: 'The generator: the size S of its StyleSpace' }),
  })
  .passthrough()
  .openapi('Model');

/** A built-in model whose weights failed verification: listed, with the problem, instead of failing the list. */
const RefusedModelSchema = z
  .object({
    name: z.string(),
    kind: z.string(),
    status: z.literal('refused'),
    problem: z.unknown().openapi({ description: 'The problem its use answers (503 weights-refused)' }),
  })
  .openapi('RefusedModel');

const ModelListEntry = z.union([ModelInfoSchema, RefusedModelSchema]);
const DefaultClassifier = z.string().nullable().openapi({ description: 'The classifier used when none is named' });

const NameParam = z.object({ name: z.string().min(1).max(64).openapi({ example: 'classifier-clean' }) });

export function registerModels(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models',
      tags: ['models'],
      summary: 'The generator and every classifier (weights verified on first use)',
      responses: {
        200: {
          description: 'Models',
          content: {
            'application/json': {
              schema: z.object({ defaultClassifier: DefaultClassifier, models: z.array(ModelListEntry) }),
            },
          },
        },
        304: { description: 'Not modified (If-None-Match)' },
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

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/classifiers',
      tags: ['models'],
      summary: 'The classifiers with their metrics: the built-in ones, then the registered ones (POST /v1/classifiers)',
      responses: {
        200: {
          description: 'Classifiers',
          content: {
            'application/json': {
              schema: z.object({ defaultClassifier: DefaultClassifier, classifiers: z.array(ModelListEntry) }),
            },
          },
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

  app.openapi(
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
      const { name } = c.req.valid('param');
      const catalog = await getCatalog(c.env);
      const genName = catalog.generator?.name ?? 'generator-random-init';
      if (name === genName || name === 'generator') {
        const g = await getGenerator(c.env, keep(c));
        return json(
          { ...g.info, status: 'ready' as const, styleSize: g.model.styleSize, layers: g.model.layout.layers },
          { cacheControl: REVALIDATE },
        );
      }
      if (!catalog.classifiers.some((m) => m.name === name)) {
        const record = await getRecord(c.env, name);
        if (record) return json(registeredInfo(record), { cacheControl: REVALIDATE });
        throw new ProblemError(404, 'not-found', `no model "${name}"`, { field: 'name' });
      }
      const cl = await getClassifier(c.env, name, keep(c));
      return json({ ...cl.info, status: 'ready' as const }, { cacheControl: REVALIDATE });
    },
  );
}
