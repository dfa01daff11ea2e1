/**
 * The ranking sums of a sweep for a CLI command that needs them but not the whole analysis (explain):
 * the committed precomputed result (data/precomputed, what the edge serves) when one was swept with
 * the same models, noise and population, else a fresh sweep. Matching is on the sums' spec hash, so
 * a cached result is used only when it is exactly what the sweep would compute.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import { populationSpecHash, type PopulationSpec } from '../core/analysis/population.js';
import { RANKING_SUMS_SCHEMA, rankingSweep, type RankingSums } from '../core/analysis/ranking.js';
import { weightsRoot } from './weights-fs.js';

/** data/precomputed beside weights/ (the repository root). */
function precomputedDir(): string {
  return path.join(path.dirname(weightsRoot()), 'data', 'precomputed');
}

/** The precomputed sums with this spec hash, or null. */
function findPrecomputedSums(specHash: string, dir = precomputedDir()): RankingSums | null {
  const indexFile = path.join(dir, 'index.json');
  if (!existsSync(indexFile)) return null;
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { entries?: Array<{ key: string; kind: string }> };
  for (const entry of index.entries ?? []) {
    if (entry.kind !== 'ranking-sums') continue;
    const file = path.join(dir, `${entry.key}.json`);
    if (!existsSync(file)) continue;
    const payload = (JSON.parse(readFileSync(file, 'utf8')) as { payload?: RankingSums }).payload;
    if (payload?.schema === RANKING_SUMS_SCHEMA && payload.specHash === specHash) return payload;
  }
  return null;
}

/** The sums of `spec` for `models`: precomputed when available, else swept (with progress). */
export async function sweepSums(
  models: AnalysisModels,
  spec: PopulationSpec,
  onProgress?: (p: { done: number; total: number }) => void,
): Promise<{ sums: RankingSums; source: 'precomputed' | 'swept' }> {
  const hit = findPrecomputedSums(populationSpecHash(models, spec));
  if (hit) return { sums: hit, source: 'precomputed' };
  return { sums: await rankingSweep(models, spec, { onProgress }), source: 'swept' };
}
