/**
 * Explaining a real image (issue 20; docs/explain.md "API"): POST /v1/explain takes a PNG (base64 in
 * JSON), its label, a classifier and the projection budget, checks them all before anything is
 * stored, and queues an `explain` job (one shard) that a runner computes with the CLI's core code
 * (src/core/analysis/explain.ts); GET /v1/explain/{key} serves the answer. The key is the content
 * hash of the decoded pixels, label, models and budget: the same request again is answered from the
 * cache at once. A projection of 100 steps takes a minute of CPU, far past a Worker request's
 * budget: only small budgets (EXPLAIN_INLINE, measured in docs/explain.md) are computed inline,
 * under the live limiter, with the same core code and inputs as a runner; the rest are jobs. Submitting needs the submitter scope (bearer SUBMIT_TOKEN);
 * reading is public (a key is only known to whoever has the image).
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { DEFAULT_EXPLAIN, DEFAULT_PROJECTION } from '../../core/analysis/explain-defaults.js';
import type { RankingSums } from '../../core/analysis/ranking-sums.js';
import { GeneratorArchitectureSchema } from '../../core/generator/architecture.js';
import { domainArchitecture, domainField, type CatalogFeatureExtractor } from '../../protocol/catalog.js';
import { DEFAULT_SWEEP, RESULT_SCHEMA, type StoredResult } from '../../protocol/result-keys.js';
import {
  EXPLAIN_INLINE,
  EXPLAIN_LIMITS,
  ExplainAnswerSchema,
  explainsInline,
  type ExplainAnswer,
  explainKey,
  type ExplainJobOptions,
  type ExplanationPayload,
} from '../../protocol/explain.js';
import { JobViewSchema } from '../../protocol/job.js';
import { SECURITY, requireScope } from '../auth.js';
import { jobByKey, submitJob } from '../jobs/board-client.js';
import { IMMUTABLE, base64, json, keep, notModified, type AppContext, type AppEnv } from '../http.js';
import { ProblemError, errorResponses } from '../problem.js';
import { getResult, storeResultOnce } from '../result-cache.js';
import { liveCompute } from '../isolate-models.js';
import { limitedCompute } from '../live-limit.js';
import { LIMITS } from '../limits.js';
import { ClassifierParam, DomainParam } from '../schemas.js';
import { jobView } from '../services/job-view.js';
import { locate } from '../services/result-lookup.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';

/** Base64 of at most EXPLAIN_LIMITS.pngBytes bytes, optionally as a data URL. */
const DATA_URL_PREFIX = /^data:image\/png;base64,/;

const ExplainRequest = z
  .object({
    domain: DomainParam.openapi({
      description: "The image's domain (GET /v1/domains): its generator, classifier and feature extractor",
    }),
    image: z
      .string()
      .min(1)
      .max(Math.ceil(EXPLAIN_LIMITS.pngBytes / 3) * 4 + 22)
      .openapi({
        description:
          `The PNG, base64 (or a \`data:image/png;base64,\` URL), at most ` +
          `${EXPLAIN_LIMITS.pngBytes} bytes: of the domain's channels (grey, or RGB for colored-mnist), ` +
          `32x32 or 28x28 (padded by 2 px, like MNIST)`,
      }),
    label: z.number().int().min(0).openapi({ description: "The image's true class (0 to classes - 1)", example: 3 }),
    classifier: ClassifierParam.openapi({
      description: 'Built-in classifier name or registered classifier id (default: the catalog default)',
    }),
    steps: z
      .number()
      .int()
      .min(0)
      .max(EXPLAIN_LIMITS.steps)
      .default(DEFAULT_PROJECTION.steps)
      .openapi({ description: `Projection steps (default ${DEFAULT_PROJECTION.steps}); part of the key` }),
    seed: z
      .number()
      .int()
      .min(0)
      .max(0xffffffff)
      .default(DEFAULT_PROJECTION.seed)
      .openapi({ description: `Projection seed (default ${DEFAULT_PROJECTION.seed}); part of the key` }),
    top: z
      .number()
      .int()
      .min(1)
      .max(EXPLAIN_LIMITS.top)
      .default(DEFAULT_EXPLAIN.topDims)
      .openapi({
        description: `Deviating dims reported and moved (default ${DEFAULT_EXPLAIN.topDims}); part of the key`,
      }),
    sweepSamples: z
      .number()
      .int()
      .min(EXPLAIN_LIMITS.minSweepSamples)
      .max(LIMITS.jobSamples)
      .default(DEFAULT_SWEEP.count)
      .openapi({
        description:
          `Samples of the ranking sweep (seed ${DEFAULT_SWEEP.seed}) that sets the std units and the class ranking, as the CLI's ` +
          `--sweep-samples (default ${DEFAULT_SWEEP.count}: the built-in classifiers' seeded sums); part of the key`,
      }),
  })
  .strict()
  .openapi('ExplainRequest');

