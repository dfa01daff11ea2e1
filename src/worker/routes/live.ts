/**
 * Live, bounded computations: render an image from (seed, class) or from a style vector with
 * edits, and classify images. Responses are deterministic in their inputs and the model ids, so
 * they carry an ETag and a 304 costs no computation.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import * as tf from '../../core/tf.js';
import { classNoiseStream, synthesizeImages } from '../../core/analysis/analysis-models.js';
import { gridPng } from '../../core/image/png.js';
import { generatorId } from '../../protocol/catalog.js';
import { classifierEntry, getCatalog, getModels } from '../isolate-models.js';
import { etagOf } from '../result-cache.js';
import { LIVE, json, keep, viaCache, notModified, png, pngDataUrl, type AppContext, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { badField, errorResponses } from '../problem.js';
import { ClassParam, ClassifierParam, EditSchema, FormatParam, ScaleParam, SeedParam } from '../schemas.js';
import { applyStyleEdits, seedStyle } from '../../core/analysis/style-edits.js';
import { classRanking } from '../../core/analysis/dim-start.js';
import { catalogLayout } from './results.js';
import { checkClass, checkDim, liveStats, statisticsJson, type LiveStats } from '../style.js';
import { limitedCompute } from '../live-limit.js';

/**
 * Image [32*32] and class probabilities of each style row. Noise (per-sample mode): the reserved
 * stream of `classIndex`, as the live traversals from the same style; of no class when none is given.
 */
async function renderStyles(
  models: Awaited<ReturnType<typeof getModels>>,
  styles: Float32Array,
  n: number,
  classIndex?: number,
): Promise<{ images: Float32Array[]; probs: Float32Array[] }> {
  const S = models.generator.styleSize;
  const streams = classIndex === undefined ? undefined : new Uint32Array(n).fill(classNoiseStream(classIndex));
  const [img, pr] = tf.tidy(() => {
    const image = synthesizeImages(models, tf.tensor2d(styles, [n, S]), streams);
    return [image, tf.softmax(models.classifier.logits(image))];
  });
  const [iv, pv] = (await Promise.all([img.data(), pr.data()])) as [Float32Array, Float32Array];
  tf.dispose([img, pr]);
  const px = iv.length / n;
  const K = pv.length / n;
  return {
    images: Array.from({ length: n }, (_, i) => iv.slice(i * px, (i + 1) * px)),
    probs: Array.from({ length: n }, (_, i) => pv.slice(i * K, (i + 1) * K)),
  };
}

function classification(p: Float32Array, trueClass?: number) {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return {
    predicted: best,
    confidence: p[best],
    ...(trueClass === undefined ? {} : { pTrue: p[trueClass] }),
    probabilities: Array.from(p, (v) => Math.round(v * 1e6) / 1e6),
  };
}

/** Ids of the models a request will use, without building them (for ETags and 304s). */
export async function modelIds(c: AppContext, classifier: string | undefined) {
  const catalog = await getCatalog(c.env);
  const entry = await classifierEntry(c.env, classifier);
  return { generatorId: generatorId(catalog), classifierId: entry.sha256, classifier: entry.name };
}

