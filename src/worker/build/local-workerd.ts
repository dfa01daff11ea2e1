/**
 * The built worker (dist/worker) on local workerd through Miniflare, configured from wrangler.toml
 * (bindings, Durable Objects, assets) — the one definition the tests and the benchmarks boot.
 */
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

/** Starts the bundle on a free loopback port, serving `assetsDir` as its static assets. */
export async function startLocalWorkerd(assetsDir: string, bindings: Record<string, string> = {}): Promise<{ mf: Miniflare; url: URL }> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml', undefined, { overrides: { assets: { directory: assetsDir } } });
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: true,
    scriptPath: 'dist/worker/index.mjs',
    modulesRoot: 'dist/worker',
    modulesRules: [
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
      { type: 'ESModule', include: ['**/*.mjs'] },
    ],
    bindings,
    host: '127.0.0.1',
    port: 0,
  } as ConstructorParameters<typeof Miniflare>[0]);
  return { mf, url: await mf.ready };
}
