/**
 * The runners' side of the job board (used by the GPU runner of issue #6): lease a job, report
 * progress (which extends the lease), complete it with its result, or fail it. Bearer-token
 * protected; disabled (403) while the worker has no RUNNER_TOKEN.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DEFAULT_OPTIONS, RESULT_SCHEMA, type ResultKind, type StoredResult } from '../catalog.js';
import { board, type BoardResult } from '../jobs/board.js';
import { getCatalog } from '../models.js';
import { putResult } from '../results.js';
import { json, route, valid, type AppContext, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { jobView } from './jobs.js';
import { generatorId, type Catalog } from '../catalog.js';
import { catalogLayout } from './results.js';

const finite = z.number().refine(Number.isFinite, 'must be finite');
const RankingSumsPayload = z.object({
  schema: z.literal('faultlines.ranking-sums/1'),
  specHash: z.string().min(1),
  ranges: z.array(z.tuple([z.number().int(), z.number().int()])).min(1),
  styleSize: z.number().int().positive(),
  numClasses: z.number().int().positive(),
  count: z.array(z.number().int().nonnegative()),
  correct: z.array(z.number().int().nonnegative()),
  gradSum: z.array(finite),
  gradSqSum: z.array(finite),
  styleSum: z.array(finite),
  styleSqSum: z.array(finite),
});
const OtherPayload = z.object({ schema: z.string().min(1) }).passthrough();

/** Checks a runner's payload before it becomes an immutable result (it is served, and rankings are computed from it). */
function checkPayload(kind: string, payload: unknown, catalog: Catalog): void {
  const parsed = (kind === 'ranking-sums' ? RankingSumsPayload : OtherPayload).safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProblemError(400, 'validation', `payload.${issue.path.join('.')}: ${issue.message}`, { field: ['payload', ...issue.path.map(String)].join('.') });
  }
  if (kind !== 'ranking-sums') return;
  const p = parsed.data as z.infer<typeof RankingSumsPayload>;
  const S = catalogLayout(catalog).size;
  const K = p.numClasses;
  if (p.styleSize !== S) throw new ProblemError(400, 'validation', `payload.styleSize is ${p.styleSize}, the generator's S is ${S}`, { field: 'payload.styleSize' });
  for (const f of ['count', 'correct'] as const) if (p[f].length !== K) throw new ProblemError(400, 'validation', `payload.${f} must have numClasses = ${K} entries`, { field: `payload.${f}` });
  for (const f of ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const) {
    if (p[f].length !== S * K) throw new ProblemError(400, 'validation', `payload.${f} must have styleSize * numClasses = ${S * K} entries`, { field: `payload.${f}` });
  }
}

const LEASE_MS = { default: 120_000, max: 900_000 };

/** Comparison whose time does not depend on where the strings differ. */
function sameString(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i % Math.max(1, a.length)) || 0) ^ b.charCodeAt(i);
  return diff === 0;
}

function authorise(c: AppContext): void {
  const token = c.env.RUNNER_TOKEN;
  if (!token) throw new ProblemError(403, 'forbidden', 'runner endpoints are disabled: the worker has no RUNNER_TOKEN secret');
  const auth = c.req.header('authorization') ?? '';
  if (!sameString(auth, `Bearer ${token}`)) throw new ProblemError(401, 'unauthorized', 'missing or wrong runner token (Authorization: Bearer <token>)', { field: 'authorization' });
}

function unwrap(r: BoardResult): Response {
  if (!r.ok) throw new ProblemError(r.status, r.status === 404 ? 'not-found' : 'conflict', r.detail);
  return json(jobView(r.job));
}

