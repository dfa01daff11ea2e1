/**
 * `npm run eval:colour-ink-reference` — the yardstick for coloured MNIST's painted generator
 * (docs/colored-mnist/training.md, "Generator"). The generator's ink comes from MNIST's generator,
 * which learned CORRUPTED digits (half blurred or noisy), while coloured MNIST paints CLEAN digits.
 * This measures what that mismatch alone costs: real corrupted MNIST training digits, painted with
 * the domain's independent colours, measured exactly as `eval-generator --domain colored-mnist`
 * measures the generator (the same class-consistency classifier, feature extractor, real test
 * subset and real-vs-real floor). A perfect corrupted-digit generator, painted, would score this.
 *
 * Writes docs/colored-mnist/generator/ink-reference.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COLOUR_SEEDS, colourDigits } from '../src/core/data/colour.js';
import { classBalancedSpread, selectDigits } from '../src/core/data/digits.js';
import { COLOUR } from '../src/core/data/domain.js';
import { generatorQuality } from '../src/core/evaluation/generator-quality.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadFeatureExtractor } from '../src/node/builtin-models.js';
import { loadDomainSet } from '../src/node/domain-data.js';
import { loadDigits } from '../src/node/mnist.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '10000' },
    out: { type: 'string', default: 'docs/colored-mnist/generator/ink-reference.json' },
  },
});
const samples = Number(values.samples);
if (!Number.isInteger(samples) || samples < 100 || samples > 60_000)
  throw new Error(`--samples must be an integer in [100, 60000], got ${values.samples}`);

await useBackend('wasm');
const variant = COLOUR.generatorVariant;
const { classifier } = loadBuiltinClassifier(`classifier-${variant}`, COLOUR.name);
const { featureExtractor: extractor } = loadFeatureExtractor(COLOUR.name);

// The "generated" side: MNIST's corrupted training digits (what the ink generator learned), painted
// with the domain's independent colours, class-balanced like generateSamples' class i mod K.
const corrupted = loadDigits('train', 'corrupted');
const picked = selectDigits(corrupted, classBalancedSpread(corrupted.labels, samples));
const painted = colourDigits(picked, 'independent', COLOUR_SEEDS.train.independent);
// The real side and its floor: as eval-generator takes them.
const real = loadDomainSet(COLOUR, 'test', variant);
const realSubset = samples < real.count ? selectDigits(real, classBalancedSpread(real.labels, samples)) : real;
const train = loadDomainSet(COLOUR, 'train', variant);
const floor = selectDigits(train, classBalancedSpread(train.labels, Math.min(realSubset.count, train.count)));
const quality = await generatorQuality(
  { count: painted.count, channels: 3, images: painted.images, labels: painted.labels },
  realSubset,
  floor,
  classifier,
  extractor,
);
const result = {
  what: 'real corrupted MNIST training digits painted with independent colours, measured as eval-generator measures the generator',
  samples: painted.count,
  classConsistency: quality.classConsistency,
  frechet: quality.frechet,
  command: `npm run eval:colour-ink-reference -- --samples ${samples}`,
};
mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(
  `consistency ${(100 * quality.classConsistency.generated).toFixed(2)}% (real ${(100 * quality.classConsistency.realAccuracy).toFixed(2)}%), ` +
    `Fréchet ${quality.frechet.generatedVsReal.toFixed(2)} (floor ${quality.frechet.realVsReal.toFixed(3)}, ratio ${quality.frechet.ratio.toFixed(1)})\n` +
    `wrote ${values.out}\n`,
);
