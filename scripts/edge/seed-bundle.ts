/** Bundles the seeding script for Node (like the CLI: tfjs-core's ESM needs bundling) into dist/edge-seed.mjs. */
import { build } from 'esbuild';
import { nodeBuild } from '../../esbuild.config.js';

await build({ ...nodeBuild, entryPoints: { 'edge-seed': 'scripts/edge/seed.ts' } });
