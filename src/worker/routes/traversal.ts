/**
 * Live traversals of one StyleSpace dim (a bounded number of frames, one batch) and one
 * corner-case search for (class, dim): bracketing + k-section until p_true = 0.5, bounded in steps.
 * Computations run within the isolate's live-compute budget (live-limit.ts: 503 + Retry-After).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import * as tf from '../../core/tf.js';
import { pTrueGradient } from '../../core/analysis/models.js';
import { evaluateShifts, traverse, type ShiftEvaluation } from '../../core/analysis/traversal.js';
import { styleDimName } from '../../core/generator/style-layout.js';
import { gridPng } from '../../core/image/png.js';
import { getModels } from '../models.js';
import { etagOf } from '../results.js';
import { LIVE, json, keep, viaCache, notModified, png, pngDataUrl, route, valid, type AppContext, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { ProblemError, badField, errorResponses } from '../problem.js';
import { ClassParam, ClassifierParam, DimParam, FormatParam, ScaleParam, SeedParam } from '../schemas.js';
import { checkDim, seedStyle, styleStats } from '../style.js';
import { modelIds } from './live.js';
import { limitedCompute } from '../live-limit.js';

type Models = Awaited<ReturnType<typeof getModels>>;

/** The direction (+1: increase s_j) that lowers p_true at s0, from the local gradient. */
async function loweringDirection(models: Models, s0: Float32Array, classIndex: number, dim: number): Promise<1 | -1> {
  const { probs, grad } = tf.tidy(() => {
    const r = pTrueGradient(models, tf.tensor2d(s0, [1, s0.length]), [classIndex]);
    return { probs: r.probs, grad: tf.slice(r.grad, [0, dim], [1, 1]) };
  });
  const g = (await grad.data())[0];
  tf.dispose([probs, grad]);
  return g > 0 ? -1 : 1;
}

const round = (v: number, d = 6) => Math.round(v * 10 ** d) / 10 ** d;
const frameJson = (f: ShiftEvaluation) => ({ shift: round(f.shift, 4), pTrue: round(f.pTrue), predicted: f.predicted, runnerUp: f.runnerUp });

const TraversalQuery = z.object({
  class: ClassParam,
  dim: DimParam,
  seed: SeedParam.optional().openapi({ description: 'Start from the style of (seed, class); default the class-average style' }),
  classifier: ClassifierParam,
  frames: z.coerce.number().int().min(2).max(LIMITS.frames).default(9).openapi({ description: `Frames (at most ${LIMITS.frames})` }),
  range: z.coerce.number().min(0.1).max(LIMITS.maxSteps).default(4).openapi({ description: 'range mode: frames span [-range, +range] std; crossing mode: the bracketing bound in std' }),
  mode: z.enum(['range', 'crossing']).default('range').openapi({ description: 'range: frames evenly over [-range, range] (one batch); crossing: find p_true = 0.5 first, frames at 0..2x that shift (paper fig. 5)' }),
  direction: z.enum(['auto', 'increase', 'decrease']).default('auto').openapi({ description: 'crossing mode: which way to move (auto: the one that lowers p_true locally)' }),
  format: FormatParam,
  scale: ScaleParam.default(2),
});

const CornerQuery = z.object({
  class: ClassParam,
  dim: DimParam,
  classifier: ClassifierParam,
  maxSteps: z.coerce.number().int().min(1).max(LIMITS.maxSteps).default(20).openapi({ description: 'Bound on the shift, in std' }),
  tolerance: z.coerce.number().min(0.001).max(0.2).default(0.01),
  direction: z.enum(['auto', 'increase', 'decrease']).default('auto'),
  format: FormatParam,
  scale: ScaleParam,
});

function startStyle(models: Models, classIndex: number, seed: number | undefined): Float32Array {
  return seed === undefined ? Float32Array.from(styleStats(models.generator).classMean[classIndex]) : seedStyle(models.generator, seed, classIndex);
}

function dimStd(models: Models, dim: number): number {
  const std = styleStats(models.generator).std[dim];
  if (!(std > 0)) throw badField('dim', `dim ${dim} does not vary over the population (std 0): no traversal`);
  return std;
}

async function resolveDirection(models: Models, s0: Float32Array, classIndex: number, dim: number, d: 'auto' | 'increase' | 'decrease'): Promise<1 | -1> {
  if (d === 'increase') return 1;
  if (d === 'decrease') return -1;
  if (!models.differentiable) {
    throw new ProblemError(422, 'not-differentiable', `direction=auto takes the gradient of p_true, and classifier ${models.classifierName} has none (no gradient for op ${models.nonDifferentiableOp}): give direction=increase or direction=decrease`, { field: 'direction', classifier: models.classifierName });
  }
  return loweringDirection(models, s0, classIndex, dim);
}

/**
 * The shared frame of both live routes: validate, answer 304 or from the cache when possible, else
 * load the models, check the dim and compute. `compute` gets the models and std(s_dim).
 */
