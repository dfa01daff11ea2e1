/**
 * A shard's sweep, batch by batch, yielding to the event loop between batches. tfjs's data() on
 * cpu and wasm resolves through microtasks only, so one long `rankingSweep` call would starve
 * timers, signals and network I/O for the whole shard: no heartbeat could extend the lease and no
 * SIGTERM could be handled. Each batch is its own `rankingSweep` over [b, b + batch), and the
 * batches' sums are merged with `mergeRankingSums` (float64 sums of float64 partial sums: equal to
 * the one-pass sweep up to float64 regrouping, about 1e-16 relative).
 */
import { mergeRankingSums, rankingSweep, type RankingSums } from '../core/analysis/ranking.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import type { PopulationSpec } from '../core/analysis/population.js';

/** Lets timers, signals and pending I/O run (tfjs's data() on cpu and wasm resolves through microtasks only). */
export const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

export interface ShardProgress {
  done: number;
  total: number;
  samplesPerSecond: number;
}

/** Sums of samples [start, end) of `spec`; `onProgress` may throw to abandon the shard. */
export async function shardSweep(models: AnalysisModels, spec: PopulationSpec, start: number, end: number, batchSize: number, onProgress?: (p: ShardProgress) => void): Promise<RankingSums> {
  const parts: RankingSums[] = [];
  const t0 = performance.now();
  for (let b = start; b < end; b += batchSize) {
    const e = Math.min(end, b + batchSize);
    parts.push(await rankingSweep(models, spec, { start: b, end: e, batchSize }));
    const done = e - start;
    onProgress?.({ done, total: end - start, samplesPerSecond: done / Math.max(1e-3, (performance.now() - t0) / 1000) });
    // Lets timers, signals and the heartbeat request just made run before the next batch.
    await yieldToEventLoop();
  }
  return mergeRankingSums(parts);
}
