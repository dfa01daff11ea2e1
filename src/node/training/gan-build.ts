/**
 * Bundles the stand-alone trainer: `npx tsx src/node/training/gan-build.ts [outfile]`
 * (default checkpoints/generator/train-cli.mjs). Same options as the project's node build.
 */
import { build } from 'esbuild';
import { nodeBuild } from '../../../esbuild.config.js';

const outfile = process.argv[2] ?? 'checkpoints/generator/train-cli.mjs';
await build({
  ...nodeBuild,
  entryPoints: ['src/node/training/gan-main.ts'],
  outdir: undefined,
  outExtension: undefined,
  outfile,
  sourcemap: false,
});
process.stdout.write(`wrote ${outfile}\n`);
