/**
 * The widgets manifest: written by the asset build (scripts/edge/widgets-bundle.ts) beside the
 * browser bundles, read by the worker to serve them (src/worker/routes/widgets.ts).
 */
export const WIDGETS_MANIFEST_PATH = '/widgets/v1/manifest.json';

export interface WidgetsManifest {
  schema: 'faultlines.widgets-manifest/1';
  widgets: { stable: string; hashed: string; bytes: number; gzipBytes: number; sha256: string };
  dashboard: { hashed: string; bytes: number; gzipBytes: number; sha256: string };
}
