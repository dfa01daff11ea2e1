/**
 * Models read from a built edge-assets folder (`npm run build:edge` writes dist/edge-assets): the
 * same files, catalog and ids the edge serves, for sweeps run without an edge (the determinism
 * checks, the benchmark). node:fs works in Node and in Deno.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import { buildClassifier, buildGenerator, placeholderGenerator } from '../core/loading/built-models.js';
import { folderSource, loadModelFilesSync } from '../core/loading/model-files.js';
import { RANDOM_INIT_ID, generatorId, type Catalog, type CatalogModel } from '../protocol/catalog.js';

/** A catalog model's files from the assets folder, checked against the catalog's sha256. */
function readModel(assets: string, entry: CatalogModel) {
  const files = folderSource(path.join(assets, entry.path), (f) => readFileSync(f), path.join);
  return loadModelFilesSync(files, { sha256: entry.sha256, sha256Of: "the catalog's" });
}

export function readCatalog(assets: string): Catalog {
  return JSON.parse(readFileSync(path.join(assets, 'catalog.json'), 'utf8')) as Catalog;
}

/** The edge's generator and one of its classifiers (default: the catalog's default). */
export function localModels(assets: string, classifier?: string): AnalysisModels {
  const catalog = readCatalog(assets);
  const gid = generatorId(catalog);
  const generator =
    catalog.generator === null || gid === RANDOM_INIT_ID
      ? placeholderGenerator()
      : buildGenerator(readModel(assets, catalog.generator));
  const name = classifier ?? catalog.defaultClassifier ?? catalog.classifiers[0]?.name;
  const entry = catalog.classifiers.find((m) => m.name === name);
  if (!entry) throw new Error(`no classifier "${name}" in ${assets}/catalog.json`);
  return {
    generator,
    classifier: buildClassifier(entry.name, readModel(assets, entry)),
    generatorId: gid,
    classifierId: entry.sha256,
  };
}
