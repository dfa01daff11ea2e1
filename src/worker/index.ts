/**
 * The Faultlines edge worker (Cloudflare Workers / workerd): the Hono API and the job board's
 * Durable Objects (a board per job, and the job index). Built by `npm run build:edge` into dist/worker/ (see esbuild.config.ts).
 */
import { buildApp } from './app.js';
import type { Env } from './env.js';

export { JobBoard } from './jobs/board.js';
export { JobIndex } from './jobs/job-index.js';

const app = buildApp();

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    return app.fetch(request, env, ctx as never);
  },
};
