/**
 * `faultlines evaluate` — accuracy of the built-in classifiers on the clean and corrupted test splits.
 */
import { evaluateClassifier } from '../../core/classifier/classifier.js';
import { enumOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDomainSet } from '../domain-data.js';
import { DEFAULT_DOMAIN, domainNames, getDomain } from '../../core/data/domain.js';
import { BUILTIN_CLASSIFIERS, loadBuiltinClassifier } from '../models.js';

export const summary = 'accuracy of the built-in classifiers on clean and corrupted test digits';

const usage = `usage: faultlines evaluate [--domain ${domainNames().join('|')}] [--backend wasm|cpu] [--json]`;

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(args, { backend: { type: 'string', default: 'wasm' }, json: { type: 'boolean', default: false }, domain: { type: 'string', default: DEFAULT_DOMAIN } }, usage);
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const rows: Array<{ classifier: string; clean: number; corrupted: number; recorded: Record<string, unknown> }> = [];
  for (const name of BUILTIN_CLASSIFIERS) {
    const { classifier, manifest } = loadBuiltinClassifier(name, domain.name);
    const acc: Record<string, number> = {};
    for (const variant of ['clean', 'corrupted'] as const) {
      const test = loadDomainSet(domain, 'test', variant);
      acc[variant] = (await evaluateClassifier(classifier, test.images, test.labels)).accuracy;
    }
    rows.push({ classifier: name, clean: acc.clean, corrupted: acc.corrupted, recorded: manifest.metrics });
    classifier.dispose();
  }
  if (o.json) return void process.stdout.write(JSON.stringify(rows.map(({ recorded: _r, ...r }) => r), null, 2) + '\n');
  process.stdout.write(`accuracy on the ${domain.counts.test.toLocaleString('en-US')} ${domain.title} test images (padded to ${domain.image.size}x${domain.image.size})\n\n`);
  process.stdout.write(`${'classifier'.padEnd(22)} ${'clean test'.padStart(10)} ${'corrupted test'.padStart(15)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.classifier.padEnd(22)} ${(100 * r.clean).toFixed(2).padStart(9)}% ${(100 * r.corrupted).toFixed(2).padStart(14)}%\n`);
  }
}
