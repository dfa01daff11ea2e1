/**
 * Live traversals of one StyleSpace dim (a bounded number of frames) and one corner-case search for
 * (class, dim). Both start where the cached corner cases start: the start style, the std unit and the
 * direction come from the cached ranking sums of the classifier on the default sweep through the
 * core's `dimStart` (style.ts), and the corner case is the core's `cornerCaseAlong` — the function
 * behind /v1/corner-cases — so a live answer is the cached one for the same (class, dim). No
 * analysis code here: validation, the statistics' lookup, caching and JSON.
 * Computations run within the isolate's live-compute budget (live-limit.ts: 503 + Retry-After).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { CornerCaseJson } from '../../core/analysis/corner-case-json.js';
import { dimStart, type DimStart, type DirectionChoice } from '../../core/analysis/dim-start.js';
import { compactResult } from '../../core/analysis/derived-options.js';
import type { ShiftEvaluation } from '../../core/analysis/traversal.js';
import { styleDimName } from '../../core/generator/style-layout.js';
import { classifierEntry, getCatalog } from '../isolate-models.js';
import { catalogLayout, pendingResultResponse } from '../services/result-lookup.js';
import { domainEtag } from '../result-cache.js';
import { LIVE, json, notModified, png, pngDataUrl, type AppContext, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { ProblemError, badField, errorResponses } from '../problem.js';
import {
  ClassParam,
  ClassifierParam,
  DimParam,
  DomainParam,
  FormatParam,
  ScaleParam,
  SeedParam,
  jsonOrPng,
} from '../schemas.js';
import { LiveCornerCase, TraversalResponse } from '../live-schemas.js';
import { checkClass, checkDim, liveStats, statisticsJson, type LiveStats } from '../style.js';
import { modelIds } from '../services/model-ids.js';
import { cachedLiveCall, type LiveCallModels, type LiveCompute } from '../services/live-call.js';
import { timed } from '../server-timing.js';

const round = (v: number, d = 6) => Math.round(v * 10 ** d) / 10 ** d;
const roundOrNull = (v: number | null, d = 4) => (v === null ? null : round(v, d));
const frameJson = (f: ShiftEvaluation) => ({
  shift: round(f.shift, 4),
  pTrue: round(f.pTrue),
  predicted: f.predicted,
  runnerUp: f.runnerUp,
  pRunnerUp: round(f.pRunnerUp),
});
const dirName = (d: 1 | -1) => (d === 1 ? ('increase' as const) : ('decrease' as const));

const DIRECTION = z.enum(['auto', 'increase', 'decrease']).default('auto');

const TraversalQuery = z.object({
  domain: DomainParam,
  class: ClassParam,
  dim: DimParam,
  seed: SeedParam.optional().openapi({
    description:
      "Start from the style of (seed, class), with the class's std unit and ranking direction; default the class-average style of the sweep",
  }),
  classifier: ClassifierParam,
  frames: z.coerce
    .number()
    .int()
    .min(2)
    .max(LIMITS.frames)
    .default(9)
    .openapi({ description: `Frames (at most ${LIMITS.frames})` }),
  range: z.coerce.number().min(0.1).max(LIMITS.maxSteps).default(4).openapi({
    description: 'range mode: frames span [-range, +range] std; crossing mode: the bracketing bound in std',
  }),
  mode: z
    .enum(['range', 'crossing'])
    .default('range')
    .openapi({
      description:
        'range: frames evenly over [-range, range] (one batch); crossing: find the decision ' +
        'boundary (and p_true = 0.5) first, frames at 0..2x the decision shift (paper fig. 5)',
    }),
  direction: DIRECTION.openapi({
    description:
      "crossing mode: which way to move (auto: the class ranking's direction, the one the cached corner cases take)",
  }),
  format: FormatParam,
  scale: ScaleParam.default(2),
});

const CornerQuery = z.object({
  domain: DomainParam,
  class: ClassParam,
  dim: DimParam,
  classifier: ClassifierParam,
  maxSteps: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIMITS.maxSteps)
    .default(20)
    .openapi({ description: 'Bound on the shift, in std' }),
  tolerance: z.coerce
    .number()
    .min(0.001)
    .max(0.2)
    .default(0.01)
    .openapi({ description: 'Of both boundary points, in probability' }),
  direction: DIRECTION.openapi({ description: "auto: the class ranking's direction (as the cached corner cases)" }),
  format: FormatParam,
  scale: ScaleParam,
});

/** The dim as the class ranking sees it, when the statistics are the classifier's own. */
const rankingJson = (st: LiveStats, start: DimStart) =>
  st.own ? { rank: start.dim.rank, score: start.dim.score, direction: start.dim.direction } : null;

