/**
 * `tsx scripts/bundle-node.ts NAME ENTRY` — bundles a Node script that imports the core into
 * dist/NAME.mjs (then run it with `node dist/NAME.mjs ...`). Why: the core imports tfjs-core's ESM
 * files (its gradients), which Node's resolver cannot load unbundled (`./gradients` is both a file
 * and a folder there), so tsx cannot run such a script directly; like the CLI, it runs bundled.
 */
import { build } from 'esbuild';
import { parseArgs } from 'node:util';
import { nodeBuild } from '../esbuild.config.js';

const { positionals } = parseArgs({ allowPositionals: true });
const [name, entry] = positionals;
if (!name || !entry || positionals.length !== 2) {
  console.error('usage: tsx scripts/bundle-node.ts NAME ENTRY (writes dist/NAME.mjs)');
  process.exit(2);
}
// Packages with native binaries or their own loaders (the edge build's esbuild, the browser and
// workerd launchers) are loaded from node_modules, not bundled.
const external = ['esbuild', 'playwright-core', 'miniflare', 'wrangler'];
await build({ ...nodeBuild, entryPoints: { [name]: entry }, external });
