/**
 * Access scopes (issue #8): the endpoints that write are bearer-token protected, one secret per
 * scope, and a token of one scope is refused by the other's endpoints.
 *
 * - `submit` (secret `SUBMIT_TOKEN`): endpoints that submit work (`POST /v1/jobs`) or models
 *   (`POST /v1/classifiers`).
 * - `runner` (secret `RUNNER_TOKEN`): the GPU runners' endpoints (`/v1/runner/*`).
 *
 * A scope whose secret is unset is disabled (403), as are both scopes when the two secrets are
 * equal (they would not be separate). Tokens are compared in constant time: both sides are hashed
 * to SHA-256 first (equal lengths, so neither the secret's length nor where the strings differ
 * shows in the timing), then compared with the platform's `crypto.subtle.timingSafeEqual`
 * (workerd; a constant-time loop where it is missing, e.g. Node). Secrets come from Worker secrets
 * (`npx wrangler secret put SUBMIT_TOKEN`) or, locally, from `.dev.vars` (never the repository).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from './env.js';
import type { AppContext, AppEnv } from './http.js';
import { ProblemError } from './problem.js';

export type Scope = 'submit' | 'runner';

interface ScopeInfo {
  secret: 'SUBMIT_TOKEN' | 'RUNNER_TOKEN';
  scheme: string;
  what: string;
}

const SCOPES: Record<Scope, ScopeInfo> = {
  submit: { secret: 'SUBMIT_TOKEN', scheme: 'submitToken', what: 'job submission and classifier registration' },
  runner: { secret: 'RUNNER_TOKEN', scheme: 'runnerToken', what: 'runner endpoints' },
};

/** OpenAPI `security` of a route in `scope`. */
export const SECURITY: Record<Scope, Array<Record<string, string[]>>> = {
  submit: [{ submitToken: [] }],
  runner: [{ runnerToken: [] }],
};

/** Declares both bearer schemes in the OpenAPI document (once, from buildApp). */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'submitToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Submitter scope: the Worker secret SUBMIT_TOKEN (`npx wrangler secret put SUBMIT_TOKEN`; locally `.dev.vars`). Needed by POST /v1/jobs and POST /v1/classifiers; refused by the runner endpoints.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'runnerToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Runner scope: the Worker secret RUNNER_TOKEN (`npx wrangler secret put RUNNER_TOKEN`; locally `.dev.vars`). Needed by /v1/runner/*; refused by job submission.',
  });
}

type Subtle = SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer) => boolean };

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** Equal-length digests, compared without an early exit. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('digests of different lengths');
  const subtle = crypto.subtle as Subtle;
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Constant-time string equality: SHA-256 of both, then a timing-safe comparison. */
export async function sameSecret(presented: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(secret)]);
  return digestsEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
  return m ? m[1] : null;
}

const other = (scope: Scope): Scope => (scope === 'submit' ? 'runner' : 'submit');

/**
 * Throws a problem+json naming the `authorization` field unless the request carries the bearer
 * token of `scope`: 403 when the scope is disabled (secret unset, or equal to the other scope's)
 * or when the token is the other scope's; 401 (with `WWW-Authenticate`) when it is missing or wrong.
 */
export async function requireScope(c: AppContext, scope: Scope): Promise<void> {
  const own = SCOPES[scope];
  const theirs = SCOPES[other(scope)];
  const secret = secretOf(c.env, scope);
  const otherSecret = secretOf(c.env, other(scope));
  const challenge = { 'www-authenticate': `Bearer realm="faultlines", scope="${scope}"` };
  if (!secret) {
    throw new ProblemError(403, 'forbidden', `${own.what} are disabled: the worker has no ${own.secret} secret (npx wrangler secret put ${own.secret}; locally .dev.vars)`, { field: 'authorization', scope });
  }
  if (otherSecret && (await sameSecret(secret, otherSecret))) {
    throw new ProblemError(403, 'forbidden', `${own.what} are disabled: ${own.secret} equals ${theirs.secret}; the two scopes need different secrets`, { field: 'authorization', scope });
  }
  const token = bearerToken(c.req.header('authorization'));
  if (token === null) {
    throw new ProblemError(401, 'unauthorized', `${own.what} need Authorization: Bearer <${own.secret}>`, { field: 'authorization', scope }, challenge);
  }
  // Both comparisons always run, so the time does not tell which one matched.
  const [mine, wrongScope] = await Promise.all([sameSecret(token, secret), otherSecret ? sameSecret(token, otherSecret) : Promise.resolve(false)]);
  if (mine) return;
  if (wrongScope) {
    throw new ProblemError(403, 'forbidden', `this is the ${theirs.secret}; ${own.what} need the ${own.secret} (scope "${scope}")`, { field: 'authorization', scope });
  }
  throw new ProblemError(401, 'unauthorized', `wrong token for ${own.what} (Authorization: Bearer <${own.secret}>)`, { field: 'authorization', scope }, challenge);
}

/** Middleware: every request under its path needs the bearer token of `scope`. */
export const requireScopeFor = (scope: Scope) => async (c: AppContext, next: () => Promise<void>): Promise<void> => {
  await requireScope(c, scope);
  await next();
};

function secretOf(env: Env, scope: Scope): string | undefined {
  const v = env[SCOPES[scope].secret];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
