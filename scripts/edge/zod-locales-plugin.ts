/**
 * esbuild plugin: zod's error-message locales reduced to English in the worker bundle.
 *
 * zod 4 exports every locale (about 50 languages, ~270 KiB minified) from its namespace
 * (`z.locales`), so none can be tree-shaken; in workerd every byte of the bundle is parsed at
 * isolate start-up, where parsing dominated the cold start (bench:edge, docs/operations-and-deploy.md).
 * The worker only ever uses English messages, zod's default (`config(en())`), so the locale barrel
 * resolves to a module exporting `en` alone; `z.locales.en` keeps working, other locales are absent.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'esbuild';

export function zodEnglishOnlyPlugin(): Plugin {
  const require = createRequire(import.meta.url);
  const zodRoot = path.dirname(require.resolve('zod/package.json'));
  const english = path.join(zodRoot, 'v4', 'locales', 'en.js');
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
        args.importer.startsWith(zodRoot) ? { path: 'locales', namespace: 'zod-english-only' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
        contents: `export { default as en } from ${JSON.stringify(english)};`,
        loader: 'js',
        resolveDir: zodRoot,
      }));
    },
  };
}
