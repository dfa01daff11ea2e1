/**
 * Finding a cached result: its cache key from (kind, classifier, sweep) and the current models, the
 * job that would compute it, and the answer to send when it is not stored yet (202 with the job
 * computing it, or 404 naming the job to submit — results are never computed inline). Shared by
 * the cached-result, table, job, embeddings and live routes.
 */
import { z } from '@hono/zod-openapi';
import { GeneratorArchitectureSchema } from '../../core/generator/architecture.js';
import { buildStyleLayout, type StyleLayout } from '../../core/generator/style-layout.js';
import { domainArchitecture, domainField, type Catalog } from '../../protocol/catalog.js';
import {
  RESULT_KINDS,
  resultKey,
  resultOptions,
  type ResultKind,
  type StoredResult,
  type SweepSpec,
} from '../../protocol/result-keys.js';
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import { JobSchema } from '../../protocol/job.js';
import { StoredResultSchema as StoredResultOfKind, provenanceFields } from '../../protocol/stored-result.js';
import { jobByKey } from '../jobs/board-client.js';
import { classifierEntry, domainGeneratorId, domainModels, getCatalog } from '../isolate-models.js';
import { json, type AppContext } from '../http.js';
import { problem, problemResponse } from '../problem.js';

const layouts = new WeakMap<Catalog, Map<string, StyleLayout>>();
/** The StyleSpace layout of a domain's generator, from its architecture in the catalog (without loading it). */
export function catalogLayout(catalog: Catalog, domain: string = DEFAULT_DOMAIN): StyleLayout {
  let byDomain = layouts.get(catalog);
  if (!byDomain) {
    byDomain = new Map();
    layouts.set(catalog, byDomain);
  }
  let l = byDomain.get(domain);
  if (!l) {
    l = buildStyleLayout(GeneratorArchitectureSchema.parse(domainArchitecture(catalog, domain)));
    byDomain.set(domain, l);
  }
  return l;
}

/** The body of `POST /v1/jobs` that computes a missing result (what a 404 tells the client to submit). */
export interface ResultJobRequest {
  kind: ResultKind;
  classifier: string;
  seed: number;
  count: number;
  /** Outside the default domain only. */
  domain?: string;
}

/**
 * The cache key of a result of `domain`, the options it is keyed and computed with, and the job
 * that would compute it. 400 naming `domain` for another domain's classifier, 409 for a domain
 * without a generator (every result is of generated samples).
 */
export async function locate(
  c: AppContext,
  kind: ResultKind,
  classifier: string | undefined,
  sweep: SweepSpec,
  domain: string = DEFAULT_DOMAIN,
) {
  const catalog = await getCatalog(c.env);
  const entry = await classifierEntry(c.env, classifier, domain);
  const generatorId = domainGeneratorId(catalog, domain);
  const models = domainModels(catalog, domain);
  const options = resultOptions(kind, models, entry.sha256);
  const key = resultKey({ kind, generatorId, classifierId: entry.sha256, sweep, options, domain });
  const spec: ResultJobRequest = {
    kind,
    classifier: entry.name,
    seed: sweep.seed,
    count: sweep.count,
    ...domainField(domain),
  };
  return { catalog, entry, key, spec, options, domain, generatorId, models, layout: catalogLayout(catalog, domain) };
}

/** The provenance fields of a stored result, described for /openapi.json (the cached-result views carry them too). */
export const Provenance = { kind: z.enum(RESULT_KINDS), ...provenanceFields };
export const StoredResultSchema = StoredResultOfKind.openapi('StoredResult', {
  description: "A stored result as it is kept: its provenance and its kind's payload",
});

/** The 202 body of a result being computed: the job computing it and where to poll it. */
const PendingResultSchema = z
  .object({
    status: z.literal('pending'),
    detail: z
      .string()
      .optional()
      .openapi({ description: 'Live endpoints: what needs the result and why (absent on the cached-result routes)' }),
    key: z.string().openapi({ description: 'Content hash of the result being computed' }),
    job: z.object({ id: z.string(), status: z.enum(['queued', 'running']), progress: JobSchema.shape.progress }),
    statusUrl: z.string(),
  })
  .openapi('PendingResult');

/** The 202 of the routes that serve a cached result (the same Location and Retry-After everywhere). */
/**
 * A stored result as the cached-result views serve it: its provenance, its immutable URL and
 * `payload` (the whole stored payload, or one view of it), with `extra` fields before the payload.
 */
export function resultEnvelope(r: StoredResult, payload: unknown, extra: Record<string, unknown> = {}) {
  return {
    key: r.key,
    resultUrl: `/v1/results/${r.key}`,
    kind: r.kind,
    ...domainField(r.domain),
    classifier: r.classifier,
    generatorId: r.generatorId,
    classifierId: r.classifierId,
    sweep: r.sweep,
    options: r.options,
    computed: r.computed,
    ...extra,
    payload,
  };
}

export const pendingResultResponse = {
  description: 'Not computed yet: the job computing it (Location: its status URL; Retry-After)',
  content: { 'application/json': { schema: PendingResultSchema } },
};

/**
 * 202 with the job computing `key`, or 404 naming the job to submit. `neededBy`: what needs the
 * result (a live endpoint that reads it), said first in the answer.
 */
export async function missResponse(c: AppContext, key: string, spec: ResultJobRequest, neededBy?: string) {
  const job = await jobByKey(c.env, key);
  const why = neededBy === undefined ? '' : `${neededBy}: `;
  if (job && (job.status === 'queued' || job.status === 'running')) {
    const statusUrl = `/v1/jobs/${job.id}`;
    const pending: z.infer<typeof PendingResultSchema> = {
      status: 'pending',
      ...(neededBy === undefined
        ? {}
        : {
            detail:
              `${why}the ${spec.kind} result of classifier "${spec.classifier}" on the sweep ` +
              `(seed ${spec.seed}, count ${spec.count}) is being computed by the job below; retry when it is done`,
          }),
      key,
      job: { id: job.id, status: job.status, progress: job.progress },
      statusUrl,
    };
    return json(pending, { status: 202, headers: { location: statusUrl, 'retry-after': '30' } });
  }
  if (job && job.status === 'failed') {
    return problemResponse(
      problem(
        404,
        'job-failed',
        `${why}the job computing ` +
          `${neededBy === undefined ? 'this result' : `the ${spec.kind} result of classifier "${spec.classifier}"`} failed: ${job.error ?? 'unknown error'}`,
        { key, job: `/v1/jobs/${job.id}` },
      ),
    );
  }
  return problemResponse(
    problem(
      404,
      'not-computed',
      `${why}no ${spec.kind} result for classifier "${spec.classifier}" on the sweep (seed ${spec.seed}, ` +
        `count ${spec.count}) with the current ${spec.domain === undefined ? '' : `${spec.domain} `}generator; ` +
        `results are never computed inline: submit the job below`,
      {
        key,
        submit: { method: 'POST', href: '/v1/jobs', body: spec },
      },
    ),
  );
}
