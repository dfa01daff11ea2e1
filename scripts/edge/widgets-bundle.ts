/**
 * Builds the browser bundles the worker serves as static assets (called by `npm run build:edge`
 * after the other assets are written):
 *   widgets/v1/faultlines-widgets.js            the web components (Lit + Chart.js), stable URL
 *   widgets/v1/faultlines-widgets.<hash>.js     the same bytes, content-addressed (immutable)
 *   dashboard/v1/dashboard.<hash>.js            the dashboard; imports the hashed widgets module
 *   widgets/v1/manifest.json                    file names, hashes and sizes (read by the worker)
 */
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { WIDGETS_MANIFEST_PATH, type WidgetsManifest } from '../../src/protocol/widgets-manifest.js';

async function bundle(entry: string, plugins: Plugin[] = []): Promise<Uint8Array> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2021',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins,
  });
  return r.outputFiles[0].contents;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function buildWidgets(assetsDir: string): Promise<WidgetsManifest> {
  const widgets = await bundle('src/widgets/index.ts');
  const wh = sha(widgets);
  const widgetsHashed = `/widgets/v1/faultlines-widgets.${wh.slice(0, 12)}.js`;
  // The dashboard imports the widgets module the page already loaded (one copy of Lit and Chart.js).
  const external: Plugin = {
    name: 'faultlines-widgets-external',
    setup(b) {
      b.onResolve({ filter: /widgets\/index\.js$/ }, () => ({ path: widgetsHashed, external: true }));
    },
  };
  const dashboard = await bundle('src/dashboard/main.ts', [external]);
  const dh = sha(dashboard);
  const dashboardHashed = `/dashboard/v1/dashboard.${dh.slice(0, 12)}.js`;
  const put = (p: string, bytes: Uint8Array) => {
    const file = path.join(assetsDir, p);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  };
  put('/widgets/v1/faultlines-widgets.js', widgets);
  put(widgetsHashed, widgets);
  put(dashboardHashed, dashboard);
  const manifest: WidgetsManifest = {
    schema: 'faultlines.widgets-manifest/1',
    widgets: {
      stable: '/widgets/v1/faultlines-widgets.js',
      hashed: widgetsHashed,
      bytes: widgets.length,
      gzipBytes: gzipSync(widgets, { level: 9 }).length,
      sha256: wh,
    },
    dashboard: {
      hashed: dashboardHashed,
      bytes: dashboard.length,
      gzipBytes: gzipSync(dashboard, { level: 9 }).length,
      sha256: dh,
    },
  };
  put(WIDGETS_MANIFEST_PATH, new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
  return manifest;
}
