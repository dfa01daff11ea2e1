/**
 * The model catalog (runtime-free: core imports only): which generator, classifiers and feature
 * extractor the edge holds per domain, as the asset build (scripts/edge/assets.ts) writes it into
 * the static assets at /catalog.json. The result kinds and keys computed from it are in
 * result-keys.ts.
 */
import { RANDOM_INIT_ID, RANDOM_INIT_SEED } from '../core/loading/placeholder-id.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';

export const CATALOG_SCHEMA = 'faultlines.edge-catalog/1';

/** Asset path. */
export const CATALOG_PATH = '/catalog.json';

export interface CatalogModel {
  name: string;
  kind: 'generator' | 'classifier';
  /** Folder of manifest.json and the weights file inside the assets, e.g. `/models/classifier-clean/`. */
  path: string;
  /** sha256 of the weights file (also the model's id in result keys). */
  sha256: string;
  byteLength: number;
  /** Where the weights came from: trained weights, a training checkpoint. */
  source: 'weights' | 'checkpoint';
  /** One line for humans (e.g. "training checkpoint at iteration 2000, not final"). */
  label: string;
}

export interface Catalog {
  schema: typeof CATALOG_SCHEMA;
  builtAt: string;
  /** null: no generator weights available; the worker uses the seeded random initialisation. */
  generator: CatalogModel | null;
  classifiers: CatalogModel[];
  /** Architecture of the generator (its StyleSpace layout is known without loading weights). */
  generatorArchitecture: Record<string, unknown>;
  /** The classifier used when a request names none. */
  defaultClassifier: string | null;
  /**
   * The evaluation CNN (`weights/feature-extractor`) the projection of a real image measures its
   * feature distance with (explain jobs, docs/explain.md); never a classifier under analysis.
   * Absent or null: not packaged, and explain jobs are refused.
   */
  featureExtractor?: CatalogFeatureExtractor | null;
  /**
   * The domain of the top-level models (absent in catalogs built before domains: MNIST). Its
   * results keep their keys; the other domains' models are in `domains`.
   */
  domain?: string;
  /** The other domains' models (`weights/<domain>/`, served under `/models/<domain>/`). */
  domains?: CatalogDomain[];
}

/** One domain's models in the catalog: the top-level fields' shape, with the domain's name. */
export interface CatalogDomain {
  /** The domain descriptor's `name` (src/core/data/domain.ts). */
  name: string;
  generator: CatalogModel | null;
  classifiers: CatalogModel[];
  defaultClassifier: string | null;
  featureExtractor?: CatalogFeatureExtractor | null;
  /** Its generator's architecture (absent in catalogs built before it was written: the top-level one). */
  generatorArchitecture?: Record<string, unknown>;
}

/** Every domain the catalog serves models of, the top-level one first (as a CatalogDomain). */
export function catalogDomains(catalog: Catalog): CatalogDomain[] {
  const top: CatalogDomain = {
    name: catalog.domain ?? DEFAULT_DOMAIN,
    generator: catalog.generator,
    classifiers: catalog.classifiers,
    defaultClassifier: catalog.defaultClassifier,
    featureExtractor: catalog.featureExtractor ?? null,
    generatorArchitecture: catalog.generatorArchitecture,
  };
  return [top, ...(catalog.domains ?? [])];
}

/** The generator architecture of domain `name` (its StyleSpace layout and classes, without loading it). */
export function domainArchitecture(catalog: Catalog, name: string): Record<string, unknown> {
  return catalogDomain(catalog, name)?.generatorArchitecture ?? catalog.generatorArchitecture;
}

/**
 * `{ domain }` outside the default domain, else nothing: spread into result keys, job specs and
 * stored results, so that everything of the default domain is exactly as before domains existed.
 */
export function domainField(domain: string | undefined): { domain?: string } {
  return domain === undefined || domain === DEFAULT_DOMAIN ? {} : { domain };
}

/** The catalog's models of domain `name`; null when it has none. */
export function catalogDomain(catalog: Catalog, name: string): CatalogDomain | null {
  return catalogDomains(catalog).find((d) => d.name === name) ?? null;
}

/** The feature extractor's catalog entry: a model file like the others, of its own kind. */
export type CatalogFeatureExtractor = Omit<CatalogModel, 'kind'> & { kind: 'feature-extractor' };

export { RANDOM_INIT_ID, RANDOM_INIT_SEED };

export function generatorId(catalog: Pick<Catalog, 'generator'>): string {
  return catalog.generator?.sha256 ?? RANDOM_INIT_ID;
}
