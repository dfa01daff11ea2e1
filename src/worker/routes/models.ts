/** The generator and the classifiers: metadata, provenance and metrics from their manifests. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  classifierEntry,
  domainGeneratorId,
  domainModels,
  getCatalog,
  liveCompute,
  registeredInfo,
} from '../isolate-models.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { getRecord, listRecords, recordDomain } from '../registered/records.js';
import { etagOf } from '../result-cache.js';
import { json, keep, notModified, REVALIDATE, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { DomainParam } from '../schemas.js';
import { catalogDomains } from '../../protocol/catalog.js';

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
const DomainQuery = z.object({ domain: DomainParam });

export function registerModels(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models',
      tags: ['models'],
      summary: "A domain's generator and every classifier (weights verified on first use)",
      request: { query: DomainQuery },
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
        ...errorResponses(400, 503),
      },
    }),
    async (c) => {
      const { domain } = c.req.valid('query');
      const catalog = await getCatalog(c.env);
      const own = domainModels(catalog, domain);
      // The mnist ETag's parts stay as they were (no domain), so caches keep validating.
      const etag = etagOf(
        'models',
        catalog.builtAt,
        own.generator?.sha256 ?? (domain === DEFAULT_DOMAIN ? domainGeneratorId(catalog, domain) : null),
        own.classifiers.map((m) => m.sha256),
        domain === DEFAULT_DOMAIN
          ? (await listRecords(c.env, domain)).map((r) => r.id)
          : [domain, (await listRecords(c.env, domain)).map((r) => r.id)],
      );
      const nm = notModified(c, etag, REVALIDATE);
      if (nm) return nm;
      const models = await (await liveCompute()).modelInfos(c.env, keep(c), domain);
      const refused = models.some((m) => 'status' in m && m.status === 'refused');
      return json(
        { defaultClassifier: own.defaultClassifier, models },
        refused ? {} : { etag, cacheControl: REVALIDATE },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/classifiers',
      tags: ['models'],
      summary:
        "A domain's classifiers with their metrics: the built-in ones, then those registered for it (POST /v1/classifiers)",
      request: { query: DomainQuery },
      responses: {
        200: {
          description: 'Classifiers',
          content: {
            'application/json': {
              schema: z.object({ defaultClassifier: DefaultClassifier, classifiers: z.array(ModelListEntry) }),
            },
          },
        },
        ...errorResponses(400, 503),
      },
    }),
    async (c) => {
      const { domain } = c.req.valid('query');
      const catalog = await getCatalog(c.env);
      const models = await (await liveCompute()).modelInfos(c.env, keep(c), domain);
      return json({
        defaultClassifier: domainModels(catalog, domain).defaultClassifier,
        classifiers: models.filter((m) => m.kind === 'classifier'),
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models/{name}',
      tags: ['models'],
      summary:
        "One model of a domain; 400 naming `domain` for another domain's classifier, " +
        '409 for a domain without a generator, 503 when its weights fail verification',
      request: { params: NameParam, query: DomainQuery },
      responses: {
        200: { description: 'The model', content: { 'application/json': { schema: ModelInfoSchema } } },
        ...errorResponses(400, 404, 409, 503),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { domain } = c.req.valid('query');
      const catalog = await getCatalog(c.env);
      const own = domainModels(catalog, domain);
      const genName = own.generator?.name ?? 'generator-random-init';
      if (name === genName || name === 'generator') {
        const g = await (await liveCompute()).getGenerator(c.env, keep(c), domain);
        return json(
          { ...g.info, status: 'ready' as const, styleSize: g.model.styleSize, layers: g.model.layout.layers },
          { cacheControl: REVALIDATE },
        );
      }
      if (!own.classifiers.some((m) => m.name === name)) {
        const record = await getRecord(c.env, name);
        if (record && recordDomain(record) === domain)
          return json(registeredInfo(record), { cacheControl: REVALIDATE });
        // Another domain's classifier (built in or registered) is a 400 naming `domain`.
        if (record || catalogDomains(catalog).some((d) => d.classifiers.some((m) => m.name === name)))
          await classifierEntry(c.env, name, domain);
        throw new ProblemError(404, 'not-found', `no model "${name}" in domain "${domain}"`, { field: 'name' });
      }
      const cl = await (await liveCompute()).getClassifier(c.env, name, keep(c), domain);
      return json({ ...cl.info, status: 'ready' as const }, { cacheControl: REVALIDATE });
    },
  );
}
