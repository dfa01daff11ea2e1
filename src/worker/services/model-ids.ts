/** The ids of the models a request will use, read from the catalog without building them (for ETags and 304s). */
import { DEFAULT_DOMAIN } from '../../core/data/domain.js';
import type { AppContext } from '../http.js';
import { classifierEntry, domainGeneratorId, getCatalog } from '../isolate-models.js';

/** 400 naming `domain` for another domain's classifier; 409 for a domain without a generator. */
export async function modelIds(c: AppContext, classifier: string | undefined, domain: string = DEFAULT_DOMAIN) {
  const catalog = await getCatalog(c.env);
  const entry = await classifierEntry(c.env, classifier, domain);
  return { generatorId: domainGeneratorId(catalog, domain), classifierId: entry.sha256, classifier: entry.name };
}
