/**
 * Live, bounded computations: render an image from (seed, class) or from a style vector with
 * edits, and classify images. Responses are deterministic in their inputs and the model ids, so
 * they carry an ETag and a 304 costs no computation.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { getCatalog, liveCompute } from '../isolate-models.js';
import { domainEtag } from '../result-cache.js';
import { LIVE, json, keep, notModified, png, pngDataUrl, type AppContext, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { badField, errorResponses } from '../problem.js';
import { LiveStatistics } from '../live-schemas.js';
import {
  ClassParam,
  ClassifierParam,
  DomainParam,
  EditSchema,
  FormatParam,
  ScaleParam,
  SeedParam,
  jsonOrPng,
} from '../schemas.js';
import { classRanking } from '../../core/analysis/dim-start.js';
import { catalogLayout } from '../services/result-lookup.js';
import { modelIds } from '../services/model-ids.js';
import { cachedLiveCall, type LiveCompute } from '../services/live-call.js';
import type { LiveModels } from '../services/inference.js';
import { checkClass, checkDim, liveStats, statisticsJson, type LiveStats } from '../style.js';
import { limitedCompute } from '../live-limit.js';
import { timed } from '../server-timing.js';
import { domainArchitecture } from '../../protocol/catalog.js';

const RenderQuery = z.object({
  domain: DomainParam,
  seed: SeedParam,
  class: ClassParam,
  classifier: ClassifierParam,
  format: FormatParam,
  scale: ScaleParam,
});
const RenderBody = z
  .object({
    domain: DomainParam,
    seed: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.seed - 1)
      .optional()
      .openapi({ description: 'Start from the style of (seed, class)' }),
    class: z
      .number()
      .int()
      .min(0)
      .max(9)
      .openapi({ description: 'Class of the sample (and the true class for p_true)' }),
    style: z
      .array(z.number().min(-1e4).max(1e4))
      .min(1)
      .max(4096)
      .optional()
      .openapi({ description: 'A whole style vector s (length S) instead of a seed' }),
    edits: z.array(EditSchema).max(LIMITS.edits).default([]),
    classifier: ClassifierParam,
    format: z.enum(['json', 'png']).default('json'),
    scale: z.number().int().min(1).max(LIMITS.scale).default(4),
  })
  .refine((b) => (b.seed === undefined) !== (b.style === undefined), {
    message: 'give exactly one of seed or style',
    path: ['seed'],
  })
  .openapi('RenderRequest');

const AppliedEdit = z
  .object({
    dim: z.number().int(),
    shift: z.number().optional(),
    value: z.number().optional(),
    name: z.string().openapi({ description: 'layer:channel of the dim' }),
    std: z.number().nullable().openapi({ description: 'The std unit of a shift edit (null for a value edit)' }),
  })
  .openapi('AppliedStyleEdit');

const RenderResult = z
  .object({
    generatorId: z.string(),
    classifier: z.string(),
    classifierId: z.string(),
    class: z.number().int(),
    seed: z.number().int().optional().openapi({ description: 'The seed rendered (absent for a whole style vector)' }),
    edits: z.array(AppliedEdit).optional().openapi({ description: 'POST: the edits as applied' }),
    statistics: LiveStatistics.optional().openapi({
      description: 'POST with shift edits: the sums their std units are from',
    }),
    predicted: z.number().int(),
    confidence: z.number().openapi({ description: 'Probability of the predicted class' }),
    pTrue: z.number(),
    probabilities: z.array(z.number()),
    image: z.string().openapi({ description: 'PNG data URL' }),
  })
  .openapi('RenderResult');

const renderResponses = {
  200: jsonOrPng('The image (JSON with a PNG data URL, or image/png)', RenderResult),
  304: { description: 'Not modified' },
  ...errorResponses(400, 404, 409, 413, 429, 503),
};

/** One render, cached by its ETag and within the isolate's live-compute budget (services/live-call.ts). */
function renderOne(
  c: AppContext,
  args: {
    /** Default: the default domain. */
    domain?: string;
    classifier?: string;
    class: number;
    format: 'json' | 'png';
    scale: number;
    etag: string;
    /** The style rendered, from the models and the live-compute chunk (loaded by now). */
    style: (m: LiveModels, k: LiveCompute) => { s: Float32Array; meta: Record<string, unknown> };
  },
): Promise<Response> {
  return cachedLiveCall(c, args.etag, args.classifier, args.domain, async (k, models) => {
    const { s, meta } = args.style(models, k);
    const { images, probs } = await k.renderStyles(models, s, 1, args.class);
    const cls = k.classification(probs[0], args.class);
    return timed('encode', () => {
      const bytes = k.gridPng(images, { ...k.imageTile(models), columns: 1, scale: args.scale, gap: 0 });
      if (args.format === 'png') {
        return png(bytes, args.etag, LIVE, {
          'x-predicted-class': String(cls.predicted),
          'x-p-true': String(cls.pTrue),
        });
      }
      return json(
        {
          generatorId: models.generatorId,
          classifier: models.classifierName,
          classifierId: models.classifierId,
          class: args.class,
          ...meta,
          ...cls,
          image: pngDataUrl(bytes),
        },
        { etag: args.etag, cacheControl: LIVE },
      );
    });
  });
}

