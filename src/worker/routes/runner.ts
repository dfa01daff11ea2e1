/**
 * The runners' side of the job board (the GPU runner, src/gpu-runner/): lease a shard, report
 * progress (which extends the lease), complete it with its partial result (acknowledgement), fail
 * it (retried after a backoff, dead-lettered after MAX_ATTEMPTS), or release it (graceful
 * shutdown); fetch the models' weights exactly as the edge holds them. Runner scope (auth.ts, one
 * middleware for /v1/runner/* in app.ts): bearer RUNNER_TOKEN, compared in constant time; disabled (403) while the worker has no
 * RUNNER_TOKEN; a submitter's SUBMIT_TOKEN is refused (403).
 *
 * Every shard result is checked against the shard it answers before it is accepted: schema, shape
 * (the generator's S, its number of classes), the spec hash of (models, population), the sample
 * range and the per-class counts that range implies. The merged result is then exact. The derived
 * kinds (histograms, accuracy curves, corner cases: whole jobs) are checked by jobs/payloads.ts.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { populationSpecHash } from '../../core/analysis/population-spec.js';
import { DERIVED_KINDS, type DerivedKind } from '../../core/analysis/derived-options.js';
import { checkDerivedPayload, parsePayload, payloadError } from '../jobs/payloads.js';
import { RankingSumsPayloadSchema } from '../../protocol/ranking-sums.js';
import { checkEmbeddingsPayload } from '../jobs/embeddings-payload.js';
import { checkExplainPayload } from '../jobs/explain-payload.js';
import { GeneratorArchitectureSchema } from '../../core/generator/architecture.js';
import { JobViewSchema, LeaseViewSchema, type JobSpec } from '../../protocol/job.js';
import type { AnalysisModels } from '../../core/analysis/analysis-models.js';
import { DeadLetterSchema } from '../../protocol/worker-replies.js';
import { boardCostHeader } from '../jobs/board-cost.js';
import type { BoardResult, ShardRecord } from '../jobs/board.js';
import { deadLetters, jobBoard, jobIndex } from '../jobs/board-client.js';
import { getCatalog, verifiedModelFiles } from '../isolate-models.js';
import { json, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { jobView, leaseView } from '../services/job-view.js';
import {
  catalogDomains,
  domainArchitecture,
  type Catalog,
  type CatalogFeatureExtractor,
  type CatalogModel,
} from '../../protocol/catalog.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { catalogLayout } from '../services/result-lookup.js';
import { SECURITY } from '../auth.js';

const bad = payloadError;

/**
 * Checks a runner's shard result against the shard it answers before it becomes part of an
 * immutable result (it is served, and rankings are computed from it).
 */