async function liveDimRoute<Q extends { classifier?: string; dim: number }>(
  c: AppContext,
  kind: 'traversal' | 'corner-case',
  schema: z.ZodType<Q>,
  compute: (q: Q, models: Models, std: number, etag: string) => Promise<Response>,
): Promise<Response> {
  const q = valid(c, 'query', schema);
  const etag = etagOf(kind, await modelIds(c, q.classifier), q);
  const nm = notModified(c, etag, LIVE);
  if (nm) return nm;
  return viaCache(c, etag, () =>
    limitedCompute(c.env, async () => {
      const models = await getModels(c.env, q.classifier, keep(c));
      checkDim(models.generator, q.dim, 'dim');
      return compute(q, models, dimStd(models, q.dim), etag);
    }),
  );
}

export function registerTraversal(app: OpenAPIHono<AppEnv>): void {
  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/traversal',
      tags: ['live'],
      summary: 'Traverse one StyleSpace dim: frames as JSON plus a PNG strip',
      request: { query: TraversalQuery },
      responses: {
        200: { description: 'Frames', content: { 'application/json': { schema: z.object({ frames: z.array(z.unknown()), strip: z.string() }).passthrough() }, 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } },
        304: { description: 'Not modified' },
        ...errorResponses(400, 404, 422, 429, 503),
      },
    }),
    (c: AppContext) =>
      liveDimRoute(c, 'traversal', TraversalQuery, async (q, models, std, etag) => {
        const s0 = startStyle(models, q.class, q.seed);
        let frames: ShiftEvaluation[];
        let extra: Record<string, unknown>;
        if (q.mode === 'range') {
          const shifts = Array.from({ length: q.frames }, (_, i) => -q.range + (2 * q.range * i) / (q.frames - 1));
          frames = await evaluateShifts(models, { s0, classIndex: q.class, dim: q.dim, std, direction: 1 }, shifts, true);
          extra = { direction: 'increase', evaluations: frames.length };
        } else {
          const direction = await resolveDirection(models, s0, q.class, q.dim, q.direction);
          const fractions = Array.from({ length: q.frames }, (_, i) => (2 * i) / (q.frames - 1));
          const t = await traverse(models, { s0, classIndex: q.class, dim: q.dim, std, direction, maxSteps: Math.max(1, Math.round(q.range)), fractions });
          frames = t.frames;
          extra = { direction: direction === 1 ? 'increase' : 'decrease', flipped: t.flipped, startsBelow: t.startsBelow, referenceShift: t.referenceShift === null ? null : round(t.referenceShift, 4), evaluations: t.evaluations };
        }
        const strip = gridPng(frames.map((f) => f.image!), { size: 32, columns: frames.length, scale: q.scale });
        if (q.format === 'png') return png(strip, etag, LIVE);
        return json(
          { generatorId: models.generatorId, classifier: models.classifierName, class: q.class, dim: q.dim, name: styleDimName(models.generator.layout, q.dim), std: round(std), start: q.seed === undefined ? 'class-average' : { seed: q.seed }, mode: q.mode, ...extra, frames: frames.map(frameJson), strip: pngDataUrl(strip) },
          { etag, cacheControl: LIVE },
        );
      }),
  );

  route(
    app,
    createRoute({
      method: 'get',
      path: '/v1/corner-case',
      tags: ['live'],
      summary: 'One corner-case search: from the class-average style along one dim until p_true = 0.5',
      request: { query: CornerQuery },
      responses: {
        200: { description: 'The corner case (or why there is none within the bound)', content: { 'application/json': { schema: z.object({ flipped: z.boolean() }).passthrough() }, 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } },
        304: { description: 'Not modified' },
        ...errorResponses(400, 404, 422, 429, 503),
      },
    }),
    (c: AppContext) =>
      liveDimRoute(c, 'corner-case', CornerQuery, async (q, models, std, etag) => {
        const s0 = startStyle(models, q.class, undefined);
        const direction = await resolveDirection(models, s0, q.class, q.dim, q.direction);
        const t = await traverse(models, { s0, classIndex: q.class, dim: q.dim, std, direction, maxSteps: q.maxSteps, tolerance: q.tolerance, fractions: [0] });
        const start = t.frames[0];
        const tiles = t.reference && !t.startsBelow ? [start.image!, t.reference.image!] : [start.image!];
        const strip = gridPng(tiles, { size: 32, columns: tiles.length, scale: q.scale });
        if (q.format === 'png') return png(strip, etag, LIVE, { 'x-flipped': String(t.flipped && !t.startsBelow) });
        return json(
          {
            generatorId: models.generatorId,
            classifier: models.classifierName,
            class: q.class,
            dim: q.dim,
            name: styleDimName(models.generator.layout, q.dim),
            std: round(std),
            direction: direction === 1 ? 'increase' : 'decrease',
            flipped: t.flipped && !t.startsBelow,
            startsBelow: t.startsBelow,
            start: frameJson(start),
            shift: t.referenceShift === null || t.startsBelow ? null : round(t.referenceShift, 4),
            corner: t.reference && !t.startsBelow ? { ...frameJson(t.reference), newClass: t.reference.runnerUp } : null,
            reason: t.flipped && !t.startsBelow ? null : t.startsBelow ? 'the class-average style is already misclassified' : `p_true stays above 0.5 up to ${q.maxSteps} std`,
            evaluations: t.evaluations,
            images: pngDataUrl(strip),
          },
          { etag, cacheControl: LIVE },
        );
      }),
  );
}
