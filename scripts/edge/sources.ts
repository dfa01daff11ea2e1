/**
 * Which weights the edge serves (Node, build time). The generator, in order of preference:
 * `weights/generator/` (trained), the training checkpoint `checkpoints/generator/latest/` (its EMA
 * generator, re-encoded in the weights format and labelled as a checkpoint), or none (the worker then
 * uses the seeded random initialisation, labelled as an untrained placeholder). Classifiers: every
 * `weights/<name>/` whose manifest kind is classifier. Dropping `weights/generator/` in later and
 * rebuilding just works.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import { DEFAULT_GENERATOR } from '../../src/core/generator/architecture.js';
import { folderSource, loadModelFilesSync } from '../../src/core/loading/model-files.js';
import { decodeWeights, encodeWeights, type HostTensor, type HostTensorMap } from '../../src/core/weights/codec.js';
import type { WeightsManifest } from '../../src/core/weights/manifest.js';
import type { SimpleCnn } from '../../src/core/classifier/simple-cnn.js';
import type { Generator } from '../../src/core/generator/generator.js';
import { buildClassifier, buildGenerator, placeholderGenerator } from '../../src/core/loading/built-models.js';
import { DEFAULT_DOMAIN, DOMAINS, type DomainDescriptor } from '../../src/core/data/domain.js';
import { RANDOM_INIT_ID, type CatalogFeatureExtractor, type CatalogModel } from '../../src/protocol/catalog.js';

export interface EdgeModel<E = Omit<CatalogModel, 'path'>> {
  entry: E;
  manifest: WeightsManifest;
  bytes: Uint8Array;
  /** The bytes decoded (checked against the manifest). */
  tensors: HostTensorMap;
}

export interface EdgeModels {
  generator: EdgeModel | null;
  generatorArchitecture: Record<string, unknown>;
  classifiers: EdgeModel[];
  /** weights/feature-extractor, which explain jobs' runners fetch (absent: not packaged). */
  featureExtractor?: EdgeModel<Omit<CatalogFeatureExtractor, 'path'>> | null;
}

/** Preferred order of the built-in classifiers (the first present is the default). */
const PREFERRED = ['classifier-clean', 'classifier-corrupted'];

/** A model folder, checked before packaging. */
function readDir(dir: string) {
  return loadModelFilesSync(folderSource(dir, (f) => readFileSync(f), path.join));
}

function fromCheckpoint(dir: string): EdgeModel {
  const { manifest, tensors } = readDir(dir);
  const arch = GeneratorArchitectureSchema.parse((manifest.architecture as { generator?: unknown }).generator);
  const picked: Array<[string, HostTensor]> = [];
  for (const t of manifest.tensors)
    if (t.name.startsWith('G_ema/')) picked.push([t.name.slice('G_ema/'.length), tensors.get(t.name)!]);
  if (picked.length === 0) throw new Error(`${dir}: checkpoint has no G_ema/ tensors`);
  const prov = manifest.provenance as { iteration?: number; trainSeconds?: number; savedAt?: string };
  const styleSize = buildStyleLayout(arch).size;
  const encoded = encodeWeights(
    {
      name: 'generator-checkpoint',
      kind: 'generator',
      architecture: { ...arch, styleSize, outputRange: '[0,1] via clip((x+1)/2)' },
      weightsFile: 'weights.bin',
      provenance: {
        from: 'checkpoints/generator/latest (G_ema)',
        iteration: prov.iteration,
        trainSeconds: prov.trainSeconds,
        savedAt: prov.savedAt,
        checkpointSha256: manifest.sha256,
      },
      metrics: {},
    },
    picked,
  );
  return {
    entry: {
      name: 'generator-checkpoint',
      kind: 'generator',
      sha256: encoded.manifest.sha256,
      byteLength: encoded.bytes.byteLength,
      source: 'checkpoint',
      label: `training checkpoint (EMA generator) at iteration ${prov.iteration ?? '?'}, not the final weights`,
    },
    manifest: encoded.manifest,
    bytes: encoded.bytes,
    tensors: decodeWeights(encoded.manifest, encoded.bytes),
  };
}

