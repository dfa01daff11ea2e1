/**
 * RFC 9457 problem details. Every error response of the API is `application/problem+json` with a
 * `type` (a relative URI under /problems/), a `title`, the HTTP `status`, a `detail` sentence and,
 * for input errors, the offending `field`.
 */
import { z } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';

export const PROBLEM_TYPES = {
  validation: 'Invalid request',
  'malformed-body': 'Malformed request body',
  'body-too-large': 'Request body too large',
  'unsupported-media-type': 'Unsupported media type',
  'out-of-range': 'Value out of range',
  'not-found': 'Not found',
  'not-computed': 'Result not computed yet',
  'job-pending': 'Job not finished',
  'job-failed': 'Job failed',
  'job-cancelled': 'Job cancelled',
  conflict: 'Conflict',
  forbidden: 'Forbidden',
  unauthorized: 'Unauthorized',
  'method-not-allowed': 'Method not allowed',
  'weights-refused': 'Model weights refused',
  'generator-missing': 'No generator for this domain',
  'model-refused': 'Model refused at registration',
  'not-differentiable': 'Classifier not differentiable',
  'rate-limited': 'Too many requests',
  overloaded: 'Live computation busy',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
} as const;
export type ProblemSlug = keyof typeof PROBLEM_TYPES;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  [extra: string]: unknown;
}

const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional().openapi({ description: 'The offending input field (dotted path), for input errors.' }),
  })
  .passthrough()
  .openapi('Problem');

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } } as const;

/** A response body for `status`; `extra` may carry `field` and context. */
export function problem<S extends ContentfulStatusCode>(
  status: S,
  slug: ProblemSlug,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem & { status: S } {
  return { type: `/problems/${slug}`, title: PROBLEM_TYPES[slug], status, detail, ...extra };
}

/** The problem as a reply, typed by its status as the routes' `errorResponses` declare it. */
export function problemResponse<S extends ContentfulStatusCode>(
  p: Problem & { status: S },
  headers: Record<string, string> = {},
): Response & TypedResponse<JSONParsed<Problem>, S, 'json'> {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  }) as Response & TypedResponse<JSONParsed<Problem>, S, 'json'>;
}

/** Thrown anywhere in a handler; the app's error handler turns it into its problem response. */
export class ProblemError extends Error {
  readonly problem: Problem & { status: ContentfulStatusCode };
  /** Response headers (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;
  constructor(
    status: ContentfulStatusCode,
    slug: ProblemSlug,
    detail: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.problem = problem(status, slug, detail, extra);
    this.headers = headers;
  }
}

/**
 * A 400 naming the offending field and what is wrong with it: `out-of-range` for a value outside
 * its bounds (a class past the generator's, a dim past S), `validation` for one that is missing,
 * of the wrong shape, or unusable as given.
 */
export function badField(field: string, problem: 'out-of-range' | 'validation', detail: string): ProblemError {
  return new ProblemError(400, problem, detail, { field });
}

/** Standard error responses for route definitions. */
export function errorResponses(
  ...statuses: number[]
): Record<number, { description: string; content: typeof problemContent }> {
  const out: Record<number, { description: string; content: typeof problemContent }> = {};
  const describe: Record<number, string> = {
    400: 'Invalid input (the body names the offending field)',
    401: 'Missing or wrong bearer token of this scope',
    403: "Disabled (the scope's secret is unset) or another scope's token",
    404: 'Not found, or not computed yet',
    409: 'Conflicting state',
    413: 'Body too large',
    422: 'The model does not fit (its files, its adapter or the generator; the body names the field), or needs a gradient it lacks',
    429: 'Too many requests from this client (read rate limit); see Retry-After',
    503: 'Model weights refused (bad checksum), unavailable, or live computation busy (see Retry-After)',
  };
  for (const s of statuses) out[s] = { description: describe[s] ?? 'Error', content: problemContent };
  return out;
}
