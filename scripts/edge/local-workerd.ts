/**
 * The built worker (dist/worker) on local workerd through Miniflare, configured from wrangler.toml
 * (bindings, Durable Objects, assets) — the one definition the tests and the benchmarks boot.
 */
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
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: true,
    scriptPath: `${opts.workerDir ?? 'dist/worker'}/index.mjs`,
    modulesRoot: opts.workerDir ?? 'dist/worker',
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'ESModule', include: ['**/*.mjs'] },
    ],
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
