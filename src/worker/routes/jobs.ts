/**
 * Jobs: heavy sweeps the edge never computes inline. Submitting returns 202 with the job id and
 * its status URL (the same job for the same work: jobs are keyed by the result's content hash);
 * status reports progress; the result is served from the cache once a runner has completed it.
 * Submitting needs the submitter scope (bearer SUBMIT_TOKEN, auth.ts); reading is public.
 *
 * Histograms, accuracy curves and corner cases derive from the sweep's ranking sums (their top
 * dims, class averages and stds): their job names the sums' key, and when the sums are not stored
 * yet the ranking-sums job is submitted too and the derived job waits for it (board `needs`).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { COMPARING_KINDS, RESULT_KINDS, comparedClassifiers } from '../../protocol/result-keys.js';
import { DEFAULT_SHARD_SIZE } from '../jobs/board.js';
import { boardCostHeader } from '../jobs/board-cost.js';
import { jobBoard, jobIndex, jobStatus, listJobs, submitJob } from '../jobs/board-client.js';
import { ShardSchema, JobViewSchema } from '../../protocol/job.js';
import { getResult } from '../result-cache.js';
import { IMMUTABLE, json, notModified, type AppEnv } from '../http.js';
import { LIMITS } from '../limits.js';
import { ProblemError, errorResponses } from '../problem.js';
import { ClassifierParam, DomainName } from '../schemas.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { StoredResultSchema, locate } from '../services/result-lookup.js';
import { jobView } from '../services/job-view.js';
import { SECURITY, requireScope } from '../auth.js';

const JobSubmit = z
  .object({
    domain: DomainName.optional().openapi({
      description: `The image domain (GET /v1/domains), or \`?domain=\`; default ${DEFAULT_DOMAIN}`,
    }),
    kind: z.enum(RESULT_KINDS).openapi({ description: 'The result to compute (ranking-sums feeds /v1/rankings)' }),
    classifier: ClassifierParam,
    seed: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.seed - 1),
    count: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.jobSamples)
      .openapi({ description: `Population size (at most ${LIMITS.jobSamples})` }),
    shardSize: z
      .number()
      .int()
      .min(16)
      .max(LIMITS.jobSamples)
      .optional()
      .openapi({
        description:
          `Samples per shard of a ranking-sums job (default ${DEFAULT_SHARD_SIZE}); for another kind, of the ranking-sums job it ` +
          `submits when the sweep's sums are not computed yet (the derived job itself ` +
          `is computed whole). Not part of a job's identity: the first submission decides.`,
      }),
  })
  .openapi('JobSubmit');

const JobSchema = JobViewSchema.openapi('Job');

const IdParam = z.object({ id: z.string().uuid('id must be a job id (uuid)') });

export function registerJobs(app: OpenAPIHono<AppEnv>): void {
  // Submitter scope (auth.ts), checked before the body is parsed: bearer SUBMIT_TOKEN.
  app.use('/v1/jobs', async (c, next) => {
    if (c.req.method === 'POST') await requireScope(c, 'submit');
    return next();
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/jobs',
      tags: ['jobs'],
      security: SECURITY.submit,
      summary: 'Submit a heavy sweep (computed by GPU runners, never inline); needs the submitter token',
      request: {
        query: z.object({ domain: DomainName.optional().openapi({ description: "Or the body's `domain`" }) }),
        body: { content: { 'application/json': { schema: JobSubmit } }, required: true },
      },
      responses: {
        202: {
          description: 'Accepted: the job (new or already known) and its status URL',
          content: {
            'application/json': { schema: z.object({ job: JobSchema, statusUrl: z.string(), created: z.boolean() }) },
          },
        },
        200: {
          description: 'Already computed: the result URL',
          content: {
            'application/json': {
              schema: z.object({ status: z.literal('done'), resultUrl: z.string() }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413, 422),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const q = c.req.valid('query');
      if (b.domain !== undefined && q.domain !== undefined && b.domain !== q.domain)
        throw new ProblemError(
          400,
          'validation',
          `domain: the body says "${b.domain}", the query "${q.domain}"; give one, or the same in both`,
          { field: 'domain' },
        );
      const domain = b.domain ?? q.domain ?? DEFAULT_DOMAIN;
      const sweep = { seed: b.seed, count: b.count };
      const {
        key,
        spec,
        catalog,
        entry,
        options,
        generatorId,
        models: own,
      } = await locate(c, b.kind, b.classifier, sweep, domain);
      // Embeddings classify forward only: any registered classifier has them.
      if (entry.source === 'registered' && !entry.record.differentiable && b.kind !== 'embeddings') {
        const why =
          b.kind === 'ranking-sums'
            ? 'the ranking takes d p_true / d s through the classifier'
            : `${b.kind} derive from the classifier's own ranking (d p_true / d s through it)`;
        throw new ProblemError(
          422,
          'not-differentiable',
          `${why}, and registered classifier ${entry.name} has no gradient for op ${entry.record.nonDifferentiableOp}: rank with a differentiable ` +
            `classifier (e.g. ${catalog.defaultClassifier ?? 'a built-in one'}) and use this one in the live classify, render and traversal endpoints ` +
            `(direction increase or decrease)` +
            `${b.kind === 'ranking-sums' ? '' : ', or measure it on those dims with the CLI (npx faultlines analyze --classifier DIR --adapter FILE)'}`,
          { field: 'classifier', classifier: entry.name },
        );
      }
      if ((await getResult(c.env, key)) !== null)
        return json({ status: 'done' as const, key, resultUrl: `/v1/results/${key}` }, { status: 200 });
      // What a runner needs to compute exactly this result and check it holds the same models.
      // A registered classifier is a TF.js model the runner fetches from /v1/runner/classifiers/{id}.
      const models = {
        generatorId,
        classifierId: entry.sha256,
        ...(entry.source === 'registered' ? { classifierFormat: 'tfjs' } : {}),
      };
      let derived: Record<string, unknown> = {};
      let needs: string | undefined;
      // Embeddings need the sweep's head only (no ranking sums): one shard, computed whole.
      if (b.kind !== 'ranking-sums' && b.kind !== 'embeddings') {
        const sums = await locate(c, 'ranking-sums', b.classifier, sweep, domain);
        if ((await getResult(c.env, sums.key)) === null) {
          await submitJob(c.env, {
            key: sums.key,
            kind: 'ranking-sums',
            spec: { ...sums.spec, options: sums.options, ...models },
            total: b.count,
            shardSize: b.shardSize,
          });
          needs = sums.key;
        }
        // Accuracy curves measure the compared (built-in) classifiers on the same samples; directions
        // read their frames with them (the reference readers).
        const compare = COMPARING_KINDS.includes(b.kind)
          ? {
              compare: comparedClassifiers(own.classifiers, entry.sha256).map((m) => ({
                classifier: m.name,
                classifierId: m.sha256,
              })),
            }
          : {};
        derived = { sums: sums.key, ...compare };
      }
      const full = { ...spec, options, ...models, ...derived };
      const { job, created } = await submitJob(c.env, {
        key,
        kind: b.kind,
        spec: full,
        total: b.count,
        shardSize: b.shardSize,
        needs,
      });
      const view = jobView(job);
      return json(
        { created, statusUrl: view.statusUrl, job: view },
        { status: 202, headers: { location: view.statusUrl } },
      );
    },
  );

  const ListQuery = z.object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(/^\d{1,16}:[0-9a-f-]{36}$/, 'cursor must be the `next` of a previous page')
      .optional()
      .openapi({ description: 'The `next` of the previous page (jobs older than its last one)' }),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs',
      tags: ['jobs'],
      summary: 'Recent jobs, newest first, a page at a time',
      request: { query: ListQuery },
      responses: {
        200: {
          description: 'Jobs',
          content: {
            'application/json': {
              schema: z.object({
                jobs: z.array(JobSchema),
                next: z.string().nullable().openapi({ description: 'cursor of the next page; null on the last' }),
              }),
            },
          },
        },
        ...errorResponses(400),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await listJobs(c.env, limit, cursor);
      return json({ jobs: page.jobs.map(jobView), next: page.next });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}',
      tags: ['jobs'],
      summary: 'Status and progress of a job',
      request: { params: IdParam },
      responses: {
        200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const found = await jobStatus(c.env, id);
      if (!found) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      return json(jobView(found.job), { headers: boardCostHeader(found.cost) });
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/jobs/{id}',
      tags: ['jobs'],
      security: SECURITY.submit,
      summary: 'Cancel a job (submitter token): its queued shards are dropped, nothing partial is published',
      description:
        'Runners holding a lease of it are answered 409 `/problems/job-cancelled` at their next heartbeat or completion and move on. Cancelling ' +
        'a cancelled job changes nothing (`cancelled: false`); a done job is refused with 409 (its result is published: ' +
        '`DELETE /v1/results/{key}` removes it). Submitting a cancelled job again computes it afresh, as a new job.',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The cancelled job; `cancelled` is false when it already was',
          content: { 'application/json': { schema: z.object({ cancelled: z.boolean(), job: JobSchema }) } },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      await requireScope(c, 'submit');
      const { id } = c.req.valid('param');
      const ctx = await jobIndex(c.env).context(id);
      if (!ctx) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      const r = await jobBoard(c.env, id).cancel(id, ctx);
      if (!r.ok)
        throw new ProblemError(r.status, r.status === 404 ? 'not-found' : 'conflict', r.detail, { field: 'id' });
      return json({ cancelled: r.cancelled, job: jobView(r.job) });
    },
  );

  const ShardsQuery = z.object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,6}$/, 'cursor must be the `next` of a previous page')
      .optional()
      .openapi({ description: 'The `next` of the previous page (shards after its last one)' }),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/shards',
      tags: ['jobs'],
      summary: 'The shards of a job, in index order, a page at a time: ranges, status, attempts, leases, retries',
      request: { params: IdParam, query: ShardsQuery },
      responses: {
        200: {
          description: 'Shards',
          content: {
            'application/json': {
              schema: z.object({
                jobId: z.string(),
                shards: z.array(ShardSchema),
                next: z.string().nullable().openapi({ description: 'cursor of the next page; null on the last' }),
              }),
            },
          },
        },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      // An id the index does not know never wakes a board.
      if (!(await jobIndex(c.env).context(id)))
        throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      // A page costs its own rows on the board's primary key, whatever the job's shard count.
      const page = await jobBoard(c.env, id).shards(id, limit, cursor === undefined ? -1 : Number(cursor));
      if (!page) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      return json({ jobId: id, shards: page.shards, next: page.next === null ? null : String(page.next) });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/result',
      tags: ['jobs'],
      summary: 'The result of a finished job',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The stored result',
          content: { 'application/json': { schema: StoredResultSchema } },
        },
        304: { description: 'Not modified' },
        ...errorResponses(400, 404, 409),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const job = (await jobStatus(c.env, id))?.job;
      if (!job) throw new ProblemError(404, 'not-found', `no job ${id}`, { field: 'id' });
      if (job.status === 'failed')
        throw new ProblemError(409, 'job-failed', `job ${id} failed: ${job.error ?? 'unknown error'}`, {
          job: `/v1/jobs/${id}`,
        });
      if (job.status === 'cancelled')
        throw new ProblemError(409, 'job-cancelled', `job ${id} was cancelled: ${job.error ?? ''}`, {
          job: `/v1/jobs/${id}`,
        });
      if (job.status !== 'done')
        throw new ProblemError(
          409,
          'job-pending',
          `job ${id} is ${job.status} (${job.progress.done}/${job.progress.total})`,
          { job: `/v1/jobs/${id}` },
        );
      const etag = `"${job.key}"`;
      const nm = notModified(c, etag, IMMUTABLE);
      if (nm) return nm;
      const r = await getResult(c.env, job.key);
      if (r === null)
        throw new ProblemError(404, 'not-found', `job ${id} is done but its result ${job.key} is missing`);
      return json(r, { etag, cacheControl: IMMUTABLE });
    },
  );
}
