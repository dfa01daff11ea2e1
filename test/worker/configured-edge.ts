/**
 * The real worker bundle on workerd with the secrets, vars and read rate limit a test chooses
 * (access scopes, rate limiting, the live-compute limiter, the load test), on a copy of the built
 * assets with the default classifier's cached results present (synthetic where the precomputed
 * ones are stale: harness.ts ensureCachedResults).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Miniflare } from 'miniflare';
import { startLocalWorkerd, type ReadRateLimit } from '../../scripts/edge/local-workerd.js';
import type { Catalog } from '../../src/protocol/catalog.js';
import { ensureBuilt, ensureCachedResults } from './harness.js';

export interface ConfiguredEdge {
  url: URL;
  mf: Miniflare;
  catalog: Catalog;
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startConfiguredEdge(
  bindings: Record<string, string>,
  readRateLimit?: ReadRateLimit,
): Promise<ConfiguredEdge> {
  await ensureBuilt();
  const assets = mkdtempSync(path.join(os.tmpdir(), 'faultlines-edge-'));
  cpSync('dist/edge-assets', assets, { recursive: true });
  const catalog = JSON.parse(readFileSync(path.join(assets, 'catalog.json'), 'utf8')) as Catalog;
  ensureCachedResults(assets, catalog);
  const { mf, url } = await startLocalWorkerd(assets, bindings, readRateLimit ? { readRateLimit } : {});
  return {
    url,
    mf,
    catalog,
    fetch: (p, init) => fetch(new URL(p, url), init),
    close: async () => {
      await mf.dispose();
      rmSync(assets, { recursive: true, force: true });
    },
  };
}