function checkPayload(
  kind: string,
  payload: unknown,
  catalog: Catalog,
  spec: JobSpec,
  shard: Pick<ShardRecord, 'start' | 'end'>,
): void {
  // The shape of the job's domain (its spec names it outside the default domain).
  const domain = spec.domain ?? DEFAULT_DOMAIN;
  const architecture = domainArchitecture(catalog, domain);
  const S = catalogLayout(catalog, domain).size;
  const K = Number((architecture as { numClasses?: number }).numClasses ?? 10);
  if ((DERIVED_KINDS as readonly string[]).includes(kind)) {
    checkDerivedPayload(kind as DerivedKind, payload, { styleSize: S, numClasses: K }, spec);
    return;
  }
  if (kind === 'explain') {
    checkExplainPayload(payload, { styleSize: S, numClasses: K }, spec);
    return;
  }
  if (kind === 'embeddings') {
    const { zDim, wDim } = GeneratorArchitectureSchema.parse(architecture);
    checkEmbeddingsPayload(payload, { styleSize: S, numClasses: K, zDim, wDim }, spec);
    return;
  }
  if (kind !== 'ranking-sums') throw new ProblemError(409, 'conflict', `jobs of kind ${kind} take no results`);
  const p = parsePayload(RankingSumsPayloadSchema, payload);
  if (p.styleSize !== S) throw bad('styleSize', ` is ${p.styleSize}, the generator's S is ${S}`);
  if (p.numClasses !== K) throw bad('numClasses', ` is ${p.numClasses}, the generator has ${K} classes`);
  for (const f of ['count', 'correct'] as const)
    if (p[f].length !== K) throw bad(f, ` must have numClasses = ${K} entries`);
  for (const f of ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const) {
    if (p[f].length !== S * K) throw bad(f, ` must have styleSize * numClasses = ${S * K} entries`);
  }
  const ids = { generatorId: spec.generatorId, classifierId: spec.classifierId } as AnalysisModels;
  const expectedHash = populationSpecHash(ids, { seed: spec.seed, count: spec.count, classIndex: null });
  if (p.specHash !== expectedHash)
    throw bad(
      'specHash',
      ` ${p.specHash} is not this job's (models ${spec.generatorId.slice(0, 12)}/` +
        `${spec.classifierId.slice(0, 12)}, seed ${spec.seed}, count ${spec.count}): ${expectedHash}`,
    );
  if (p.ranges.length !== 1 || p.ranges[0][0] !== shard.start || p.ranges[0][1] !== shard.end) {
    throw bad('ranges', ` ${JSON.stringify(p.ranges)} is not this shard's range [[${shard.start},${shard.end}]]`);
  }
  // Sample i has class i mod K: the range fixes every class's count.
  for (let c = 0; c < K; c++) {
    const n = Math.max(0, Math.ceil((shard.end - c) / K) - Math.ceil((shard.start - c) / K));
    if (p.count[c] !== n)
      throw bad(
        `count.${c}`,
        ` is ${p.count[c]}, the range [${shard.start}, ${shard.end}) holds ${n} samples of class ${c}`,
      );
    if (p.correct[c] > p.count[c]) throw bad(`correct.${c}`, ` (${p.correct[c]}) exceeds count.${c} (${p.count[c]})`);
  }
  // Sums of squares are sums of squares: never negative, and (Cauchy-Schwarz) sum^2 <= n * sum of
  // squares over a class's n samples. Exact sums meet this up to float64 rounding (1e-9 is far above
  // it); numbers made up or mangled on the way rarely do.
  for (const [sum, sq] of [
    ['gradSum', 'gradSqSum'],
    ['styleSum', 'styleSqSum'],
  ] as const) {
    for (let c = 0; c < K; c++) {
      for (let j = 0; j < S; j++) {
        const i = c * S + j;
        const x = p[sum][i];
        const x2 = p[sq][i];
        if (x2 < 0) throw bad(`${sq}.${i}`, ` (${x2}) is negative: it is a sum of squares`);
        // Finite shards could still merge into infinity (1e308 + 1e308): bound every shard so that
        // any merge of the most shards a job can have stays finite, squares of sums included.
        if (Math.abs(x) > MAX_SUM)
          throw bad(
            `${sum}.${i}`,
            ` (${x}) is beyond ${MAX_SUM}: no sweep of this model produces it, and merged it could overflow`,
          );
        if (x2 > MAX_SUM * MAX_SUM)
          throw bad(
            `${sq}.${i}`,
            ` (${x2}) is beyond ${MAX_SUM * MAX_SUM}: no sweep of this model produces it, and merged it could overflow`,
          );
        if (x * x > p.count[c] * x2 * (1 + 1e-9))
          throw bad(
            `${sq}.${i}`,
            ` (${x2}) is below ${sum}.${i}^2 / count.${c} (${(x * x) / p.count[c]}): not the sums of the same ${p.count[c]} samples`,
          );
      }
    }
  }
}

/**
 * Largest |sum| a ranking-sums shard may carry (its sums of squares: the square). With at most
 * LIMITS.jobSamples shards, merged sums stay below 2e105 and their squares below 1e211: finite.
 * Real sums are many orders smaller (|s_j| and |d p_true / d s_j| are O(1) per sample).
 */
const MAX_SUM = 1e100;

const LEASE_MS = { default: 120_000, max: 900_000 };

function unwrap(r: BoardResult) {
  // A cancelled job is its own problem type: the runner drops the shard and leases another.
  if (!r.ok)
    throw new ProblemError(
      r.status,
      r.type,
      r.detail,
      r.type === 'job-cancelled' ? { field: 'id' } : {},
      boardCostHeader(r.cost),
    );
  return json(jobView(r.job), { headers: boardCostHeader(r.cost) });
}

