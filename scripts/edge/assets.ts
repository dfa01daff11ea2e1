/**
 * Writes the worker's static assets (wrangler [assets]): the catalog, each model's manifest and
 * weights (never inlined into the script), and the precomputed results from
 * data/precomputed/. Run by `npm run build:edge`.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  CATALOG_SCHEMA,
  catalogDomain,
  catalogDomains,
  generatorId,
  type Catalog,
} from '../../src/protocol/catalog.js';
import { DEFAULT_SWEEP, resultKey, type ResultsIndex, type ResultsIndexEntry } from '../../src/protocol/result-keys.js';
import {
  resolveDomainEdgeModels,
  resolveEdgeModels,
  type DomainEdgeModels,
  type EdgeModel,
  type EdgeModels,
} from './sources.js';
import { DEFAULT_DOMAIN } from '../../src/core/data/domain.js';
import { SANITY_SAMPLE_PATH } from '../../src/protocol/sanity-sample.js';

export const ASSETS_DIR = 'dist/edge-assets';
/** The API viewer's files, served at /docs/<file>. */
export const DOCS_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;
export const PRECOMPUTED_DIR = 'data/precomputed';

/** The command that recomputes `domain`'s built-in results (scripts/edge/seed.ts; messages name it). */
export function seedCommand(domain: string, extra = ''): string {
  const args = [domain === DEFAULT_DOMAIN ? '' : `--domain ${domain}`, extra].filter(Boolean).join(' ');
  return args ? `npm run seed:edge -- ${args}` : 'npm run seed:edge';
}
/** The committed sample of real test images of the adapter sanity check (scripts/edge/write-sanity-sample.ts). */
export const SANITY_SAMPLE_DIR = 'data/sanity';

export function writeEdgeAssets(
  out = ASSETS_DIR,
  models: EdgeModels = resolveEdgeModels(),
  precomputed = PRECOMPUTED_DIR,
  domains: DomainEdgeModels[] = resolveDomainEdgeModels(),
): Catalog {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.join(out, 'results'), { recursive: true });
  // The default domain's models at /models/<name>/ (as before domains), another's at /models/<domain>/<name>/.
  const place = <E extends { name: string }>(m: EdgeModel<E>, domain?: string): E & { path: string } => {
    const where = domain === undefined ? `/models/${m.entry.name}/` : `/models/${domain}/${m.entry.name}/`;
    const dir = path.join(out, where);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m.manifest, null, 1));
    writeFileSync(path.join(dir, m.manifest.weightsFile), m.bytes);
    return { ...m.entry, path: where };
  };
  const catalog: Catalog = {
    schema: CATALOG_SCHEMA,
    builtAt: new Date().toISOString(),
    generator: models.generator ? place(models.generator) : null,
    generatorArchitecture: models.generatorArchitecture,
    classifiers: models.classifiers.map((m) => place(m)),
    defaultClassifier: models.classifiers[0]?.entry.name ?? null,
    featureExtractor: models.featureExtractor ? { ...place(models.featureExtractor), kind: 'feature-extractor' } : null,
    domain: DEFAULT_DOMAIN,
    domains: domains.map(({ domain, models: m }) => ({
      name: domain.name,
      generator: m.generator ? place(m.generator, domain.name) : null,
      classifiers: m.classifiers.map((c) => place(c, domain.name)),
      defaultClassifier: m.classifiers[0]?.entry.name ?? null,
      featureExtractor: m.featureExtractor
        ? { ...place(m.featureExtractor, domain.name), kind: 'feature-extractor' as const }
        : null,
      generatorArchitecture: m.generatorArchitecture,
    })),
  };
  writeFileSync(path.join(out, 'catalog.json'), JSON.stringify(catalog, null, 1));
  mkdirSync(path.join(out, path.dirname(SANITY_SAMPLE_PATH.header)), { recursive: true });
  for (const f of Object.values(SANITY_SAMPLE_PATH))
    if (existsSync(path.join(SANITY_SAMPLE_DIR, path.basename(f))))
      copyFileSync(path.join(SANITY_SAMPLE_DIR, path.basename(f)), path.join(out, f));
  // The /docs viewer (swagger-ui-dist), served by the worker itself: no CDN at run time.
  mkdirSync(path.join(out, 'docs'), { recursive: true });
  const swaggerUi = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  for (const f of DOCS_FILES) copyFileSync(path.join(swaggerUi, f), path.join(out, 'docs', f));
  // Precomputed results: copied as they are; the index says which match the current models.
  let index: ResultsIndex = { schema: 'faultlines.edge-results-index/1', generatedAt: '', entries: [] };
  if (existsSync(path.join(precomputed, 'index.json'))) {
    index = JSON.parse(readFileSync(path.join(precomputed, 'index.json'), 'utf8')) as ResultsIndex;
    for (const f of readdirSync(precomputed))
      if (/^[0-9a-f]{64}\.json$/.test(f)) copyFileSync(path.join(precomputed, f), path.join(out, 'results', f));
  }
  writeFileSync(path.join(out, 'results', 'index.json'), JSON.stringify(index));
  const stale = index.entries.filter((e) => !isCurrentEntry(catalog, e));
  if (index.entries.length === 0) console.warn('edge assets: no precomputed results (run `npm run seed:edge`)');
  else if (stale.length > 0)
    console.warn(
      `edge assets: ${stale.length}/${index.entries.length} precomputed results are for other models ` +
        `(recompute them: ${[...new Set(stale.map((e) => seedCommand(e.domain ?? DEFAULT_DOMAIN)))].join('; ')})`,
    );
  return catalog;
}

/** Whether a results index entry was computed with the models its domain now packages. */
function isCurrentEntry(catalog: Catalog, e: ResultsIndexEntry): boolean {
  const domain = e.domain ?? DEFAULT_DOMAIN;
  const models = catalogDomain(catalog, domain);
  const gid = domain === DEFAULT_DOMAIN ? generatorId(catalog) : models?.generator?.sha256;
  return e.generatorId === gid && (models?.classifiers.some((m) => m.sha256 === e.classifierId) ?? false);
}

/**
 * The built-in classifiers of the built catalog without current precomputed ranking sums (stale or
 * never seeded), per domain: every domain with a generator (a domain without one has no results: they
 * are of generated samples; the default domain's placeholder generator has an id and results).
 */
export function classifiersWithoutResults(out = ASSETS_DIR): Array<{ domain: string; classifiers: string[] }> {
  const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
  const index = JSON.parse(readFileSync(path.join(out, 'results', 'index.json'), 'utf8')) as ResultsIndex;
  const keys = new Set(index.entries.map((e) => e.key));
  return catalogDomains(catalog)
    .filter((d) => d.name === DEFAULT_DOMAIN || d.generator !== null)
    .map((d) => {
      const gid = d.name === DEFAULT_DOMAIN ? generatorId(catalog) : d.generator!.sha256;
      // By key: results keyed otherwise (e.g. another noise mode: result-keys.ts RESULT_NOISE) are stale too.
      const key = (classifierId: string) =>
        resultKey({ kind: 'ranking-sums', generatorId: gid, classifierId, sweep: DEFAULT_SWEEP, domain: d.name });
      return { domain: d.name, classifiers: d.classifiers.filter((m) => !keys.has(key(m.sha256))).map((m) => m.name) };
    })
    .filter((d) => d.classifiers.length > 0);
}