const KeyParam = z.object({
  key: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'key must be the 64 hex digits POST /v1/explain answered')
    .openapi({ param: { name: 'key', in: 'path' } }),
});

const ExplainAnswerDoc = ExplainAnswerSchema.openapi('ExplainAnswer');

const Pending = z.object({
  status: z.literal('pending'),
  key: z.string(),
  statusUrl: z.string(),
  resultUrl: z.string(),
  job: JobViewSchema.openapi('Job'),
  created: z.boolean().optional(),
});

/** The PNG bytes of `image` (base64 or a data URL), or a 400 naming `image`. */
function pngBytes(image: string): Uint8Array {
  const b64 = image.replace(DATA_URL_PREFIX, '');
  let text: string;
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('not base64');
    text = atob(b64);
  } catch {
    throw new ProblemError(400, 'validation', 'image must be a PNG as base64 (or a data:image/png;base64, URL)', {
      field: 'image',
    });
  }
  if (text.length > EXPLAIN_LIMITS.pngBytes)
    throw new ProblemError(400, 'validation', `image is ${text.length} bytes; at most ${EXPLAIN_LIMITS.pngBytes}`, {
      field: 'image',
    });
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/** The answer of a stored explanation. */
function answer(r: StoredResult<ExplanationPayload>): ExplainAnswer {
  const o = r.options as ExplainJobOptions;
  return {
    status: 'done',
    key: r.key,
    ...domainField(r.domain),
    classifier: r.classifier,
    generatorId: r.generatorId,
    classifierId: r.classifierId,
    request: { label: o.label, steps: o.steps, seed: o.seed, top: o.top, sweepSamples: r.sweep.count },
    image: `data:image/png;base64,${o.image}`,
    computed: r.computed,
    explanation: r.payload,
  };
}

async function storedExplanation(c: AppContext, key: string): Promise<StoredResult<ExplanationPayload> | null> {
  const r = await getResult<ExplanationPayload>(c.env, key);
  return r !== null && r.kind === 'explain' ? r : null;
}

/**
 * An explanation computed in this isolate, under the live limiter (one computation at a time): the
 * core's explainImage with the runner's inputs (the models, the sums as stored, the decoded pixels),
 * so the answer is the job's and the CLI's for the same inputs and budget.
 */
async function explainInline(
  c: AppContext,
  a: {
    classifier: string;
    sums: RankingSums;
    pixels: Float32Array;
    options: ExplainJobOptions;
    sweep: { seed: number; count: number };
    domain: string;
    featureExtractor: CatalogFeatureExtractor;
  },
): Promise<ExplanationPayload> {
  return limitedCompute(c.env, async () => {
    const k = await liveCompute();
    const [models, featureExtractor] = await Promise.all([
      k.getModels(c.env, a.classifier, keep(c), a.domain),
      k.getFeatureExtractor(c.env, a.featureExtractor, keep(c)),
    ]);
    const o = a.options;
    const e = await k.explainImage(
      models,
      { featureExtractor },
      { spec: { ...a.sweep, classIndex: null }, sums: a.sums },
      a.pixels,
      o.label,
      { projection: { steps: o.steps, seed: o.seed }, topDims: o.top },
    );
    return k.explanationJson(e, models.generator.resolution) as ExplanationPayload;
  });
}

