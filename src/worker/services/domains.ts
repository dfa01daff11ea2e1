/**
 * GET /v1/domains from the domain descriptors (src/core/data/domain.ts) and the catalog: per
 * domain the models the edge holds, with the figures their manifests commit. Manifests only
 * (a few KB each, read once per isolate): listing domains never builds a model.
 */
import { DEFAULT_DOMAIN, DOMAINS } from '../../core/data/domain.js';
import type { WeightsManifest } from '../../core/weights/manifest.js';
import type { Catalog, CatalogModel } from '../../protocol/catalog.js';
import { GeneratorQualitySchema, type DomainInfo, type DomainsResponse } from '../../protocol/domains.js';
import type { Env } from '../env.js';
import { isolateCache } from '../isolate-cache.js';
import { domainModels } from '../isolate-models.js';
import { ProblemError } from '../problem.js';
import { fetchAsset } from '../static-assets.js';

const manifests = isolateCache<WeightsManifest>();

/** A catalog model's manifest; 503 when it is missing or is not the catalog's (its sha256 differs). */
function manifestOf(env: Env, entry: CatalogModel): Promise<WeightsManifest> {
  return manifests.get(`${entry.path}:${entry.sha256}`, async () => {
    const res = await fetchAsset(env, `${entry.path}manifest.json`);
    if (!res.ok)
      throw new ProblemError(503, 'unavailable', `the manifest of model "${entry.path}" is missing from the assets`);
    const m = (await res.json()) as WeightsManifest;
    if (m.sha256 !== entry.sha256)
      throw new ProblemError(503, 'weights-refused', `the manifest of "${entry.path}" is not the catalog's`, {
        model: entry.name,
      });
    return m;
  });
}

/** `accuracy_test_<variant>` of a classifier's metrics, keyed by variant. */
function accuracies(metrics: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    const variant = /^accuracy_test_([a-z]+)$/.exec(k)?.[1];
    if (variant !== undefined && typeof v === 'number') out[variant] = v;
  }
  return out;
}

export async function describeDomains(env: Env, catalog: Catalog): Promise<DomainsResponse> {
  const domains: DomainInfo[] = [];
  for (const d of DOMAINS) {
    const models = domainModels(catalog, d.name);
    const g = models.generator;
    let generator: DomainInfo['generator'] = null;
    if (g !== null) {
      const quality = GeneratorQualitySchema.safeParse((await manifestOf(env, g)).metrics.quality);
      generator = {
        name: g.name,
        id: g.sha256,
        source: g.source,
        label: g.label,
        quality: quality.success ? quality.data : null,
      };
    }
    const classifiers: DomainInfo['classifiers'] = [];
    for (const c of models.classifiers)
      classifiers.push({ name: c.name, id: c.sha256, accuracy: accuracies((await manifestOf(env, c)).metrics) });
    domains.push({
      name: d.name,
      title: d.title,
      classes: [...d.classNames],
      image: { size: d.image.size, channels: d.image.channels === 3 ? 3 : 1 },
      default: d.name === DEFAULT_DOMAIN,
      source: d.source,
      generator,
      classifiers,
      defaultClassifier: models.defaultClassifier,
    });
  }
  return { defaultDomain: DEFAULT_DOMAIN, domains };
}
