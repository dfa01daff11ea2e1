/**
 * Access scopes (issue #8): the endpoints that write are bearer-token protected, one secret per
 * scope, and a token of one scope is refused by the other's endpoints.
 *
 * - `submit` (secret `SUBMIT_TOKEN`): endpoints that submit work (`POST /v1/jobs`) or models
 *   (`POST /v1/classifiers`).
 * - `runner` (secret `RUNNER_TOKEN`): the GPU runners' endpoints (`/v1/runner/*`).
 *
 * A scope whose secret is unset is disabled (403), as are both scopes when the two secrets are
 * equal (they would not be separate). Tokens are checked by Hono's `bearerAuth` and compared with
 * its `timingSafeEqual` (SHA-256 of both sides, then a constant-time comparison). Secrets come from Worker secrets
 * (`npx wrangler secret put SUBMIT_TOKEN`) or, locally, from `.dev.vars` (never the repository).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { Env } from './env.js';
import type { AppContext, AppEnv } from './http.js';
import { ProblemError, problem, problemResponse } from './problem.js';

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
    description:
      'Submitter scope: the Worker secret SUBMIT_TOKEN (`npx wrangler secret put SUBMIT_TOKEN`; locally ' +
      '`.dev.vars`). Needed by POST /v1/jobs and POST /v1/classifiers; refused by the runner endpoints.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'runnerToken', {
    type: 'http',
    scheme: 'bearer',
    description:
      'Runner scope: the Worker secret RUNNER_TOKEN (`npx wrangler secret put ' +
      'RUNNER_TOKEN`; locally `.dev.vars`). Needed by /v1/runner/*; refused by job submission.',
  });
}

const other = (scope: Scope): Scope => (scope === 'submit' ? 'runner' : 'submit');

/**
 * Hono's `bearerAuth`, one per scope: it parses `Authorization: Bearer <token>` (RFC 6750 token68
 * characters; anything else is refused like a missing token) and answers with our problem+json
 * bodies, 401 and a `WWW-Authenticate` challenge naming the scope. The comparisons are Hono's
 * `timingSafeEqual` (SHA-256 of both sides, then a constant-time comparison). The token is compared
 * with both scopes' secrets every time, so the time does not tell which one matched; the other
 * scope's token gets 403 instead of 401.
 */
function scopeGuard(scope: Scope): MiddlewareHandler<AppEnv> {
  const own = SCOPES[scope];
  const theirs = SCOPES[other(scope)];
  const challenge = `Bearer realm="faultlines", scope="${scope}"`;
  const unauthorized = (detail: string) => () =>
    problemResponse(problem(401, 'unauthorized', detail, { field: 'authorization', scope }), {
      'www-authenticate': challenge,
    });
  const missing = {
    message: unauthorized(`${own.what} need Authorization: Bearer <${own.secret}>`),
    wwwAuthenticateHeader: challenge,
  };
  return bearerAuth<AppEnv>({
    noAuthenticationHeader: missing,
    invalidAuthenticationHeader: missing,
    invalidToken: {
      message: unauthorized(`wrong token for ${own.what} (Authorization: Bearer <${own.secret}>)`),
      wwwAuthenticateHeader: challenge,
    },
    verifyToken: async (token, c) => {
      const secret = secretOf(c.env, scope) ?? '';
      const otherSecret = secretOf(c.env, other(scope));
      const [mine, wrongScope] = await Promise.all([
        timingSafeEqual(token, secret),
        otherSecret ? timingSafeEqual(token, otherSecret) : Promise.resolve(false),
      ]);
      if (!mine && wrongScope) {
        throw new ProblemError(
          403,
          'forbidden',
          `this is the ${theirs.secret}; ${own.what} need the ${own.secret} (scope "${scope}")`,
          { field: 'authorization', scope },
        );
      }
      return mine;
    },
  });
}

const GUARDS: Record<Scope, MiddlewareHandler<AppEnv>> = { submit: scopeGuard('submit'), runner: scopeGuard('runner') };

/**
 * Middleware: every request under its path needs the bearer token of `scope`. 403 problem+json
 * naming the `authorization` field when the scope is disabled (its secret unset, or equal to the
 * other scope's), whatever the token; then the scope's bearer check (401 or 403, see scopeGuard).
 */
export const requireScopeFor =
  (scope: Scope): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const own = SCOPES[scope];
    const theirs = SCOPES[other(scope)];
    const secret = secretOf(c.env, scope);
    const otherSecret = secretOf(c.env, other(scope));
    if (!secret) {
      throw new ProblemError(
        403,
        'forbidden',
        `${own.what} are disabled: the worker has no ${own.secret} secret (npx wrangler secret put ${own.secret}; locally .dev.vars)`,
        { field: 'authorization', scope },
      );
    }
    if (otherSecret && (await timingSafeEqual(secret, otherSecret))) {
      throw new ProblemError(
        403,
        'forbidden',
        `${own.what} are disabled: ${own.secret} equals ${theirs.secret}; the two scopes need different secrets`,
        { field: 'authorization', scope },
      );
    }
    return GUARDS[scope](c, next);
  };

/** The same check inside a handler (before it reads the body): throws the refusal, else returns. */
export async function requireScope(c: AppContext, scope: Scope): Promise<void> {
  await requireScopeFor(scope)(c, async () => {});
}

function secretOf(env: Env, scope: Scope): string | undefined {
  const v = env[SCOPES[scope].secret];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
