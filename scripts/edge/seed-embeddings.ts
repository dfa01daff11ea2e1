/**
 * Seeds the cached embeddings (src/worker/embeddings.ts) for every classifier: one population head
 * (z, w, s of the first samples of the sweep), UMAP once per space (the points do not depend on the
 * classifier), the kNN AUROC of mis- vs well-classified per classifier. Called by `npm run seed:edge`
 * after the other results; `node dist/edge-seed.mjs --only embeddings` adds them to existing results
 * (same pinned models) without recomputing the rest.
 */
import { embedSpaces, knnAuroc } from '../../src/core/analysis/embedding.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import { samplePopulation } from '../../src/core/analysis/population.js';
import type { SweepSpec } from '../../src/protocol/catalog.js';
import { EMBEDDINGS_OPTIONS, type EmbeddingsPayload } from '../../src/worker/embeddings.js';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Payload per classifier name. */
export async function computeEmbeddings(
  models: AnalysisModels[],
  sweep: SweepSpec,
): Promise<Map<string, EmbeddingsPayload>> {
  const o = EMBEDDINGS_OPTIONS;
  const n = Math.min(o.samples, sweep.count);
  const out = new Map<string, EmbeddingsPayload>();
  if (models.length === 0) return out;
  const g = models[0].generator.arch;
  const head = await samplePopulation(models[0], {
    seed: sweep.seed,
    count: n,
    classIndex: null,
    batchSize: 100,
    keepLatents: true,
  });
  const spaces = [
    { space: 'Z' as const, values: head.z!, dims: g.zDim },
    { space: 'W' as const, values: head.w!, dims: g.wDim },
    { space: 'S' as const, values: head.styles, dims: head.styleSize },
  ];
  const first = await embedSpaces(
    { count: n, labels: head.labels, correct: head.correct, spaces },
    { seed: o.seed, k: o.k, nNeighbors: o.nNeighbors },
  );
  const shape = (correct: Uint8Array, aurocs: number[]): EmbeddingsPayload => ({
    schema: 'faultlines.embedding/1',
    count: n,
    labels: Array.from(head.labels),
    correct: Array.from(correct),
    k: o.k,
    spaces: first.spaces.map((s, i) => ({
      space: s.space,
      dims: s.dims,
      points: s.points.map(([x, y]) => [r4(x), r4(y)] as [number, number]),
      knnAuroc: aurocs[i],
    })),
  });
  out.set(
    models[0].classifier.name,
    shape(
      head.correct,
      first.spaces.map((s) => s.knnAuroc),
    ),
  );
  for (const m of models.slice(1)) {
    const pop = await samplePopulation(m, { seed: sweep.seed, count: n, classIndex: null, batchSize: 100 });
    const aurocs: number[] = [];
    for (const s of spaces) aurocs.push(await knnAuroc(s.values, n, s.dims, pop.correct, o.k));
    out.set(m.classifier.name, shape(pop.correct, aurocs));
  }
  return out;
}
