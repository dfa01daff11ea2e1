/**
 * Live traversals of one StyleSpace dim (a bounded number of frames) and one corner-case search for
 * (class, dim). Both start where the cached corner cases start: the start style, the std unit and the
 * direction come from the cached ranking sums of the classifier on the default sweep through the
 * core's `dimStart` (style.ts), and the corner case is the core's `cornerCaseAlong` — the function
 * behind /v1/corner-cases — so a live answer is the cached one for the same (class, dim). The
 * computations are services/live-dim.ts's; here: validation, the statistics' lookup, caching and
 * the reply.
 * Computations run within the isolate's live-compute budget (live-limit.ts: 503 + Retry-After).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { classifierEntry, getCatalog } from '../isolate-models.js';
import { catalogLayout, pendingResultResponse } from '../services/result-lookup.js';
import { domainEtag } from '../result-cache.js';
import { LIVE, json, notModified, png, type AppContext, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { ProblemError, errorResponses } from '../problem.js';
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
import { checkClass, checkDim, liveStats, type LiveStats } from '../style.js';
import { modelIds } from '../services/model-ids.js';
import { cachedLiveCall, type LiveCallModels, type LiveCompute } from '../services/live-call.js';
import { liveCornerCase, liveTraversal, type LiveDimAnswer } from '../services/live-dim.js';

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

/**
 * The shared frame of both live routes: validate, find the cached sums (a miss answers 202/404
 * naming the job that computes them), answer 304 or from the cache when possible, else load the
 * models and compute (live-dim.ts, with the statistics too), replying PNG or JSON.
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
  compute: (k: LiveCompute, models: LiveCallModels, st: LiveStats, q: Q) => Promise<LiveDimAnswer>,
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
  return cachedLiveCall(c, etag, q.classifier, domain, async (k, models) => {
    const answer = await compute(k, models, st, q);
    return answer.format === 'png'
      ? png(answer.strip, etag, LIVE, answer.headers)
      : json(answer.body, { etag, cacheControl: LIVE });
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
    (c) => liveDimRoute(c, 'traversal', c.req.valid('query'), (q) => q.mode === 'crossing', liveTraversal),
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
    (c) => liveDimRoute(c, 'corner-case', c.req.valid('query'), () => true, liveCornerCase),
  );
}
