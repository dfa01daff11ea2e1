/**
 * `faultlines evaluate` — accuracy of a domain's built-in classifiers on each of its test variants
 * (clean and corrupted; for coloured MNIST, independent and spurious colours).
 */
import { evaluateClassifier, type Classifier } from '../../core/classifier/classifier.js';
import * as tf from '../../core/tf.js';
import { IMAGE_SIZE, selectDigits, type DigitSet } from '../../core/data/digits.js';
import type { ColourDigitSet } from '../../core/data/colour.js';
import { enumOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDomainSet } from '../domain-data.js';
import { COLOUR, DEFAULT_DOMAIN, domainNames, getDomain } from '../../core/data/domain.js';
import { loadBuiltinClassifier } from '../builtin-models.js';

export const summary = "accuracy of a domain's built-in classifiers on each of its test variants";

const usage = `usage: faultlines evaluate [--domain ${domainNames().join('|')}] [--backend wasm|cpu] [--json] [--by-severity] [--by-colour]

  --by-colour    colour domain: also the accuracy on digits in their label's colour and in another
                 colour, and the share of the latter's mistakes that name the class of the digit's colour
  --by-severity  also the accuracy on the corrupted split's clean and corrupted halves and per
                 (blur, noise) severity cell, from each sample's corruption metadata (domains with
                 corrupted data)`;

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

/**
 * The spurious-colour shortcut, measured: on a colour test split, the accuracy where the digit is in
 * its label's colour and where it is not, and how many of the latter mistakes name the class whose
 * colour the digit has (a classifier reading colour instead of shape).
 */
export async function byColour(
  classifier: Classifier,
  test: ColourDigitSet,
): Promise<{ labelColour: number; otherColour: number; mistakesNamingTheColour: number; count: number[] }> {
  const keep = (f: (i: number) => boolean) => Array.from({ length: test.count }, (_, i) => i).filter(f);
  const same = keep((i) => test.foreground[i] === test.labels[i]);
  const other = keep((i) => test.foreground[i] !== test.labels[i]);
  const accuracyOf = async (idx: number[]) => {
    const subset = selectDigits(test, idx);
    return (await evaluateClassifier(classifier, subset.images, subset.labels, 500, undefined, 3)).accuracy;
  };
  // Predictions on the other-colour digits, to see which wrong class they go to.
  const subset = selectDigits(test, other);
  const predicted = tf.tidy(() =>
    tf.argMax(classifier.logits(tf.tensor4d(subset.images, [subset.count, IMAGE_SIZE, IMAGE_SIZE, 3])), 1),
  );
  const p = await predicted.data();
  predicted.dispose();
  let wrong = 0;
  let namingColour = 0;
  other.forEach((i, k) => {
    if (p[k] === test.labels[i]) return;
    wrong++;
    if (p[k] === test.foreground[i]) namingColour++;
  });
  return {
    labelColour: await accuracyOf(same),
    otherColour: await accuracyOf(other),
    mistakesNamingTheColour: wrong === 0 ? 0 : namingColour / wrong,
    count: [same.length, other.length],
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
      'by-colour': { type: 'boolean', default: false },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  if (o['by-severity'] && !domain.variants.includes('corrupted'))
    throw new Error(`--by-severity needs corrupted data; domain "${domain.name}" has ${domain.variants.join(', ')}`);
  if (o['by-colour'] && domain.name !== COLOUR.name)
    throw new Error(`--by-colour needs the colour domain, got "${domain.name}"`);
  const rows: Array<
    { classifier: string; bySeverity?: Awaited<ReturnType<typeof bySeverity>>; recorded: Record<string, unknown> } & {
      [variant: string]: unknown;
    }
  > = [];
  const accuracies: Array<Record<string, number>> = [];
  for (const variant of domain.classifierVariants) {
    const name = `classifier-${variant}`;
    const { classifier, manifest } = loadBuiltinClassifier(name, domain.name);
    const acc: Record<string, number> = {};
    for (const testVariant of domain.variants) {
      const test = loadDomainSet(domain, 'test', testVariant);
      acc[testVariant] = (
        await evaluateClassifier(classifier, test.images, test.labels, 500, undefined, domain.image.channels)
      ).accuracy;
    }
    const severity = o['by-severity']
      ? await bySeverity(classifier, loadDomainSet(domain, 'test', 'corrupted'))
      : undefined;
    const colour = o['by-colour']
      ? Object.fromEntries(
          await Promise.all(
            domain.variants.map(
              async (v) => [v, await byColour(classifier, loadDomainSet(domain, 'test', v) as ColourDigitSet)] as const,
            ),
          ),
        )
      : undefined;
    accuracies.push(acc);
    rows.push({
      classifier: name,
      ...acc,
      ...(severity ? { bySeverity: severity } : {}),
      ...(colour ? { byColour: colour } : {}),
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
  const heads = domain.variants.map((v) => `${v} test`);
  const widths = heads.map((h) => Math.max(10, h.length + 1));
  process.stdout.write(`${'classifier'.padEnd(22)} ${heads.map((h, k) => h.padStart(widths[k])).join(' ')}\n`);
  rows.forEach((r, i) => {
    const cells = domain.variants.map((v, k) => `${(100 * accuracies[i][v]).toFixed(2)}%`.padStart(widths[k]));
    process.stdout.write(`${r.classifier.padEnd(22)} ${cells.join(' ')}\n`);
  });
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  for (const r of rows) {
    if (!r.byColour) continue;
    for (const [v, c] of Object.entries(r.byColour as Record<string, Awaited<ReturnType<typeof byColour>>>)) {
      process.stdout.write(
        `\n${r.classifier} on the ${v} test split: digits in their label's colour ${pct(c.labelColour)} (${c.count[0]}), in another colour ` +
          `${pct(c.otherColour)} (${c.count[1]}); ${pct(c.mistakesNamingTheColour)} of the latter's mistakes name the class of the digit's colour`,
      );
    }
    process.stdout.write('\n');
  }
  for (const r of rows) {
    if (!r.bySeverity) continue;
    const sv = r.bySeverity;
    process.stdout.write(
      `\n${r.classifier} on the corrupted split: clean half ${pct(sv.cleanHalf)}, ` +
        `corrupted half ${pct(sv.corruptedHalf)}; blur (rows) x noise (columns) severity 1-3:\n`,
    );
    sv.cells.forEach((row, b) => process.stdout.write(`  blur ${b + 1}: ${row.map(pct).join('  ')}\n`));
  }
}