const RenderQuery = z.object({
  seed: SeedParam,
  class: ClassParam,
  classifier: ClassifierParam,
  format: FormatParam,
  scale: ScaleParam,
});
const RenderBody = z
  .object({
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

const RenderResult = z
  .object({
    generatorId: z.string(),
    classifier: z.string(),
    predicted: z.number().int(),
    pTrue: z.number(),
    probabilities: z.array(z.number()),
    image: z.string().openapi({ description: 'PNG data URL' }),
  })
  .passthrough()
  .openapi('RenderResult');

const renderResponses = {
  200: {
    description: 'The image (JSON with a PNG data URL, or image/png)',
    content: {
      'application/json': { schema: RenderResult },
      'image/png': { schema: z.string().openapi({ format: 'binary' }) },
    },
  },
  304: { description: 'Not modified' },
  ...errorResponses(400, 404, 413, 429, 503),
};

/** One render, within the isolate's live-compute budget (503 + Retry-After when exhausted). */
function renderOne(c: AppContext, args: Parameters<typeof renderNow>[1]): Promise<Response> {
  return limitedCompute(c.env, () => renderNow(c, args));
}

async function renderNow(
  c: AppContext,
  args: {
    classifier?: string;
    class: number;
    format: 'json' | 'png';
    scale: number;
    etag: string;
    style: (m: Awaited<ReturnType<typeof getModels>>) => { s: Float32Array; meta: Record<string, unknown> };
  },
): Promise<Response> {
  const models = await getModels(c.env, args.classifier, keep(c));
  const { s, meta } = args.style(models);
  const { images, probs } = await renderStyles(models, s, 1, args.class);
  const cls = classification(probs[0], args.class);
  const bytes = gridPng(images, { size: 32, columns: 1, scale: args.scale, gap: 0 });
  if (args.format === 'png') {
    return png(bytes, args.etag, LIVE, { 'x-predicted-class': String(cls.predicted), 'x-p-true': String(cls.pTrue) });
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
}

const ClassifyBody = z
  .object({
    classifier: ClassifierParam,
    images: z
      .array(z.array(z.number().min(0).max(1)).length(1024, 'each image must have 32*32 = 1024 pixels in [0, 1]'))
      .min(1)
      .max(LIMITS.classifyBatch)
      .openapi({
        description: `Up to ${LIMITS.classifyBatch} images, each 1024 grey values in [0, 1], row-major 32x32 (1 = ink); the body may be up to ${LIMITS.classifyBodyBytes / 1024} KiB (a full batch at full float precision)`,
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
      const q = c.req.valid('query');
      const ids = await modelIds(c, q.classifier);
      const etag = etagOf('render', ids, q);
      const nm = notModified(c, etag, LIVE);
      if (nm) return nm;
      return viaCache(c, etag, () =>
        renderOne(c, {
          ...q,
          etag,
          style: (m) => ({ s: seedStyle(m.generator, q.seed, q.class), meta: { seed: q.seed } }),
        }),
      );
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
      const b = c.req.valid('json');
      const ids = await modelIds(c, b.classifier);
      const catalog = await getCatalog(c.env);
      checkClass(catalog, b.class, 'class');
      const layout = catalogLayout(catalog);
      b.edits.forEach((e, i) => checkDim(layout, e.dim, `edits.${i}.dim`));
      // The unit of a shift edit: std of s_dim over the class's samples of the default sweep, from
      // the cached ranking sums (the unit of the traversals and corner cases; style.ts). Only shift
      // edits need it; a miss answers 202/404 naming the job that computes the sums.
      let st: LiveStats | null = null;
      if (b.edits.some((e) => e.shift !== undefined)) {
        const found = await liveStats(c, b.classifier, 'moments', 'a render with shift edits');
        if (found instanceof Response) return found;
        st = found;
      }
      const etag = etagOf('render-post', ids, b, st?.key ?? null);
      const nm = notModified(c, etag, LIVE);
      if (nm) return nm;
      return viaCache(c, etag, () =>
        renderOne(c, {
          ...b,
          etag,
          style: (m) => {
            const S = m.generator.styleSize;
            let s: Float32Array;
            if (b.style !== undefined) {
              if (b.style.length !== S)
                throw badField('style', 'validation', `style must have S = ${S} values, got ${b.style.length}`);
              s = Float32Array.from(b.style);
            } else s = seedStyle(m.generator, b.seed!, b.class);
            const edits = applyStyleEdits(
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
        }),
      );
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
          content: { 'application/json': { schema: z.object({ results: z.array(z.unknown()) }).passthrough() } },
        },
        ...errorResponses(400, 404, 413, 429, 503),
      },
    }),
    async (c) =>
      limitedCompute(c.env, async () => {
        const b = c.req.valid('json');
        const models = await getModels(c.env, b.classifier, keep(c));
        const n = b.images.length;
        const flat = new Float32Array(n * 1024);
        b.images.forEach((im, i) => flat.set(im, i * 1024));
        const p = tf.tidy(() => tf.softmax(models.classifier.logits(tf.tensor4d(flat, [n, 32, 32, 1]))));
        const pv = (await p.data()) as Float32Array;
        p.dispose();
        const K = pv.length / n;
        return json({
          classifier: models.classifierName,
          classifierId: models.classifierId,
          results: Array.from({ length: n }, (_, i) => classification(pv.slice(i * K, (i + 1) * K))),
        });
      }),
  );
}
