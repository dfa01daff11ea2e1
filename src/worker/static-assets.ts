/** Reads from the static assets binding (wrangler [assets]: weights, catalog, precomputed results, widgets, docs). */
import type { Env } from './env.js';

/**
 * The binding serves by path only and ignores the origin, but a Request needs an absolute URL: one
 * made-up origin, here, so no caller spells it.
 */
const ASSET_ORIGIN = 'https://assets.local';

/** The static asset at `pathname` (starting with `/`). */
export function fetchAsset(env: Env, pathname: string): Promise<Response> {
  return env.ASSETS.fetch(new Request(ASSET_ORIGIN + pathname));
}
