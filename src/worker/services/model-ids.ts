/** The ids of the models a request will use, read from the catalog without building them (for ETags and 304s). */
import { generatorId } from '../../protocol/catalog.js';
import type { AppContext } from '../http.js';
import { classifierEntry, getCatalog } from '../isolate-models.js';

export async function modelIds(c: AppContext, classifier: string | undefined) {
  const catalog = await getCatalog(c.env);
  const entry = await classifierEntry(c.env, classifier);
  return { generatorId: generatorId(catalog), classifierId: entry.sha256, classifier: entry.name };
}
