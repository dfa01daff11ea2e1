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

/**
 * The sums in `file`: a ranking-sums result as GET /v1/results/{key} serves it (or its payload), so
 * the CLI can explain with the very sums an edge's runner computed (a registered classifier's API
 * answer, reproduced). Refused unless they are the sums of exactly these models, noise and sweep.
 */
export function sumsFromFile(file: string, models: AnalysisModels, spec: PopulationSpec): RankingSums {
  let json: { payload?: RankingSums } & Partial<RankingSums>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--sums ${file}: cannot read it as JSON: ${(err as Error).message}`);
  }
  const sums = (json.payload ?? json) as RankingSums;
  if (sums.schema !== RANKING_SUMS_SCHEMA)
    throw new Error(
      `--sums ${file}: not ranking sums (schema ${String(sums.schema)}, expected ${RANKING_SUMS_SCHEMA})`,
    );
  const expected = populationSpecHash(models, spec);
  if (sums.specHash !== expected)
    throw new Error(
      `--sums ${file}: these sums are of another population (spec hash ${String(sums.specHash)}); this ` +
        `classifier, generator, noise and sweep (seed ${spec.seed}, ${spec.count} samples) have ${expected}`,
    );
  return sums;
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
