/**
 * Models read from a built edge-assets folder (`npm run build:edge` writes dist/edge-assets): the
 * same files, catalog and ids the edge serves, for sweeps run without an edge (the determinism
 * checks, the benchmark). node:fs works in Node and in Deno.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SimpleCnn, parseCnnConfig } from '../core/classifier/simple-cnn.js';
import { DEFAULT_GENERATOR } from '../core/generator/architecture.js';
import { Generator } from '../core/generator/generator.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import { decodeWeights, parseManifest } from '../core/weights/codec.js';
import { RANDOM_INIT_ID, RANDOM_INIT_SEED, generatorId, type Catalog, type CatalogModel } from '../protocol/catalog.js';

function readModel(assets: string, entry: CatalogModel) {
  const dir = path.join(assets, entry.path);
  const file = path.join(dir, 'manifest.json');
  const manifest = parseManifest(JSON.parse(readFileSync(file, 'utf8')), file);
  const bin = path.join(dir, manifest.weightsFile);
  const tensors = decodeWeights(manifest, new Uint8Array(readFileSync(bin)), bin);
  if (manifest.sha256 !== entry.sha256)
    throw new Error(`${bin}: sha256 ${manifest.sha256} is not the catalog's ${entry.sha256}`);
  return { manifest, tensors, file: bin };
}

export function readCatalog(assets: string): Catalog {
  return JSON.parse(readFileSync(path.join(assets, 'catalog.json'), 'utf8')) as Catalog;
}

/** The edge's generator and one of its classifiers (default: the catalog's default). */
export function localModels(assets: string, classifier?: string): AnalysisModels {
  const catalog = readCatalog(assets);
  const gid = generatorId(catalog);
  let generator: Generator;
  if (catalog.generator === null || gid === RANDOM_INIT_ID)
    generator = new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED);
  else {
    const g = readModel(assets, catalog.generator);
    generator = Generator.fromWeights(g.manifest, g.tensors, g.file);
  }
  const name = classifier ?? catalog.defaultClassifier ?? catalog.classifiers[0]?.name;
  const entry = catalog.classifiers.find((m) => m.name === name);
  if (!entry) throw new Error(`no classifier "${name}" in ${assets}/catalog.json`);
  const c = readModel(assets, entry);
  const cls = SimpleCnn.fromWeights(entry.name, parseCnnConfig(c.manifest.architecture, c.file), c.tensors, c.file);
  return { generator, classifier: cls, generatorId: gid, classifierId: entry.sha256 };
}