/**
 * The shared frame of both live routes: validate, find the cached sums (a miss answers 202/404
 * naming the job that computes them), answer 304 or from the cache when possible, else load the
 * models and compute. `compute` gets the statistics too.
 */
async function liveDimRoute<
  Q extends {
    domain: string;
    classifier?: string;
    class: number;
    dim: number;
    direction: 'auto' | 'increase' | 'decrease';
  },
>(
  c: AppContext,
  kind: 'traversal' | 'corner-case',
  q: Q,
  needsDirection: (q: Q) => boolean,
  compute: (q: Q, models: LiveCallModels, st: LiveStats, etag: string, k: LiveCompute) => Promise<Response>,
): Promise<Response> {
  const { domain, ...keyed } = q;
  const catalog = await getCatalog(c.env);
  checkClass(catalog, q.class, 'class', domain);
  checkDim(catalogLayout(catalog, domain), q.dim, 'dim');
  // Another domain's classifier: 400 naming `domain`; a domain without a generator: 409 (liveStats).
  const entry = await classifierEntry(c.env, q.classifier, domain);
  if (entry.source === 'registered' && !entry.record.differentiable && q.direction === 'auto' && needsDirection(q)) {
    throw new ProblemError(
      422,
      'not-differentiable',
      `direction=auto is the class ranking's direction, and classifier ${entry.name} cannot be ranked ` +
        `(no gradient for op ${entry.record.nonDifferentiableOp}): give direction=increase or direction=decrease`,
      { field: 'direction', classifier: entry.name },
    );
  }
  // Only a classifier that cannot be ranked gets another classifier's sums (own: false; style.ts).
  const st = await liveStats(
    c,
    q.classifier,
    'ranking',
    kind === 'traversal' ? 'the live traversal' : 'the live corner case',
    domain,
  );
  if (st instanceof Response) return st;
  const etag = domainEtag(domain, kind, await modelIds(c, q.classifier, domain), keyed, st.key);
  const nm = notModified(c, etag, LIVE);
  if (nm) return nm;
  return cachedLiveCall(c, etag, q.classifier, domain, (k, models) => compute(q, models, st, etag, k));
}

/** The start of a search: dim-start.ts with the request's direction (auto: the ranking's). */
function startOf(
  st: LiveStats,
  q: { class: number; dim: number; direction: 'auto' | 'increase' | 'decrease' },
  s0?: Float32Array,
  direction?: DirectionChoice,
): DimStart {
  return dimStart(st.sums, st.layout, q.class, q.dim, {
    s0,
    direction: direction ?? (q.direction === 'auto' ? 'ranking' : q.direction),
  });
}

/** The replies of both routes: JSON or PNG, 202 while the sums are computed, 304 and the errors. */
const liveDimResponses = (description: string, schema: z.ZodType) => ({
  200: jsonOrPng(description, schema),
  202: pendingResultResponse,
  304: { description: 'Not modified' },
  ...errorResponses(400, 404, 409, 422, 429, 503),
});

