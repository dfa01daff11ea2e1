/**
 * The built worker (dist/worker) on local workerd through Miniflare, configured from wrangler.toml
 * (bindings, Durable Objects, assets) — the one definition the tests and the benchmarks boot.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

export interface LocalWorkerdOptions {
  /**
   * Keep the Durable Objects' SQLite, KV and cache in this folder (Miniflare's
   * `defaultPersistRoot`), so a new instance started on it finds the state of the last one; by
   * default the state lives in Miniflare's temporary folder and is gone after `dispose()`.
   */
  persistDir?: string;
  /** Loopback port (default: a free one). */
  port?: number;
  /** The built worker to run (default dist/worker): a benchmark may run a saved earlier build against the current one. */
  workerDir?: string;
  /** Its wrangler configuration (default wrangler.toml): an earlier build needs its own bindings. */
  configPath?: string;
  /**
   * Let Miniflare find the modules itself from the entry's imports (`scriptPath`, `modules: true`)
   * instead of handing it the module list: how this harness started workers until issue #19. Only
   * `npm run bench:edge` sets it, to measure what that discovery costs beside the listing.
   */
  discoverModules?: boolean;
}

/**
 * The worker's modules as wrangler uploads them (wrangler.toml: `find_additional_modules` under
 * `base_dir` with the ESModule and CompiledWasm rules): every .mjs and .wasm file of `workerDir`,
 * the entry first. Handing Miniflare this list rather than the entry alone matters for start-up:
 * to discover modules itself it parses every JavaScript module with acorn in Node on each start,
 * about 3 s of a 5.8 s start-up on this machine at load 8 (issue #19), none of which happens in
 * `wrangler dev` or on Cloudflare, which receive the list.
 */
export function workerModules(workerDir: string): Array<{ type: 'ESModule' | 'CompiledWasm'; path: string }> {
  const files = (readdirSync(workerDir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.mjs') || f.endsWith('.wasm'))
    .sort((a, b) => Number(b === 'index.mjs') - Number(a === 'index.mjs') || a.localeCompare(b));
  if (files[0] !== 'index.mjs') throw new Error(`${workerDir}: no index.mjs (run npm run build:edge)`);
  return files.map((f) => ({
    type: f.endsWith('.wasm') ? 'CompiledWasm' : 'ESModule',
    path: path.join(workerDir, f),
  }));
}

/**
 * The per-client read rate limit (wrangler.toml [[ratelimits]] READ_LIMITER), replaced for a test or
 * a benchmark: `limit` requests per `period` s per client IP (Miniflare simulates it in memory).
 */
export interface ReadRateLimit {
  limit: number;
  period?: 10 | 60;
}

/** Starts the bundle on a loopback port, serving `assetsDir` as its static assets. */
export async function startLocalWorkerd(
  assetsDir: string,
  bindings: Record<string, string> = {},
  opts: LocalWorkerdOptions & { readRateLimit?: ReadRateLimit } = {},
): Promise<{ mf: Miniflare; url: URL }> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(opts.configPath ?? 'wrangler.toml', undefined, {
    overrides: { assets: { directory: assetsDir } },
  });
  const workerDir = opts.workerDir ?? 'dist/worker';
  const mf = new Miniflare({
    ...(workerOptions as object),
    ...(opts.discoverModules
      ? {
          modules: true,
          scriptPath: `${workerDir}/index.mjs`,
          modulesRules: [
            { type: 'CompiledWasm', include: ['**/*.wasm'] },
            { type: 'ESModule', include: ['**/*.mjs'] },
          ],
        }
      : { modules: workerModules(workerDir) }),
    modulesRoot: workerDir,
    // The worker's vars and secrets are exactly these (a developer's .dev.vars is not read).
    bindings,
    ...(opts.readRateLimit === undefined
      ? {}
      : {
          ratelimits: {
            READ_LIMITER: { simple: { limit: opts.readRateLimit.limit, period: opts.readRateLimit.period ?? 10 } },
          },
        }),
    host: '127.0.0.1',
    port: opts.port ?? 0,
    ...(opts.persistDir === undefined ? {} : { defaultPersistRoot: opts.persistDir }),
  } as ConstructorParameters<typeof Miniflare>[0]);
  return { mf, url: await mf.ready };
}
