/** The built-in models, loaded from weights/ and verified. */
import type { SimpleCnn } from '../core/classifier/simple-cnn.js';
import { buildClassifier, buildFeatureExtractor, buildGenerator } from '../core/loading/built-models.js';
import type { WeightsManifest } from '../core/weights/manifest.js';
import { readModelWeights, readWeightsDir, weightsRoot } from './weights-fs.js';
import { assertSameDomain, DEFAULT_DOMAIN, getDomain, manifestDomain } from '../core/data/domain.js';
import type { Generator } from '../core/generator/generator.js';
import type { Classifier } from '../core/classifier/classifier.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Names of the built-in classifiers, in the order reports compare them. */
export const BUILTIN_CLASSIFIERS = ['classifier-clean', 'classifier-corrupted'] as const;

/** A built-in model's folder under weights/: MNIST's at the top (as before domains), another domain's under weights/<domain>/. */
export function builtinModelPath(name: string, domain: string = DEFAULT_DOMAIN): string {
  return domain === DEFAULT_DOMAIN ? name : `${domain}/${name}`;
}

/** A colour domain's grey ink generator, which paint-generator paints (weights/<domain>/ink-generator). */
export const INK_GENERATOR = 'ink-generator';

/** How a domain's generator is made: a colour domain's is painted (paint-generator), a grey one's trained. */
function makeGenerator(domain: string): string {
  return getDomain(domain).image.channels === 3
    ? `make one with \`npm run paint:generator -- --domain ${domain}\` (minutes; it paints the domain's ink generator, weights/${domain}/${INK_GENERATOR})`
    : `train one with \`npm run train:generator -- --domain ${domain}\` (resumable; hours on a CPU)`;
}

/** Reads a built-in model of a domain; a missing one is named with the command that makes it. */
function readBuiltin(name: string, domain: string) {
  const rel = builtinModelPath(name, domain);
  if (!existsSync(path.join(weightsRoot(), rel, 'manifest.json'))) {
    if (name === 'generator')
      throw new Error(
        `domain "${domain}" has no trained generator yet (weights/${rel} is missing): ` + makeGenerator(domain),
      );
    throw new Error(
      `no ${name} for domain "${domain}" in weights/${rel} yet (made by: npm run train:classifier -- --domain ${domain})`,
    );
  }
  const files = readModelWeights(rel);
  // A folder renamed or copied under another domain's name (e.g. the old "colour") must not be
  // analysed as that domain: the manifest's own record decides.
  const recorded = manifestDomain(files.manifest)?.name;
  if (recorded !== undefined && recorded !== domain)
    throw new Error(
      `weights/${rel}/manifest.json is for domain "${recorded}", not "${domain}" (its ` +
        `domain.name field); re-export it for "${domain}" or ask for --domain ${recorded}`,
    );
  return files;
}

export function loadBuiltinClassifier(
  name: string,
  domain: string = DEFAULT_DOMAIN,
): { classifier: SimpleCnn; manifest: WeightsManifest } {
  const files = readBuiltin(name, domain);
  return { classifier: buildClassifier(name, files), manifest: files.manifest };
}

/**
 * The generator: the built-in `weights/generator`, or any folder in the weights format (a training
 * checkpoint's EMA generator, a user's generator).
 */
export function loadGenerator(
  dir?: string,
  domain: string = DEFAULT_DOMAIN,
): { generator: Generator; manifest: WeightsManifest } {
  const files = dir ? readWeightsDir(dir) : readBuiltin('generator', domain);
  return { generator: buildGenerator(files), manifest: files.manifest };
}

/**
 * AnalysisModels for a generator and a built-in classifier, identified by their weights' sha256;
 * throws when their manifests are for different domains, classes or image shapes.
 */
export function analysisModels(
  gen: { generator: Generator; manifest: WeightsManifest },
  cls: { classifier: Classifier; manifest: WeightsManifest },
): AnalysisModels {
  assertSameDomain(
    { label: `classifier ${cls.manifest.name}`, manifest: cls.manifest },
    { label: `generator ${gen.manifest.name}`, manifest: gen.manifest },
  );
  return {
    generator: gen.generator,
    classifier: cls.classifier,
    generatorId: gen.manifest.sha256,
    classifierId: cls.manifest.sha256,
  };
}

/** The evaluation CNN of a domain (`weights/feature-extractor`): never a classifier under analysis. */
export function loadFeatureExtractor(domain: string = DEFAULT_DOMAIN): {
  featureExtractor: SimpleCnn;
  manifest: WeightsManifest;
} {
  const files = readBuiltin('feature-extractor', domain);
  return { featureExtractor: buildFeatureExtractor(files), manifest: files.manifest };
}