export function registerTraversal(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/traversal',
      tags: ['live'],
      summary: 'Traverse one StyleSpace dim: frames as JSON plus a PNG strip',
      request: { query: TraversalQuery },
      responses: liveDimResponses('Frames', TraversalResponse),
    }),
    (c) =>
      liveDimRoute(
        c,
        'traversal',
        c.req.valid('query'),
        (q) => q.mode === 'crossing',
        async (q, models, st, etag, k) => {
          const s0 = q.seed === undefined ? undefined : k.seedStyle(models.generator, q.seed, q.class);
          const start = startOf(st, q, s0, q.mode === 'range' ? 'increase' : undefined);
          if (!(start.std > 0))
            throw badField(
              'dim',
              'validation',
              `dim ${q.dim} does not vary over the samples of class ${q.class} in the sweep (std 0): no unit to traverse in`,
            );
          const path = { s0: start.s0, classIndex: q.class, dim: q.dim, std: start.std, direction: start.direction };
          const common = {
            generatorId: models.generatorId,
            classifier: models.classifierName,
            class: q.class,
            dim: q.dim,
            name: styleDimName(models.generator.layout, q.dim),
            std: round(start.std),
            startStyle: q.seed === undefined ? ('class-average' as const) : { seed: q.seed },
            statistics: statisticsJson(st),
            ranking: rankingJson(st, start),
          };
          let body: Record<string, unknown>;
          let frames: ShiftEvaluation[];
          if (q.mode === 'range') {
            frames = await timed('evaluate', () =>
              k.evaluateShifts(models, path, k.rangeShifts(q.frames, q.range), true),
            );
            body = { ...common, mode: 'range', direction: 'increase', evaluations: frames.length };
          } else {
            const fractions = Array.from({ length: q.frames }, (_, i) => (2 * i) / (q.frames - 1));
            const t = await timed('evaluate', () =>
              k.traverse(models, { ...path, maxSteps: Math.max(1, Math.round(q.range)), fractions }),
            );
            frames = t.frames;
            body = {
              ...common,
              mode: 'crossing',
              direction: dirName(start.direction),
              directionFrom: start.directionFrom,
              start: frameJson(t.start),
              outcome: t.outcome,
              flipped: t.flipped,
              reasons: t.reasons,
              decisionShift: roundOrNull(t.decisionShift),
              decision: t.decision && frameJson(t.decision),
              pTrueHalfShift: roundOrNull(t.pTrueHalfShift),
              pTrueHalf: t.pTrueHalf && frameJson(t.pTrueHalf),
              frameBase: t.frameBase,
              evaluations: t.evaluations,
            };
          }
          return timed('encode', () => {
            const strip = k.gridPng(
              frames.map((f) => f.image!),
              { ...k.imageTile(models), columns: frames.length, scale: q.scale },
            );
            if (q.format === 'png') return png(strip, etag, LIVE);
            return json(
              { ...body, frames: frames.map(frameJson), strip: pngDataUrl(strip) },
              { etag, cacheControl: LIVE },
            );
          });
        },
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/corner-case',
      tags: ['live'],
      summary:
        'One corner-case search for (class, dim), as the cached corner cases search: the decision corner case and the p_true = 0.5 point',
      request: { query: CornerQuery },
      responses: liveDimResponses('The corner case (or why there is none within the bound)', LiveCornerCase),
    }),
    (c) =>
      liveDimRoute(
        c,
        'corner-case',
        c.req.valid('query'),
        () => true,
        async (q, models, st, etag, k) => {
          const start = startOf(st, q);
          const { search, first } = await timed('evaluate', async () => {
            const search = await k.cornerCaseAlong(models, start, { maxSteps: q.maxSteps, tolerance: q.tolerance });
            return { search, first: await k.searchStart(models, start, search) };
          });
          const cc = search.cornerCase;
          const tiles = [
            first.image!,
            ...(cc ? [cc.decision.image, ...(cc.pTrueHalf ? [cc.pTrueHalf.image] : [])] : []),
          ];
          const strip = k.gridPng(tiles, { ...k.imageTile(models), columns: tiles.length, scale: q.scale });
          if (q.format === 'png')
            return png(strip, etag, LIVE, {
              'x-flipped': String(cc !== null),
              'x-outcome': search.skipped?.outcome ?? 'flipped',
            });
          // A classifier without a ranking of its own (st.own false) has no rank or score for the dim.
          const dimJson = (d: CornerCaseJson['dim']) =>
            st.own ? d : { ...d, rank: null, score: null, direction: dirName(start.direction) };
          const caseJson = cc && ((j) => ({ ...j, dim: dimJson(j.dim) }))(k.cornerCaseJson(cc));
          return json(
            compactResult({
              generatorId: models.generatorId,
              classifier: models.classifierName,
              class: q.class,
              dim: q.dim,
              name: styleDimName(models.generator.layout, q.dim),
              std: start.std,
              direction: dirName(start.direction),
              directionFrom: start.directionFrom,
              statistics: statisticsJson(st),
              ranking: rankingJson(st, start),
              maxSteps: q.maxSteps,
              tolerance: q.tolerance,
              start: k.startJson(first),
              outcome: search.skipped?.outcome ?? 'flipped',
              flipped: cc !== null,
              reasons: search.traversal?.reasons ?? [search.skipped!.reason],
              cornerCase: caseJson,
              skipped: search.skipped && k.skippedJson(search.skipped),
              evaluations: search.traversal?.evaluations ?? 1,
              images: pngDataUrl(strip),
            }),
            { etag, cacheControl: LIVE },
          );
        },
      ),
  );
}
