/**
 * The runner loop: lease a shard, compute it, heartbeat progress (samples done, samples/s, ETA;
 * each heartbeat extends the lease), upload the result (the acknowledgement), repeat. A failure is
 * reported (the edge retries the shard after a backoff, or dead-letters it); a lost lease abandons
 * the shard.
 *
 * Every result kind: a ranking-sums shard is the core's `rankingSweep` over the shard's sample
 * range; histograms, accuracy curves and corner cases are whole jobs computed by the core's
 * src/core/analysis/derived-results.ts (as `npm run seed:edge` computes the built-in ones) from the sweep's
 * ranking sums as the edge stores them (GET /v1/results/{key}), with the job's options and, for
 * accuracy curves, the compared classifiers it names.
 *
 * Threads: the computation runs in the runner's compute thread (src/gpu-runner/compute-thread.ts,
 * compute-worker.ts), this loop on the main thread, whose event loop only waits on the network,
 * timers and signals. Heartbeats and signal handling therefore never wait for a batch, however long
 * one blocks its thread (a software WebGPU adapter: 0.3 samples/s; test/runner/stalled-compute.test.ts
 * blocks every batch for ten minutes and the lease stays alive).
 *
 * Shutdown (SIGTERM/SIGINT), bounded in time: the current shard is finished when its ETA fits in the
 * drain time (--drain-s) and released at the drain deadline if it has not finished by then; a shard
 * whose ETA does not fit (or is unknown: no batch done yet), or a second signal, is abandoned at
 * once: the compute thread is terminated mid-batch, the lease released (waited for at most 5 s;
 * unanswered, it expires by itself) and the process exits. So a runner exits within
 * SHUTDOWN_BOUND_MS (10 s) of the signal that makes it release, and within --drain-s + 10 s of the
 * first signal in every case (main.ts exits by force at that deadline, should anything hang).
 * A lost lease (a heartbeat answered 409 or 404) likewise stops the compute at once.
 */
import { RESULT_POPULATION_BATCH, type ResultProgress } from '../core/analysis/derived-results.js';
import { JOB_KINDS } from '../protocol/result-keys.js';
import { adapterName, type BackendInfo } from './backend.js';
import { type EdgeClient, EdgeError, type LeaseView } from './client.js';
import type { ComputeThread } from './compute-thread.js';

export interface RunnerOptions {
  name: string;
  leaseMs: number;
  /** How often progress is reported (and the lease extended). */
  heartbeatMs: number;
  batchSize: number;
  /** Wait between leases when the board is empty. */
  pollMs: number;
  /** On SIGTERM, finish the shard when it needs at most this long; else release it. */
  drainMs: number;
  /** Exit when the board has nothing to lease (tests, batch use). */
  exitWhenIdle: boolean;
  /** Stop after this many shards (0 = no limit). */
  maxShards: number;
  /** Result kinds leased (default: every kind, JOB_KINDS). */
  kinds?: readonly string[];
  log: (line: string) => void;
}

/**
 * The stated shutdown bound: a runner exits within this long of the signal that makes it release
 * its shard (see the doc comment above; docs/runner.md). Terminating the compute thread takes
 * milliseconds; the rest is the release call (RELEASE_WAIT_MS) and exiting.
 */
export const SHUTDOWN_BOUND_MS = 10_000;
/** The release call on shutdown is waited for this long; unanswered, the lease expires by itself. */
const RELEASE_WAIT_MS = 5_000;
/** Terminating the compute thread is waited for this long (it is gone with the process anyway). */
const TERMINATE_WAIT_MS = 2_000;