const Owner = z.string().min(1).max(128);
const LeaseToken = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'lease must be the leaseToken this shard was leased with')
  .openapi({ description: "The shard's leaseToken from the lease response: only the lease's holder knows it" });
const ShardIndex = z
  .number()
  .int()
  .min(0)
  .default(0)
  .openapi({ description: 'Shard index (from the lease); 0 for single-shard jobs' });
const LeaseMs = z.number().int().min(1000).max(LEASE_MS.max).default(LEASE_MS.default);
const LeaseBody = z.object({
  runner: Owner,
  leaseMs: LeaseMs,
  kinds: z
    .array(z.string().min(1).max(64))
    .max(8)
    .optional()
    .openapi({ description: 'Only jobs of these kinds (default: any)' }),
});
const HeartbeatBody = z.object({
  runner: Owner,
  shard: ShardIndex,
  lease: LeaseToken,
  done: z.number().int().min(0).openapi({ description: 'Samples of the shard done so far' }),
  total: z.number().int().min(1).optional().openapi({ description: 'Samples in the shard (informative)' }),
  samplesPerSecond: z.number().min(0).max(1e9).optional(),
  etaSeconds: z.number().min(0).optional(),
  leaseMs: LeaseMs,
});
const CompleteBody = z.object({
  runner: Owner,
  shard: ShardIndex,
  lease: LeaseToken,
  payload: z.record(z.string(), z.unknown()),
  computed: z.record(z.string(), z.unknown()).default({}),
});
const FailBody = z.object({ runner: Owner, shard: ShardIndex, lease: LeaseToken, error: z.string().min(1).max(2000) });
const ReleaseBody = z.object({ runner: Owner, shard: ShardIndex, lease: LeaseToken });
const IdParam = z.object({ id: z.string().uuid() });
const ModelParam = z.object({ id: z.string().min(1).max(128), file: z.enum(['manifest', 'weights']) });
const DeadQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
const jobOut = { 200: { description: 'The job', content: { 'application/json': { schema: JobViewSchema } } } };
const security = SECURITY.runner;

/** Deepest nesting of objects and arrays a runner may send (results nest 5 levels; 32 is ample). */
const MAX_NESTING = 32;

/**
 * Refuses JSON nested deeper than MAX_NESTING (400 naming the field) before anything recurses into
 * it: storing or copying a value 100,000 levels deep overflows the stack. Iterative, so the check
 * itself cannot.
 */
function checkNesting(value: unknown, field: string): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_NESTING)
      throw new ProblemError(400, 'validation', `${field} is nested more than ${MAX_NESTING} levels deep`, { field });
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
}

/**
 * A model runners may fetch, of any domain: a generator, a built-in classifier, or a feature
 * extractor (explain jobs).
 */
function modelById(catalog: Catalog, id: string): CatalogModel | CatalogFeatureExtractor | undefined {
  return catalogDomains(catalog)
    .flatMap((d) => [d.generator, ...d.classifiers, d.featureExtractor])
    .find((m): m is CatalogModel | CatalogFeatureExtractor => m != null && m.sha256 === id);
}