const ClassifyBody = z
  .object({
    domain: DomainParam,
    classifier: ClassifierParam,
    images: z
      .array(z.array(z.number().min(0).max(1)).length(1024, 'each image must have 32*32 = 1024 pixels in [0, 1]'))
      .min(1)
      .max(LIMITS.classifyBatch)
      .openapi({
        description:
          `Up to ${LIMITS.classifyBatch} images, each 1024 grey values in [0, 1], row-major 32x32 ` +
          `(1 = ink); the body may be up to ${LIMITS.classifyBodyBytes / 1024} KiB (a full batch at full float precision)`,
      }),
  })
  .openapi('ClassifyRequest');

export function registerLive(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/render',
      tags: ['live'],
      summary: 'Render the sample (seed, class) and classify it',
      request: { query: RenderQuery },
      responses: renderResponses,
    }),
    async (c) => {
      const { domain, ...q } = c.req.valid('query');
      const ids = await modelIds(c, q.classifier, domain);
      // The default domain's ETag is as before domains (its query had no `domain`).
      const etag = domainEtag(domain, 'render', ids, q);
      const nm = notModified(c, etag, LIVE);
      if (nm) return nm;
      return renderOne(c, {
        ...q,
        domain,
        etag,
        style: (m, k) => ({ s: k.seedStyle(m.generator, q.seed, q.class), meta: { seed: q.seed } }),
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/render',
      tags: ['live'],
      summary: 'Render a style vector (or a seed) with edits, and classify it',
      request: { body: { content: { 'application/json': { schema: RenderBody } }, required: true } },
      responses: renderResponses,
    }),
    async (c) => {
      // The default domain's ETag is as before domains (its body had no `domain`).
      const { domain, ...b } = c.req.valid('json');
      const ids = await modelIds(c, b.classifier, domain);
      const catalog = await getCatalog(c.env);
      checkClass(catalog, b.class, 'class', domain);
      const layout = catalogLayout(catalog, domain);
      b.edits.forEach((e, i) => checkDim(layout, e.dim, `edits.${i}.dim`));
      // The unit of a shift edit: std of s_dim over the class's samples of the default sweep, from
      // the cached ranking sums (the unit of the traversals and corner cases; style.ts). Only shift
      // edits need it; a miss answers 202/404 naming the job that computes the sums.
      let st: LiveStats | null = null;
      if (b.edits.some((e) => e.shift !== undefined)) {
        const found = await liveStats(c, b.classifier, 'moments', 'a render with shift edits', domain);
        if (found instanceof Response) return found;
        st = found;
      }
      const etag = domainEtag(domain, 'render-post', ids, b, st?.key ?? null);
      const nm = notModified(c, etag, LIVE);
      if (nm) return nm;
      return renderOne(c, {
        ...b,
        domain,
        etag,
        style: (m, k) => {
          const S = m.generator.styleSize;
          let s: Float32Array;
          if (b.style !== undefined) {
            if (b.style.length !== S)
              throw badField('style', 'validation', `style must have S = ${S} values, got ${b.style.length}`);
            s = Float32Array.from(b.style);
          } else s = k.seedStyle(m.generator, b.seed!, b.class);
          const edits = k.applyStyleEdits(
            m.generator,
            s,
            b.edits,
            (dim) => classRanking(st!.sums, st!.layout, b.class).byIndex.get(dim)!.std,
          );
          return {
            s,
            meta: {
              ...(b.seed === undefined ? {} : { seed: b.seed }),
              edits,
              ...(st ? { statistics: statisticsJson(st) } : {}),
            },
          };
        },
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/classify',
      tags: ['live'],
      summary: 'Classify images',
      request: { body: { content: { 'application/json': { schema: ClassifyBody } }, required: true } },
      responses: {
        200: {
          description: 'Predictions',
          content: {
            'application/json': {
              schema: z
                .object({
                  classifier: z.string(),
                  classifierId: z.string(),
                  results: z.array(
                    z.object({
                      predicted: z.number().int(),
                      confidence: z.number().openapi({ description: 'Probability of the predicted class' }),
                      probabilities: z
                        .array(z.number())
                        .openapi({ description: 'Softmax, one per class, rounded to 1e-6' }),
                    }),
                  ),
                })
                .openapi('ClassifyResult'),
            },
          },
        },
        ...errorResponses(400, 404, 413, 429, 503),
      },
    }),
    async (c) =>
      limitedCompute(c.env, async () => {
        const b = c.req.valid('json');
        const catalog = await getCatalog(c.env);
        const channels = (domainArchitecture(catalog, b.domain) as { imageChannels?: number }).imageChannels ?? 1;
        if (channels !== 1)
          throw badField(
            'domain',
            'validation',
            `POST /v1/classify takes grey 32x32 images; the classifiers of domain "${b.domain}" take ${channels} channels`,
          );
        const k = await liveCompute();
        const models = await k.getModels(c.env, b.classifier, keep(c), b.domain);
        const probs = await k.classifyImages(models, b.images);
        return json({
          classifier: models.classifierName,
          classifierId: models.classifierId,
          results: probs.map((p) => k.classification(p)),
        });
      }),
  );
}
