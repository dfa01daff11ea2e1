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
import { RANDOM_INIT_ID, catalogDomain, generatorId, type Catalog, type CatalogModel } from '../protocol/catalog.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';

/** A catalog model's files from the assets folder, checked against the catalog's sha256. */
function readModel(assets: string, entry: CatalogModel) {
  const files = folderSource(path.join(assets, entry.path), (f) => readFileSync(f), path.join);
  return loadModelFilesSync(files, { sha256: entry.sha256, sha256Of: "the catalog's" });
}

export function readCatalog(assets: string): Catalog {
  return JSON.parse(readFileSync(path.join(assets, 'catalog.json'), 'utf8')) as Catalog;
}

/**
 * The edge's generator of `domain` (default: the default one) and one of its classifiers (default:
 * the domain's default).
 */
export function localModels(assets: string, classifier?: string, domain: string = DEFAULT_DOMAIN): AnalysisModels {
  const catalog = readCatalog(assets);
  const models = catalogDomain(catalog, domain);
  if (!models) throw new Error(`no domain "${domain}" in ${assets}/catalog.json`);
  const gid = generatorId(models);
  if (domain !== DEFAULT_DOMAIN && models.generator === null)
    throw new Error(`domain "${domain}" has no generator in ${assets}/catalog.json`);
  const generator =
    models.generator === null || gid === RANDOM_INIT_ID
      ? placeholderGenerator()
      : buildGenerator(readModel(assets, models.generator));
  const name = classifier ?? models.defaultClassifier ?? models.classifiers[0]?.name;
  const entry = models.classifiers.find((m) => m.name === name);
  if (!entry) throw new Error(`no classifier "${name}" of domain "${domain}" in ${assets}/catalog.json`);
  return {
    generator,
    classifier: buildClassifier(entry.name, readModel(assets, entry)),
    generatorId: gid,
    classifierId: entry.sha256,
  };
}
