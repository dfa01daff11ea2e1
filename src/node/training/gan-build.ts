/**
 * Bundles the stand-alone trainer: `npx tsx src/node/training/gan-build.ts [outfile]`
 * (default checkpoints/generator/train-cli.mjs). Same options as the project's node build.
 */
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { nodeBuild } from '../../../esbuild.config.js';

const { positionals } = parseArgs({ args: process.argv.slice(2), options: {}, allowPositionals: true, strict: true });
if (positionals.length > 1) throw new Error(`one output file, got ${positionals.join(' ')}`);
const outfile = positionals[0] ?? 'checkpoints/generator/train-cli.mjs';
await build({
  ...nodeBuild,
  entryPoints: ['src/node/training/gan-main.ts'],
  outdir: undefined,
  outExtension: undefined,
  outfile,
  sourcemap: false,
});
process.stdout.write(`wrote ${outfile}\n`);
