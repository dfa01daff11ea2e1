/**
 * `faultlines eval-generator` — the generator's quality figures: class consistency, Fréchet distance
 * in an evaluation CNN's feature space (with the real-vs-real floor), corruption coverage, and a
 * 10x10 sample grid (classes x seeds). Writes quality.json + samples.png, and with
 * `--update-manifest` records the figures in the generator's manifest.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { classBalancedSpread, selectDigits } from '../../core/data/digits.js';
import { generateSamples, generatorQuality } from '../../core/evaluation/generator-quality.js';
import { gridPng } from '../../core/image/png.js';
import { latentBatch } from '../../core/random.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDomainSet } from '../domain-data.js';
import { assertSameDomain, DEFAULT_DOMAIN, domainNames, getDomain } from '../../core/data/domain.js';
import { builtinModelPath, loadBuiltinClassifier, loadFeatureExtractor, loadGenerator } from '../builtin-models.js';
import { progressBar } from '../progress.js';
import { weightsRoot } from '../weights-fs.js';

export const summary = 'measure the generator: class consistency, Fréchet distance, corruption coverage, sample grid';

const usage =
  `usage: faultlines eval-generator [--domain ${domainNames().join('|')}] [--generator ` +
  `DIR] [--samples 10000] [--seed 7] [--out docs/generator] [--update-manifest] [--backend wasm|cpu]

  --domain  the real data, the class-consistency classifier and the feature extractor of that domain (default
            mnist): the data variant the generator learns (corrupted for mnist and fashion, independent colours
            for colored-mnist) and the classifier trained on it; for a domain other than mnist --generator
            defaults to weights/<domain>/generator and --out to docs/<domain>/generator`;

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      generator: { type: 'string' },
      samples: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string' },
      domain: { type: 'string', default: DEFAULT_DOMAIN },
      'update-manifest': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'wasm' },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const samples = intOption(o.samples, 'samples', 100, 100_000);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  const outDir = o.out ?? (domain.name === DEFAULT_DOMAIN ? 'docs/generator' : `docs/${domain.name}/generator`);
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const genDir = o.generator
    ? path.resolve(o.generator)
    : path.join(weightsRoot(), builtinModelPath('generator', domain.name));
  const { generator, manifest: genManifest } = loadGenerator(genDir);
  // The generator learns one variant of the domain's data; it is measured against that variant, through
  // the classifier trained on it (MNIST and Fashion-MNIST: corrupted; coloured MNIST: independent colours).
  const variant = domain.generatorVariant;
  const { classifier, manifest: clsManifest } = loadBuiltinClassifier(`classifier-${variant}`, domain.name);
  assertSameDomain(
    { label: `classifier ${clsManifest.name} (${domain.name})`, manifest: clsManifest },
    { label: `generator ${path.relative(process.cwd(), genDir) || genDir}`, manifest: genManifest },
  );
  // Every figure compares with the domain's real images through its built-in CNNs.
  if (generator.arch.numClasses !== classifier.numClasses) {
    throw new Error(
      `eval-generator measures a generator of the ${classifier.numClasses} ${domain.title} classes against ${domain.title}; ` +
        `${path.relative(process.cwd(), genDir) || genDir} has ${generator.arch.numClasses} classes (${generator.classes.names.join(', ')})`,
    );
  }
  const { featureExtractor: extractor } = loadFeatureExtractor(domain.name);

  const t0 = Date.now();
  const bar = progressBar('generate', samples, 'samples');
  const generated = await generateSamples(generator, samples, seed, 250, (d) => bar.update(d));
  bar.stop();
  const real = loadDomainSet(domain, 'test', variant);
  const realSubset = samples < real.count ? selectDigits(real, classBalancedSpread(real.labels, samples)) : real;
  // The floor: as many real training images (another sample of the same distribution).
  const train = loadDomainSet(domain, 'train', variant);
  const floor = selectDigits(train, classBalancedSpread(train.labels, Math.min(realSubset.count, train.count)));
  process.stderr.write('measuring...\n');
  const quality = await generatorQuality(generated, realSubset, floor, classifier, extractor);

  // 10x10 grid: rows = classes, columns = seeds 0-9, unfiltered, const noise.
  const z = latentBatch(seed, 0, 10, generator.arch.zDim);
  const tiles: Float32Array[] = [];
  const channels = generator.arch.imageChannels;
  const px = 32 * 32 * channels;
  for (let c = 0; c < 10; c++) {
    const img = tf.tidy(() =>
      generator.generate(tf.tensor2d(z, [10, generator.arch.zDim]), new Array(10).fill(c), { noiseMode: 'const' }),
    );
    const pixels = (await img.data()) as Float32Array;
    img.dispose();
    for (let k = 0; k < 10; k++) tiles.push(pixels.slice(k * px, (k + 1) * px));
  }
  const out = path.resolve(outDir);
  mkdirSync(out, { recursive: true });
  const result = {
    ...quality,
    generator: path.relative(process.cwd(), genDir),
    seconds: Math.round((Date.now() - t0) / 1000),
    command: `npm run eval:generator -- ${domain.name === DEFAULT_DOMAIN ? '' : `--domain ${domain.name} `}--samples ${samples} --seed ${seed}`,
  };
  writeFileSync(path.join(out, 'quality.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(
    path.join(out, 'samples.png'),
    gridPng(tiles, { size: 32, columns: 10, scale: 2, channels: channels === 3 ? 3 : 1 }),
  );

  if (o['update-manifest']) {
    const file = path.join(genDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.metrics = {
      ...manifest.metrics,
      quality: {
        classConsistency: quality.classConsistency.generated,
        classifierRealAccuracy: quality.classConsistency.realAccuracy,
        frechet: quality.frechet.generatedVsReal,
        frechetFloor: quality.frechet.realVsReal,
        frechetRatio: quality.frechet.ratio,
        featureSpace: quality.frechet.featureSpace,
        coverage: quality.coverage && {
          generated: {
            clean: quality.coverage.generated.clean,
            noisy: quality.coverage.generated.noisy,
            blurred: quality.coverage.generated.blurred,
          },
          real: {
            clean: quality.coverage.real.clean,
            noisy: quality.coverage.real.noisy,
            blurred: quality.coverage.real.blurred,
          },
          detectorBalancedAccuracy: quality.coverage.detectorBalancedAccuracy,
        },
        samples,
        command: result.command,
      },
    };
    writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  }
  const q = quality;
  const pct = (v: number) => (100 * v).toFixed(1) + '%';
  const coverage = q.coverage
    ? [
        `coverage (clean / noisy / blurred): generated ` +
          `${[q.coverage.generated.clean, q.coverage.generated.noisy, q.coverage.generated.blurred].map(pct).join(' / ')}, ` +
          `real ${[q.coverage.real.clean, q.coverage.real.noisy, q.coverage.real.blurred].map(pct).join(' / ')}`,
        `  (detectors' balanced accuracy on real digits vs their metadata: noise ` +
          `${pct(q.coverage.detectorBalancedAccuracy.noise)}, blur ${pct(q.coverage.detectorBalancedAccuracy.blur)})`,
      ]
    : [`coverage: not measured (the ${variant} ${domain.title} data carry no blur or noise corruption)`];
  process.stdout.write(
    [
      `class consistency ${(100 * q.classConsistency.generated).toFixed(2)}% (classifier on real ${variant} test images: ` +
        `${(100 * q.classConsistency.realAccuracy).toFixed(2)}%, gap ${(100 * q.classConsistency.gap).toFixed(2)} points)`,
      `Fréchet distance ${q.frechet.generatedVsReal.toFixed(3)} vs real-vs-real floor ${q.frechet.realVsReal.toFixed(3)} (ratio ${q.frechet.ratio.toFixed(2)})`,
      ...coverage,
      `wrote ${path.relative(process.cwd(), out)}/quality.json and samples.png`,
    ].join('\n') + '\n',
  );
}
