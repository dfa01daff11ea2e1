/**
 * A shard's sweep, batch by batch, reporting progress and yielding to the event loop between
 * batches. The runner computes it in its compute thread (src/gpu-runner/compute-worker.ts), so
 * heartbeats and signals never wait for it; the yield lets that thread's messages (progress, the
 * relayed edge reads) flow, since tfjs's data() on cpu and wasm resolves through microtasks only.
 * It is the core's sweep driver (`driveSweep`) with one lane that yields before each batch: the
 * batches are [start + k*batch, ...) and accumulate in sample order, so a shard's sums are
 * bit-identical to `rankingSweep`'s over the same range with the same batch size. The batch size
 * is part of the result's exact bits (a batch's float32 forward pass), which is why it is the
 * runner's fixed `--batch`, never adapted to the machine's speed.
 */
import { driveSweep, sweepBatch, type RankingSums } from '../core/analysis/ranking.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
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
export function shardSweep(
  models: AnalysisModels,
  spec: PopulationSpec,
  start: number,
  end: number,
  batchSize: number,
  onProgress?: (p: ShardProgress) => void,
): Promise<RankingSums> {
  return driveSweep(models, spec, { start, end, batchSize, onProgress }, [
    async (b, n) => {
      // Lets the progress message last posted, and any relayed reply, go before this batch.
      await yieldToEventLoop();
      stallForTests();
      return sweepBatch(models, spec, b, n);
    },
  ]);
}
