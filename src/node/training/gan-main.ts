/**
 * Stand-alone entry of `train-generator` (bundled to its own file for the long background run, so
 * rebuilding dist/cli.mjs does not touch a running training process).
 */
import { run } from '../commands/train-generator.js';

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`train-generator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