/**
 * A checkpoint moves on while training runs; the seeding script pins the snapshot it computed the
 * precomputed results with here (build output, not committed), and the asset build keeps serving
 * that snapshot while the results index refers to it.
 */
export const PINNED_DIR = 'dist/edge-pinned/generator-checkpoint';

export function pinGenerator(m: EdgeModel, root = process.cwd()): void {
  const dir = path.join(root, PINNED_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'weights.bin'), m.bytes);
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m.manifest, null, 1));
  writeFileSync(path.join(dir, 'entry.json'), JSON.stringify(m.entry, null, 1));
}

function pinnedGenerator(root: string): EdgeModel | null {
  const dir = path.join(root, PINNED_DIR);
  // The seeded results' index (assets.ts PRECOMPUTED_DIR): the snapshot is used only while they were seeded with it.
  const index = path.join(root, 'data', 'precomputed', 'index.json');
  if (!existsSync(path.join(dir, 'entry.json')) || !existsSync(index)) return null;
  const entry = JSON.parse(readFileSync(path.join(dir, 'entry.json'), 'utf8')) as EdgeModel['entry'];
  const results = JSON.parse(readFileSync(index, 'utf8')) as { entries: Array<{ generatorId: string }> };
  if (!results.entries.some((e) => e.generatorId === entry.sha256)) return null;
  const { manifest, bytes, tensors } = readDir(dir);
  return manifest.sha256 === entry.sha256 ? { entry, manifest, bytes, tensors } : null;
}

/**
 * @param opts.fresh ignore the pinned checkpoint snapshot (the seeding script takes the newest)
 */
export function resolveEdgeModels(root = process.cwd(), opts: { fresh?: boolean } = {}): EdgeModels {
  const weights = path.join(root, 'weights');
  let generator: EdgeModel | null = null;
  const trained = path.join(weights, 'generator');
  const checkpoint = path.join(root, 'checkpoints', 'generator', 'latest');
  const pinned = opts.fresh ? null : pinnedGenerator(root);
  if (existsSync(path.join(trained, 'manifest.json'))) {
    generator = readTrainedGenerator(trained);
  } else if (pinned) {
    generator = pinned;
  } else if (existsSync(path.join(checkpoint, 'manifest.json'))) {
    // The trainer renames a fresh checkpoint into place; retry once if we raced it.
    try {
      generator = fromCheckpoint(checkpoint);
    } catch {
      generator = fromCheckpoint(checkpoint);
    }
  }
  const classifiers = readClassifiers(weights, PREFERRED);
  const generatorArchitecture = generator
    ? (generator.manifest.architecture as Record<string, unknown>)
    : { ...DEFAULT_GENERATOR };
  const featureExtractor = readFeatureExtractor(path.join(weights, 'feature-extractor'));
  return { generator, generatorArchitecture, classifiers, featureExtractor };
}

/** A trained generator folder as the edge serves it; null when the folder has no manifest. */
function readTrainedGenerator(dir: string): EdgeModel | null {
  if (!existsSync(path.join(dir, 'manifest.json'))) return null;
  const { manifest, bytes, tensors } = readDir(dir);
  return {
    entry: {
      name: manifest.name,
      kind: 'generator',
      sha256: manifest.sha256,
      byteLength: bytes.byteLength,
      source: 'weights',
      label: 'trained generator',
    },
    manifest,
    bytes,
    tensors,
  };
}

/**
 * "clean test accuracy 0.9929, corrupted 0.9125": the manifest's `accuracy_test_<variant>`
 * metrics in its order (a coloured-MNIST classifier's are independent and spurious).
 */
function accuracyLabel(metrics: Record<string, unknown>): string {
  const parts = Object.entries(metrics)
    .map(([k, v]) => [/^accuracy_test_([a-z]+)$/.exec(k)?.[1], v] as const)
    .filter((e): e is [string, number] => e[0] !== undefined && typeof e[1] === 'number');
  return parts
    .map(([variant, acc], i) => (i === 0 ? `${variant} test accuracy ${acc}` : `${variant} ${acc}`))
    .join(', ');
}