export function registerExplain(app: OpenAPIHono<AppEnv>): void {
  // Submitter scope (auth.ts), checked before the body is parsed: bearer SUBMIT_TOKEN.
  app.use('/v1/explain', async (c, next) => {
    if (c.req.method === 'POST') await requireScope(c, 'submit');
    return next();
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/explain',
      tags: ['explain'],
      security: SECURITY.submit,
      summary: 'Explain a real image: project it into S, its deviating dims and a counterfactual (a job for runners)',
      description:
        'The image and label are checked first (not a PNG, another size or channel count, a label out of range: 400 naming the field; nothing ' +
        'is stored). Then the explanation is answered from the cache (200), computed inline when the budget is small ' +
        `(steps <= ${EXPLAIN_INLINE.steps} and top <= ${EXPLAIN_INLINE.top}) and the classifier's ranking sums are at hand (200, ` +
        '`computed.inline`), or queued as an `explain` job (202, one shard) that a runner computes with ' +
        'the same core code as `npx faultlines explain`; poll `statusUrl` and read `resultUrl`. ' +
        'The same image (its pixels), label, classifier and budget always give the same key.',
      request: { body: { content: { 'application/json': { schema: ExplainRequest } }, required: true } },
      responses: {
        200: { description: 'Already explained', content: { 'application/json': { schema: ExplainAnswerDoc } } },
        202: {
          description: 'Queued (or already queued): the job',
          content: { 'application/json': { schema: Pending } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413, 422, 503),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const bytes = pngBytes(b.image);
      const sweep = { seed: DEFAULT_SWEEP.seed, count: b.sweepSamples };
      // The domain's classifier (400 naming `domain` for another's) and generator (409 without one).
      const {
        catalog,
        entry,
        generatorId: gid,
        models: own,
        key: sumsKey,
        spec: sumsSpec,
        options: sumsOptions,
      } = await locate(c, 'ranking-sums', b.classifier, sweep, b.domain);
      const arch = GeneratorArchitectureSchema.parse(domainArchitecture(catalog, b.domain));
      // The PNG decoder loads with the first upload, not with the worker (the cached answers need none).
      const { ImageInputError, checkLabel, readDomainPng } = await import('../../core/image/read-png.js');
      let pixels: Float32Array;
      try {
        checkLabel(b.label, arch.numClasses, 'label');
        pixels = readDomainPng(bytes, { size: arch.resolutions.at(-1)!, channels: arch.imageChannels }, 'image');
      } catch (e) {
        if (e instanceof ImageInputError) throw new ProblemError(400, 'validation', e.message, { field: e.field });
        throw e;
      }
      const featureExtractor = own.featureExtractor;
      if (!featureExtractor)
        throw new ProblemError(
          503,
          'unavailable',
          `this edge was built without weights/${b.domain === DEFAULT_DOMAIN ? '' : `${b.domain}/`}feature-extractor, ` +
            'which the projection of a real image needs',
          b.domain === DEFAULT_DOMAIN ? {} : { field: 'domain', missing: 'feature-extractor' },
        );
      // The centre and std units come from the classifier's ranking sums: d p_true / d s through it.
      if (entry.source === 'registered' && !entry.record.differentiable)
        throw new ProblemError(
          422,
          'not-differentiable',
          `an explanation measures deviations in the std units of the classifier's ranking (d p_true / d s ` +
            `through it), and registered classifier ${entry.name} has no gradient for op ${entry.record.nonDifferentiableOp}`,
          { field: 'classifier', classifier: entry.name },
        );
      const key = explainKey({
        ...domainField(b.domain),
        generatorId: gid,
        classifierId: entry.sha256,
        sweep,
        pixels: bytesToHex(sha256(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength))),
        label: b.label,
        steps: b.steps,
        seed: b.seed,
        top: b.top,
      });
      const resultUrl = `/v1/explain/${key}`;
      const stored = await storedExplanation(c, key);
      if (stored) return json(answer(stored), { status: 200, headers: { location: resultUrl } });

      const options: ExplainJobOptions = {
        image: base64(bytes),
        label: b.label,
        steps: b.steps,
        seed: b.seed,
        top: b.top,
      };
      // A small budget with the sums at hand: computed here, stored under the key, answered at once.
      const sums = explainsInline(b) ? await getResult<RankingSums>(c.env, sumsKey) : null;
      if (sums) {
        const inline = await explainInline(c, {
          classifier: entry.name,
          sums: sums.payload,
          pixels,
          options,
          sweep,
          domain: b.domain,
          featureExtractor,
        });
        const stored: StoredResult<ExplanationPayload> = {
          schema: RESULT_SCHEMA,
          key,
          kind: 'explain',
          ...domainField(b.domain),
          generatorId: gid,
          classifierId: entry.sha256,
          classifier: entry.name,
          sweep,
          options,
          computed: { backend: 'wasm', inline: true },
          payload: inline,
        };
        await storeResultOnce(c.env, stored);
        return json(answer(stored), { status: 200, headers: { location: resultUrl } });
      }

      const models = {
        generatorId: gid,
        classifierId: entry.sha256,
        ...(entry.source === 'registered' ? { classifierFormat: 'tfjs' } : {}),
      };
      let needs: string | undefined;
      if ((await getResult(c.env, sumsKey)) === null) {
        await submitJob(c.env, {
          key: sumsKey,
          kind: 'ranking-sums',
          spec: { ...sumsSpec, options: sumsOptions, ...models },
          total: sweep.count,
        });
        needs = sumsKey;
      }
      const { job, created } = await submitJob(c.env, {
        key,
        kind: 'explain',
        spec: {
          classifier: entry.name,
          ...sweep,
          ...models,
          ...domainField(b.domain),
          featureExtractorId: featureExtractor.sha256,
          sums: sumsKey,
          options,
        },
        total: 1,
        needs,
      });
      const view = jobView(job);
      return json(
        { status: 'pending' as const, key, created, statusUrl: view.statusUrl, resultUrl, job: view },
        { status: 202, headers: { location: view.statusUrl } },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/explain/{key}',
      tags: ['explain'],
      summary: 'An explanation of a real image: faithfulness, deviating dims, counterfactual or nearest boundary',
      request: { params: KeyParam },
      responses: {
        200: { description: 'The explanation', content: { 'application/json': { schema: ExplainAnswerDoc } } },
        202: { description: 'Being computed: the job', content: { 'application/json': { schema: Pending } } },
        304: { description: 'Not modified' },
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const etag = `"${key}"`;
      const stored = await storedExplanation(c, key);
      if (stored) return notModified(c, etag, IMMUTABLE) ?? json(answer(stored), { etag, cacheControl: IMMUTABLE });
      const job = await jobByKey(c.env, key);
      if (job && job.kind === 'explain' && (job.status === 'queued' || job.status === 'running')) {
        const view = jobView(job);
        return json(
          { status: 'pending' as const, key, statusUrl: view.statusUrl, resultUrl: `/v1/explain/${key}`, job: view },
          { status: 202, headers: { location: view.statusUrl, 'retry-after': '10' } },
        );
      }
      if (job && job.kind === 'explain' && (job.status === 'failed' || job.status === 'cancelled'))
        throw new ProblemError(
          404,
          job.status === 'failed' ? 'job-failed' : 'job-cancelled',
          `the job explaining this image ${job.status}: ${job.error ?? ''}`,
          {
            field: 'key',
            job: `/v1/jobs/${job.id}`,
          },
        );
      throw new ProblemError(404, 'not-found', `no explanation ${key}: submit the image with POST /v1/explain`, {
        field: 'key',
      });
    },
  );
}
