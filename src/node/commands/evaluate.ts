/**
 * `faultlines evaluate` — accuracy of the built-in classifiers on the clean and corrupted test splits.
 */
import { evaluateClassifier } from '../../core/classifier/classifier.js';
import { enumOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDigits } from '../mnist.js';
import { BUILTIN_CLASSIFIERS, loadBuiltinClassifier } from '../models.js';

export const summary = 'accuracy of the built-in classifiers on clean and corrupted test digits';

const usage = 'usage: faultlines evaluate [--backend wasm|cpu] [--json]';

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(args, { backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean', default: false } }, usage);
  if (o.help) return void process.stdout.write(usage + '\n');
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const rows: Array<{ classifier: string; clean: number; corrupted: number; recorded: Record<string, unknown> }> = [];
  for (const name of BUILTIN_CLASSIFIERS) {
    const { classifier, manifest } = loadBuiltinClassifier(name);
    const acc: Record<string, number> = {};
    for (const variant of ['clean', 'corrupted'] as const) {
      const test = loadDigits('test', variant);
      acc[variant] = (await evaluateClassifier(classifier, test.images, test.labels)).accuracy;
    }
    rows.push({ classifier: name, clean: acc.clean, corrupted: acc.corrupted, recorded: manifest.metrics });
    classifier.dispose();
  }
  if (o.json) return void process.stdout.write(JSON.stringify(rows.map(({ recorded: _r, ...r }) => r), null, 2) + '\n');
  process.stdout.write('accuracy on the 10,000 MNIST test digits (padded to 32x32)\n\n');
  process.stdout.write(`${'classifier'.padEnd(22)} ${'clean test'.padStart(10)} ${'corrupted test'.padStart(15)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.classifier.padEnd(22)} ${(100 * r.clean).toFixed(2).padStart(9)}% ${(100 * r.corrupted).toFixed(2).padStart(14)}%\n`);
  }
}