/** Every `<dir>/<name>/` whose manifest kind is classifier, the `preferred` names first. */
function readClassifiers(dir: string, preferred: readonly string[]): EdgeModel[] {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => existsSync(path.join(dir, n, 'manifest.json'))) : [];
  names.sort((a, b) => (preferred.indexOf(a) + 1 || 99) - (preferred.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const classifiers: EdgeModel[] = [];
  for (const name of names) {
    const m = JSON.parse(readFileSync(path.join(dir, name, 'manifest.json'), 'utf8')) as { kind?: string };
    if (m.kind !== 'classifier') continue;
    const { manifest, bytes, tensors } = readDir(path.join(dir, name));
    classifiers.push({
      entry: {
        name,
        kind: 'classifier',
        sha256: manifest.sha256,
        byteLength: bytes.byteLength,
        source: 'weights',
        label: accuracyLabel(manifest.metrics) || name,
      },
      manifest,
      bytes,
      tensors,
    });
  }
  return classifiers;
}

function readFeatureExtractor(dir: string): EdgeModels['featureExtractor'] {
  if (!existsSync(path.join(dir, 'manifest.json'))) return null;
  const { manifest, bytes, tensors } = readDir(dir);
  if (manifest.kind !== 'feature-extractor') return null;
  return {
    entry: {
      name: 'feature-extractor',
      kind: 'feature-extractor',
      sha256: manifest.sha256,
      byteLength: bytes.byteLength,
      source: 'weights',
      label: 'evaluation CNN (projection of real images; never a classifier under analysis)',
    },
    manifest,
    bytes,
    tensors,
  };
}

/** The models of a domain other than the default one: `weights/<domain>/` (no checkpoint fallback). */
export interface DomainEdgeModels {
  domain: DomainDescriptor;
  models: EdgeModels;
}

/**
 * Every non-default domain with a `weights/<name>/` folder: its trained generator (absent until
 * one is exported there: the domain is listed, its generator endpoints answer 409), its
 * classifiers (`classifier-<variant>` in the descriptor's order first) and its feature extractor.
 */
export function resolveDomainEdgeModels(root = process.cwd()): DomainEdgeModels[] {
  const out: DomainEdgeModels[] = [];
  for (const domain of DOMAINS) {
    if (domain.name === DEFAULT_DOMAIN) continue;
    const dir = path.join(root, 'weights', domain.name);
    if (!existsSync(dir)) continue;
    const generator = readTrainedGenerator(path.join(dir, 'generator'));
    const classifiers = readClassifiers(
      dir,
      domain.classifierVariants.map((v) => `classifier-${v}`),
    );
    const generatorArchitecture = generator
      ? (generator.manifest.architecture as Record<string, unknown>)
      : { ...DEFAULT_GENERATOR, imageChannels: domain.image.channels };
    out.push({
      domain,
      models: {
        generator,
        generatorArchitecture,
        classifiers,
        featureExtractor: readFeatureExtractor(path.join(dir, 'feature-extractor')),
      },
    });
  }
  return out;
}

/** The edge's models built, as the seeding script computes the precomputed results with them. */
export function buildEdgeModels(edge: EdgeModels): {
  generator: Generator;
  generatorId: string;
  classifiers: Array<{ name: string; id: string; model: SimpleCnn }>;
} {
  const g = edge.generator;
  return {
    generator: g ? buildGenerator({ ...g, weightsWhere: g.entry.name }) : placeholderGenerator(),
    generatorId: g?.entry.sha256 ?? RANDOM_INIT_ID,
    classifiers: edge.classifiers.map((m) => ({
      name: m.entry.name,
      id: m.entry.sha256,
      model: buildClassifier(m.entry.name, { ...m, weightsWhere: `weights/${m.entry.name}/${m.manifest.weightsFile}` }),
    })),
  };
}