export function registerRunner(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runner/lease',
      tags: ['runner'],
      security,
      summary: 'Lease the next shard (oldest job first; 204 when none)',
      request: { body: { content: { 'application/json': { schema: LeaseBody } }, required: true } },
      responses: {
        200: {
          description: 'The lease: the job, its spec and the shard with its leaseToken',
          content: { 'application/json': { schema: LeaseViewSchema } },
        },
        204: { description: 'Nothing to do' },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const lease = await jobIndex(c.env).lease(b.runner, b.leaseMs, b.kinds);
      return lease
        ? json(leaseView(lease), { headers: boardCostHeader(lease.cost) })
        : new Response(null, { status: 204 });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runner/jobs/{id}/heartbeat',
      tags: ['runner'],
      security,
      summary: 'Report progress of a shard and extend its lease',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: HeartbeatBody } }, required: true },
      },
      responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      return unwrap(
        await jobBoard(c.env, id).heartbeat(
          id,
          b.shard,
          b.lease,
          { done: b.done, samplesPerSecond: b.samplesPerSecond },
          b.leaseMs,
        ),
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runner/jobs/{id}/complete',
      tags: ['runner'],
      security,
      summary:
        "Acknowledge a shard with its validated result; the last shard's completion merges them into the cached result",
      request: { params: IdParam, body: { content: { 'application/json': { schema: CompleteBody } }, required: true } },
      responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      checkNesting(b.computed, 'computed');
      checkNesting(b.payload, 'payload');
      const stub = jobBoard(c.env, id);
      // The job and this one shard (two primary-key reads, whatever the job's shard count).
      const found = await stub.shard(id, b.shard);
      if (!found) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      const { job, shard } = found;
      if (job.status === 'cancelled')
        throw new ProblemError(
          409,
          'job-cancelled',
          `job ${id} was cancelled by its submitter: drop shard ${b.shard} and lease another`,
          { field: 'id' },
        );
      if (!shard) throw new ProblemError(404, 'not-found', `job ${id} has no shard ${b.shard}`, { field: 'shard' });
      if (shard.status !== 'running' && shard.status !== 'done')
        throw new ProblemError(409, 'conflict', `shard ${b.shard} of job ${id} is ${shard.status}: not leased`);
      // Checked before the lease (the board checks it): a repeated acknowledgement is checked like
      // the first, so a garbage payload is never a 200.
      checkPayload(job.kind, b.payload, await getCatalog(c.env), job.spec, shard);
      return unwrap(
        await stub.complete(id, b.shard, b.lease, b.runner, b.payload, {
          ...b.computed,
          completedAt: new Date().toISOString(),
        }),
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runner/jobs/{id}/fail',
      tags: ['runner'],
      security,
      summary: 'Report a failed shard (retried after a backoff; dead-lettered after the last attempt)',
      request: { params: IdParam, body: { content: { 'application/json': { schema: FailBody } }, required: true } },
      responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      return unwrap(await jobBoard(c.env, id).fail(id, b.shard, b.lease, b.error));
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/runner/jobs/{id}/release',
      tags: ['runner'],
      security,
      summary: 'Give a shard back unfinished (queued again at once; the attempt is not counted)',
      request: { params: IdParam, body: { content: { 'application/json': { schema: ReleaseBody } }, required: true } },
      responses: { ...jobOut, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      return unwrap(await jobBoard(c.env, id).release(id, b.shard, b.lease));
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runner/dead-letter',
      tags: ['runner'],
      security,
      summary: 'Dead-lettered shards (their last error)',
      request: { query: DeadQuery },
      responses: {
        200: {
          description: 'Dead shards',
          content: {
            'application/json': {
              schema: z.object({ shards: z.array(DeadLetterSchema.openapi('DeadLetter')) }),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { limit } = c.req.valid('query');
      return json({ shards: await deadLetters(c.env, limit) });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/runner/models/{id}/{file}',
      tags: ['runner'],
      security,
      summary:
        "A model's manifest or weights, byte for byte as the edge holds them (id = sha256 of the weights; verify it)",
      request: { params: ModelParam },
      responses: {
        200: { description: 'manifest.json or the weights binary' },
        ...errorResponses(400, 401, 403, 404, 503),
      },
    }),
    async (c) => {
      const { id, file } = c.req.valid('param');
      const entry = modelById(await getCatalog(c.env), id);
      if (!entry) throw new ProblemError(404, 'not-found', `no model with id ${id} in the catalog`, { field: 'id' });
      // Checked before it is handed out: a file corrupted on disk is refused (503), never served.
      const files = await verifiedModelFiles(c.env, entry);
      if (file === 'manifest')
        return new Response(files.manifest, {
          headers: { 'content-type': 'application/json', 'cache-control': 'private, max-age=3600' },
        });
      return new Response(files.weights, {
        headers: {
          'content-type': 'application/octet-stream',
          'cache-control': 'private, max-age=3600',
          'x-sha256': entry.sha256,
        },
      });
    },
  );
}