/** Why a shard is abandoned before its result is uploaded. */
type Abandon = 'lease-lost' | 'shutdown';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Runner {
  private stopping = false;
  private stopAt = Infinity;
  private releaseNow = false;
  private wake: (() => void) | null = null;
  /** Re-examines the shard in progress after a signal (abandon it now, or at the drain deadline). */
  private recheck: (() => void) | null = null;
  private compute: ComputeThread | null = null;
  shardsDone = 0;

  constructor(
    private readonly client: EdgeClient,
    /** Starts a compute thread (its backend chosen and initialised): at start, and after one was stopped. */
    private readonly startCompute: () => Promise<ComputeThread>,
    private readonly opts: RunnerOptions,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Starts the compute thread if none is running; the backend it computes on. */
  async ready(): Promise<BackendInfo> {
    if (!this.compute?.alive) this.compute = await this.startCompute();
    return this.compute.info;
  }

  /** Asks the loop to stop (first call: drain; second: release at once). */
  stop(signal: string): void {
    if (this.stopping) {
      this.releaseNow = true;
      this.opts.log(`${signal} again: releasing the current lease now`);
    } else {
      this.stopping = true;
      this.stopAt = Date.now() + this.opts.drainMs;
      this.opts.log(
        `${signal}: stopping — the current shard is finished if it fits in ${Math.round(this.opts.drainMs / 1000)} s, else released`,
      );
      this.wake?.();
    }
    this.recheck?.();
  }

  async run(): Promise<void> {
    const { log } = this.opts;
    while (!this.stopping) {
      let lease: LeaseView | null;
      try {
        lease = await this.client.lease(this.opts.name, this.opts.leaseMs, [...(this.opts.kinds ?? JOB_KINDS)]);
      } catch (e) {
        // A refused token or disabled runner endpoints will not heal by retrying.
        if (e instanceof EdgeError && (e.status === 401 || e.status === 403))
          throw new Error(`the edge refused this runner: ${e.message}`);
        log(`lease failed: ${(e as Error).message}`);
        await this.idle(this.opts.pollMs * 4);
        continue;
      }
      if (!lease) {
        if (this.opts.exitWhenIdle) break;
        await this.idle(this.opts.pollMs);
        continue;
      }
      await this.shard(lease);
      this.shardsDone++;
      if (this.opts.maxShards > 0 && this.shardsDone >= this.opts.maxShards) break;
    }
    log(`stopped after ${this.shardsDone} shard(s)`);
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
    });
  }

  /** Terminates the compute thread (mid-batch if need be); the next shard starts a fresh one. */
  private async stopCompute(): Promise<void> {
    const c = this.compute;
    this.compute = null;
    if (c) await Promise.race([c.terminate(), sleep(TERMINATE_WAIT_MS)]);
  }

  /** Gives the lease back, waiting at most RELEASE_WAIT_MS for the answer. */
  private async release(lease: LeaseView, tag: string, why: string): Promise<void> {
    const { log, name } = this.opts;
    const released = this.client
      .release(lease.id, { runner: name, shard: lease.shard.index, lease: lease.shard.leaseToken })
      .then(
        () => log(`${tag}: lease released (${why})`),
        (err: unknown) => log(`${tag}: release failed (${(err as Error).message}); the lease will expire`),
      );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>(
      (r) =>
        (timer = setTimeout(
          () => r(log(`${tag}: no answer to the release within ${RELEASE_WAIT_MS / 1000} s; the lease will expire`)),
          RELEASE_WAIT_MS,
        )),
    );
    await Promise.race([released, late]);
    clearTimeout(timer);
  }

  private async shard(lease: LeaseView): Promise<void> {
    const { log, name } = this.opts;
    const { id, spec, shard } = lease;
    const total = shard.end - shard.start;
    const tag = `job ${id.slice(0, 8)} shard ${shard.index} [${shard.start}, ${shard.end}) attempt ${shard.attempts}`;
    log(
      `leased ${tag} (${spec.domain === undefined ? '' : `${spec.domain} `}${spec.classifier}, seed ${spec.seed}, count ${spec.count})`,
    );
    const t0 = Date.now();
    // ETA unknown (Infinity) until a batch is done: a signal then releases rather than drains.
    const progress = { done: 0, samplesPerSecond: 0, etaSeconds: Infinity };
    let lost = false;
    let abandon: (why: Abandon) => void = () => undefined;
    const abandoned = new Promise<Abandon>((resolve) => (abandon = resolve));
    const check = () => {
      if (lost) abandon('lease-lost');
      else if (this.stopping && (this.releaseNow || Date.now() + progress.etaSeconds * 1000 > this.stopAt))
        abandon('shutdown');
    };
    let beating: Promise<void> = Promise.resolve();
    let inFlight = false;
    let lastBeat = Date.now();
    const beat = () => {
      // One heartbeat at a time: against a slow or restarting edge, retries must not pile up.
      if (inFlight) return;
      inFlight = true;
      lastBeat = Date.now();
      const eta = Number.isFinite(progress.etaSeconds) ? progress.etaSeconds : undefined;
      beating = this.client
        .heartbeat(id, {
          runner: name,
          shard: shard.index,
          lease: shard.leaseToken,
          done: progress.done,
          total,
          samplesPerSecond: progress.samplesPerSecond || undefined,
          etaSeconds: progress.samplesPerSecond ? eta : undefined,
          leaseMs: this.opts.leaseMs,
        })
        .catch((e: unknown) => {
          if (e instanceof EdgeError && (e.status === 409 || e.status === 404)) {
            lost = true;
            log(`${tag}: lease lost (${e.message}); abandoning the shard`);
            check();
          } else log(`${tag}: heartbeat failed: ${(e as Error).message}`);
        })
        .finally(() => {
          inFlight = false;
        });
    };
    const timer = setInterval(beat, this.opts.heartbeatMs);
    let drainDeadline: ReturnType<typeof setTimeout> | undefined;
    this.recheck = () => {
      check();
      // Draining: a shard still running at the drain deadline is released then.
      if (this.stopping && drainDeadline === undefined)
        drainDeadline = setTimeout(check, Math.max(0, this.stopAt - Date.now()));
    };
    this.recheck(); // a signal that came while the lease was being requested
    const settle = () => {
      clearInterval(timer);
      clearTimeout(drainDeadline);
      this.recheck = null;
    };
    let backend: BackendInfo;
    try {
      backend = await this.ready();
    } catch (e) {
      // A runner that cannot compute must not burn the shard's attempts: give it back and stop.
      settle();
      await this.release(lease, tag, 'no compute thread');
      throw e;
    }
    try {
      const onProgress = (p: ResultProgress) => {
        progress.done = p.done;
        progress.samplesPerSecond = p.samplesPerSecond;
        progress.etaSeconds = (p.total - p.done) / Math.max(1e-9, p.samplesPerSecond);
        log(
          `${tag}: ${p.done}/${p.total} samples, ${p.samplesPerSecond.toFixed(1)} samples/s, ETA ${progress.etaSeconds.toFixed(1)} s`,
        );
        // Progress-driven heartbeats (the timer covers the time between progress reports).
        if (p.done < p.total && Date.now() - lastBeat >= this.opts.heartbeatMs) beat();
        if (p.done < p.total) check();
      };
      const sweeps = lease.kind === 'ranking-sums';
      const computing = this.compute!.run(lease, this.opts.batchSize, onProgress);
      const outcome = await Promise.race([
        computing.then((payload: unknown) => ({ payload })),
        abandoned.then((why) => ({ why })),
      ]);
      if ('why' in outcome) {
        settle();
        computing.catch(() => undefined); // rejected by the termination below
        await this.stopCompute();
        // No wait for a heartbeat in flight: after the release the edge refuses it, harmlessly.
        if (outcome.why === 'shutdown') await this.release(lease, tag, 'shutdown');
        return;
      }
      settle();
      await beating;
      if (lost) return;
      const seconds = (Date.now() - t0) / 1000;
      const computed = {
        backend: backend.backend,
        runtime: backend.runtime,
        adapter: backend.adapter ? adapterName(backend.adapter) : null,
        softwareAdapter: backend.adapter?.software ?? null,
        batchSize: sweeps ? this.opts.batchSize : RESULT_POPULATION_BATCH,
        seconds,
        samplesPerSecond: total / Math.max(1e-3, seconds),
      };
      const done = await this.client.complete(id, {
        runner: name,
        shard: shard.index,
        lease: shard.leaseToken,
        payload: outcome.payload,
        computed,
      });
      log(
        `${tag}: completed in ${seconds.toFixed(1)} s (${computed.samplesPerSecond.toFixed(1)} samples/s); job ${done.status}`,
      );
    } catch (e) {
      settle();
      await beating;
      if (this.compute && !this.compute.alive) this.compute = null; // a crashed thread is replaced at the next shard
      if (e instanceof EdgeError && e.status === 409) {
        log(`${tag}: not accepted, the lease is gone: ${e.message}`);
        return;
      }
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      log(`${tag}: failed: ${message}`);
      await this.client
        .fail(id, {
          runner: name,
          shard: shard.index,
          lease: shard.leaseToken,
          error: `${backend.backend}: ${message}`.slice(0, 2000),
        })
        .catch((err: unknown) => log(`${tag}: reporting the failure failed: ${(err as Error).message}`));
      await sleep(1000);
    }
  }
}
