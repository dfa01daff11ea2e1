/**
 * `faultlines evaluate` — accuracy of the built-in classifiers on the clean and corrupted test splits.
 */
import { evaluateClassifier, type Classifier } from '../../core/classifier/classifier.js';
import { selectDigits, type DigitSet } from '../../core/data/digits.js';
import { enumOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDomainSet } from '../domain-data.js';
import { DEFAULT_DOMAIN, domainNames, getDomain } from '../../core/data/domain.js';
import { BUILTIN_CLASSIFIERS, loadBuiltinClassifier } from '../builtin-models.js';

export const summary = 'accuracy of the built-in classifiers on clean and corrupted test digits';

const usage = `usage: faultlines evaluate [--domain ${domainNames().join('|')}] [--backend wasm|cpu] [--json] [--by-severity]

  --by-severity  also the accuracy on the corrupted split's clean and corrupted halves and per
                 (blur, noise) severity cell, from each sample's corruption metadata`;

/** Accuracy on the corrupted split's clean half, its corrupted half, and per [blur - 1][noise - 1] cell. */
export async function bySeverity(
  classifier: Classifier,
  test: DigitSet,
): Promise<{ cleanHalf: number; corruptedHalf: number; cells: number[][] }> {
  const accuracyOf = async (keep: (i: number) => boolean) => {
    const subset = selectDigits(test, Array.from({ length: test.count }, (_, i) => i).filter(keep));
    return (await evaluateClassifier(classifier, subset.images, subset.labels)).accuracy;
  };
  const cells: number[][] = [];
  for (let b = 1; b <= 3; b++) {
    const row: number[] = [];
    for (let n = 1; n <= 3; n++) row.push(await accuracyOf((i) => test.blur[i] === b && test.noise[i] === n));
    cells.push(row);
  }
  return {
    cleanHalf: await accuracyOf((i) => test.blur[i] === 0 && test.noise[i] === 0),
    corruptedHalf: await accuracyOf((i) => test.blur[i] > 0 || test.noise[i] > 0),
    cells,
  };
}

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      backend: { type: 'string', default: 'wasm' },
      json: { type: 'boolean', default: false },
      domain: { type: 'string', default: DEFAULT_DOMAIN },
      'by-severity': { type: 'boolean', default: false },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const rows: Array<{
    classifier: string;
    clean: number;
    corrupted: number;
    bySeverity?: Awaited<ReturnType<typeof bySeverity>>;
    recorded: Record<string, unknown>;
  }> = [];
  for (const name of BUILTIN_CLASSIFIERS) {
    const { classifier, manifest } = loadBuiltinClassifier(name, domain.name);
    const acc: Record<string, number> = {};
    for (const variant of ['clean', 'corrupted'] as const) {
      const test = loadDomainSet(domain, 'test', variant);
      acc[variant] = (await evaluateClassifier(classifier, test.images, test.labels)).accuracy;
    }
    const severity = o['by-severity']
      ? await bySeverity(classifier, loadDomainSet(domain, 'test', 'corrupted'))
      : undefined;
    rows.push({
      classifier: name,
      clean: acc.clean,
      corrupted: acc.corrupted,
      ...(severity ? { bySeverity: severity } : {}),
      recorded: manifest.metrics,
    });
    classifier.dispose();
  }
  if (o.json)
    return void process.stdout.write(
      JSON.stringify(
        rows.map(({ recorded: _r, ...r }) => r),
        null,
        2,
      ) + '\n',
    );
  process.stdout.write(
    `accuracy on the ${domain.counts.test.toLocaleString('en-US')} ${domain.title} test images (padded to ${domain.image.size}x${domain.image.size})\n\n`,
  );
  process.stdout.write(`${'classifier'.padEnd(22)} ${'clean test'.padStart(10)} ${'corrupted test'.padStart(15)}\n`);
  for (const r of rows) {
    process.stdout.write(
      `${r.classifier.padEnd(22)} ${(100 * r.clean).toFixed(2).padStart(9)}% ${(100 * r.corrupted).toFixed(2).padStart(14)}%\n`,
    );
  }
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  for (const r of rows) {
    if (!r.bySeverity) continue;
    const sv = r.bySeverity;
    process.stdout.write(
      `\n${r.classifier} on the corrupted split: clean half ${pct(sv.cleanHalf)}, corrupted half ${pct(sv.corruptedHalf)}; blur (rows) x noise (columns) severity 1-3:\n`,
    );
    sv.cells.forEach((row, b) => process.stdout.write(`  blur ${b + 1}: ${row.map(pct).join('  ')}\n`));
  }
}
