/** The widgets manifest the asset build writes (module URLs by widget), read once per isolate. */
import type { WidgetsManifest } from '../../protocol/widgets-manifest.js';
import type { Env } from '../env.js';
import { ProblemError } from '../problem.js';
import { fetchAsset } from '../static-assets.js';

let manifest: Promise<WidgetsManifest> | null = null;
export function widgetsManifest(env: Env): Promise<WidgetsManifest> {
  manifest ??= (async () => {
    const res = await fetchAsset(env, '/widgets/v1/manifest.json');
    if (!res.ok) throw new ProblemError(503, 'unavailable', 'the widgets bundle was not built (npm run build:edge)');
    return (await res.json()) as WidgetsManifest;
  })();
  manifest.catch(() => (manifest = null));
  return manifest;
}
