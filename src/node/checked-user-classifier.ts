/**
 * A user's TF.js classifier as the CLI commands load it (analyze, explain): read from disk, its
 * classes checked against the generator's, and its adapter checked on the domain's real test images
 * (printed; a loud warning when implausible) before any analysis runs on it.
 */
import path from 'node:path';
import { adapterSanityCheck, type AdapterSanityCheck } from '../core/classifier/sanity-check.js';
import { domainNames, manifestDomain } from '../core/data/domain.js';
import type { WeightsManifest } from '../core/weights/manifest.js';
import { sanityCheckImages } from './domain-data.js';
import { loadUserClassifier } from './user-model.js';

/** What the checks need to know of the generator the classifier will be analysed with. */
export interface GeneratorClasses {
  /** The generator's weights manifest (its domain says which real images check the adapter). */
  manifest: WeightsManifest;
  /** Its class names, in class order. */
  names: string[];
  /** The sentence that describes them in errors, e.g. "the generator (weights/generator) has 10 classes: …". */
  described: string;
}

/** The real test images that check adapters for this generator, or why there are none. */
export function sanityImagesFor(gen: GeneratorClasses) {
  const domain = manifestDomain(gen.manifest);
  return domain
    ? { images: sanityCheckImages(domain.name), skipped: undefined }
    : {
        images: null,
        skipped:
          `no labelled real test images for the generator's classes (` +
          `${gen.names.join(', ')}): it is not one of the built-in domains (${domainNames().join(', ')})`,
      };
}

/**
 * Loads the model folder `dirArg` with the adapter `adapterArg`, refuses one whose class map does not
 * cover the generator's classes (naming `flag`), and runs and prints the adapter sanity check.
 */
export async function loadCheckedUserClassifier(
  dirArg: string,
  adapterArg: string,
  name: string | undefined,
  flag: string,
  gen: GeneratorClasses,
  sanity: ReturnType<typeof sanityImagesFor>,
) {
  // Loaded from absolute paths; errors name the paths as the user gave them.
  const user = await loadUserClassifier(path.resolve(dirArg), path.resolve(adapterArg), name);
  if (user.classifier.numClasses !== gen.names.length)
    throw new Error(
      `${flag} ${adapterArg}: classes.generatorToModel maps ${user.classifier.numClasses} classes, ${gen.described}`,
    );
  const check = sanity.images
    ? await adapterSanityCheck(user.classifier, sanity.images.sets, sanity.images.data)
    : null;
  process.stdout.write(`${sanityCheckLines(user.classifier.name, check, sanity.skipped).join('\n')}\n`);
  if (check && !check.plausible) process.stderr.write(`\nWARNING: ${check.warning}\n\n`);
  return { user, check };
}

/** The sanity check as printed: accuracy per split, and the verdict. */
function sanityCheckLines(name: string, check: AdapterSanityCheck | null, skipped?: string): string[] {
  if (!check) return [`adapter check of ${name}: skipped, ${skipped}`];
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  return [
    `adapter check of ${name} on real test images (${check.data}):`,
    ...check.splits.map((s) => `  ${s.split.padEnd(10)} accuracy ${pct(s.accuracy).padStart(6)} of ${s.count}`),
    check.plausible
      ? `  plausible (clean accuracy at least ${pct(check.threshold)}; chance ${pct(check.chance)})`
      : `  IMPLAUSIBLE: check ${check.fieldsToCheck.join(', ')}`,
  ];
}
