/**
 * The Faultlines edge worker (Cloudflare Workers / workerd): the Hono API and the job board
 * Durable Object. Built by `npm run build:edge` into dist/worker/ (see esbuild.config.ts).
 */
import { buildApp } from './app.js';
import type { Env } from './env.js';

export { JobBoard } from './jobs/board.js';

const app = buildApp();

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    return app.fetch(request, env, ctx as never);
  },
};
