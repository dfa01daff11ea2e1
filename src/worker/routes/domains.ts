/** GET /v1/domains: the image domains, their classes and shapes, and the models the edge holds for each. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { DomainSchema, DomainsResponseSchema } from '../../protocol/domains.js';
import { getCatalog } from '../isolate-models.js';
import { etagOf } from '../result-cache.js';
import { json, notModified, REVALIDATE, type AppEnv } from '../http.js';
import { errorResponses } from '../problem.js';
import { describeDomains } from '../services/domains.js';

export function registerDomains(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/domains',
      tags: ['models'],
      summary:
        'The image domains (`?domain=` of every endpoint): classes, image shape, the ' +
        'generator (or none yet) with its quality, the classifiers with their test accuracies',
      responses: {
        200: {
          description: 'Domains, the default first',
          content: {
            'application/json': {
              schema: DomainsResponseSchema.extend({ domains: DomainSchema.openapi('Domain').array() }).openapi(
                'Domains',
              ),
            },
          },
        },
        304: { description: 'Not modified (If-None-Match)' },
        ...errorResponses(503),
      },
    }),
    async (c) => {
      const catalog = await getCatalog(c.env);
      // The catalog's build time names its models; the descriptors are in the worker's code.
      const etag = etagOf('domains', catalog.builtAt);
      const nm = notModified(c, etag, REVALIDATE);
      if (nm) return nm;
      return json(await describeDomains(c.env, catalog), { etag, cacheControl: REVALIDATE });
    },
  );
}
