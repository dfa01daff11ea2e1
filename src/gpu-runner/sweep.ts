/**
 * A shard's sweep, batch by batch, reporting progress and yielding to the event loop between
 * batches. The runner computes it in its compute thread (src/gpu-runner/compute-worker.ts), so
 * heartbeats and signals never wait for it; the yield lets that thread's messages (progress, the
 * relayed edge reads) flow, since tfjs's data() on cpu and wasm resolves through microtasks only.
 * Each batch is its own `rankingSweep` over [b, b + batch), and the batches' sums are merged with
 * `mergeRankingSums` (float64 sums of float64 partial sums: equal to the one-pass sweep up to
 * float64 regrouping, about 1e-16 relative). The batch size is therefore part of the result's exact
 * bits, which is why it is the runner's fixed `--batch`, never adapted to the machine's speed.
 */
import { mergeRankingSums, rankingSweep, type RankingSums } from '../core/analysis/ranking.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import type { PopulationSpec } from '../core/analysis/population.js';

/** Lets timers, messages and pending I/O run (tfjs's data() on cpu and wasm resolves through microtasks only). */
const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

export interface ShardProgress {
  done: number;
  total: number;
  samplesPerSecond: number;
}

/**
 * Test-only hook ($FAULTLINES_TEST_BATCH_STALL_MS): every batch first blocks its thread for that
 * long, synchronously, as one batch on a software WebGPU adapter does (llvmpipe: 0.3 samples/s).
 * test/runner/stalled-compute.test.ts uses it to show that heartbeats and SIGTERM do not wait for
 * the compute. Unset (always, outside that test): no effect.
 */
function stallForTests(): void {
  const ms = Number(globalThis.process?.env?.FAULTLINES_TEST_BATCH_STALL_MS ?? 0);
  if (!(ms > 0)) return;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* busy: the thread does nothing else meanwhile */
  }
}

/** Sums of samples [start, end) of `spec`; `onProgress` may throw to abandon the shard. */
export async function shardSweep(
  models: AnalysisModels,
  spec: PopulationSpec,
  start: number,
  end: number,
  batchSize: number,
  onProgress?: (p: ShardProgress) => void,
): Promise<RankingSums> {
  const parts: RankingSums[] = [];
  const t0 = performance.now();
  for (let b = start; b < end; b += batchSize) {
    const e = Math.min(end, b + batchSize);
    stallForTests();
    parts.push(await rankingSweep(models, spec, { start: b, end: e, batchSize }));
    const done = e - start;
    onProgress?.({
      done,
      total: end - start,
      samplesPerSecond: done / Math.max(1e-3, (performance.now() - t0) / 1000),
    });
    // Lets the progress message just posted, and any relayed reply, go before the next batch.
    await yieldToEventLoop();
  }
  return mergeRankingSums(parts);
}
