/**
 * The built-in precomputed results, made servable by whatever generator the asset build picked.
 * On a fresh clone (CI) there is no training checkpoint, so the worker runs the random-init
 * placeholder generator and the committed results (computed with a checkpoint) miss. These tests
 * check serving and drawing, not the analysis: re-key each committed result to the current
 * generator in the test's copy of the assets (same classifiers, same StyleSpace layout), so the
 * dashboard and the widgets have every section's data. A no-op when the results are current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatorId, type Catalog } from '../../src/protocol/catalog.js';
import { resultKey, resultPath, type ResultKind, type ResultsIndex } from '../../src/protocol/result-keys.js';
import { EMBEDDINGS_KIND, embeddingsKey } from '../../src/worker/embeddings.js';

/** Returns how many results were re-keyed. */
export function servableResults(assetsDir: string, catalog: Catalog): number {
  const gid = generatorId(catalog);
  const index = JSON.parse(readFileSync(path.join(assetsDir, 'results', 'index.json'), 'utf8')) as ResultsIndex;
  let n = 0;
  for (const e of index.entries) {
    if (e.generatorId === gid || !catalog.classifiers.some((m) => m.sha256 === e.classifierId)) continue;
    const key =
      e.kind === EMBEDDINGS_KIND
        ? embeddingsKey(gid, e.classifierId, e.sweep)
        : resultKey({ kind: e.kind as ResultKind, generatorId: gid, classifierId: e.classifierId, sweep: e.sweep });
    const stored = JSON.parse(readFileSync(path.join(assetsDir, resultPath(e.key)), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      path.join(assetsDir, resultPath(key)),
      JSON.stringify({
        ...stored,
        key,
        generatorId: gid,
        computed: { ...(stored.computed as object), rekeyedForTests: `from generator ${e.generatorId.slice(0, 12)}` },
      }),
    );
    n++;
  }
  return n;
}