const Owner = z.string().min(1).max(128);
const LeaseBody = z.object({ runner: Owner, leaseMs: z.number().int().min(1000).max(LEASE_MS.max).default(LEASE_MS.default) });
const HeartbeatBody = z.object({ runner: Owner, done: z.number().int().min(0), total: z.number().int().min(1), leaseMs: z.number().int().min(1000).max(LEASE_MS.max).default(LEASE_MS.default) });
const CompleteBody = z.object({ runner: Owner, payload: z.record(z.string(), z.unknown()), computed: z.record(z.string(), z.unknown()).default({}) });
const FailBody = z.object({ runner: Owner, error: z.string().min(1).max(2000) });
const IdParam = z.object({ id: z.string().uuid() });
const jobOut = { 200: { description: 'The job', content: { 'application/json': { schema: z.object({ id: z.string() }).passthrough() } } } };
const security = [{ runnerToken: [] }];

export function registerRunner(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'runnerToken', { type: 'http', scheme: 'bearer' });

  route(
    app,
    createRoute({ method: 'post', path: '/v1/runner/lease', tags: ['runner'], security, summary: 'Lease the oldest queued job (204 when none)', request: { body: { content: { 'application/json': { schema: LeaseBody } }, required: true } }, responses: { ...jobOut, 204: { description: 'Nothing to do' }, ...errorResponses(400, 401, 403) } }),
    async (c) => {
      authorise(c);
      const b = valid(c, 'json', LeaseBody);
      const job = await board(c.env).lease(b.runner, b.leaseMs);
      return job ? json(jobView(job)) : new Response(null, { status: 204 });
    },
  );

  route(
    app,
    createRoute({ method: 'post', path: '/v1/runner/jobs/{id}/heartbeat', tags: ['runner'], security, summary: 'Report progress and extend the lease', request: { params: IdParam, body: { content: { 'application/json': { schema: HeartbeatBody } }, required: true } }, responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409) } }),
    async (c) => {
      authorise(c);
      const { id } = valid(c, 'param', IdParam);
      const b = valid(c, 'json', HeartbeatBody);
      return unwrap(await board(c.env).heartbeat(id, b.runner, { done: b.done, total: b.total }, b.leaseMs));
    },
  );

  route(
    app,
    createRoute({ method: 'post', path: '/v1/runner/jobs/{id}/complete', tags: ['runner'], security, summary: 'Store the result under the job key (immutable) and mark the job done', request: { params: IdParam, body: { content: { 'application/json': { schema: CompleteBody } }, required: true } }, responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409, 413) } }),
    async (c) => {
      authorise(c);
      const { id } = valid(c, 'param', IdParam);
      const b = valid(c, 'json', CompleteBody);
      const stub = board(c.env);
      const job = await stub.get(id);
      if (!job) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      if (job.status !== 'running' || job.lease?.owner !== b.runner) throw new ProblemError(409, 'conflict', `job ${id} is ${job.status} and not leased to ${b.runner}`);
      const catalog = await getCatalog(c.env);
      checkPayload(job.kind, b.payload, catalog);
      const spec = job.spec as { classifier: string; seed: number; count: number };
      const entry = catalog.classifiers.find((m) => m.name === spec.classifier);
      const stored: StoredResult = {
        schema: RESULT_SCHEMA,
        key: job.key,
        kind: job.kind as ResultKind,
        generatorId: generatorId(catalog),
        classifierId: entry?.sha256 ?? 'unknown',
        classifier: spec.classifier,
        sweep: { seed: spec.seed, count: spec.count },
        options: (job.spec.options as Record<string, unknown> | undefined) ?? DEFAULT_OPTIONS[job.kind as ResultKind],
        computed: { ...b.computed, runner: b.runner, jobId: id, completedAt: new Date().toISOString() },
        payload: b.payload,
      };
      await putResult(c.env, stored);
      return unwrap(await stub.complete(id, b.runner));
    },
  );

  route(
    app,
    createRoute({ method: 'post', path: '/v1/runner/jobs/{id}/fail', tags: ['runner'], security, summary: 'Report a failure (requeued until the attempts run out)', request: { params: IdParam, body: { content: { 'application/json': { schema: FailBody } }, required: true } }, responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409) } }),
    async (c) => {
      authorise(c);
      const { id } = valid(c, 'param', IdParam);
      const b = valid(c, 'json', FailBody);
      return unwrap(await board(c.env).fail(id, b.runner, b.error));
    },
  );
}
