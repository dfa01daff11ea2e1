/**
 * The runner loop: lease a shard, compute it, heartbeat progress (samples done, samples/s, ETA;
 * each heartbeat extends the lease), upload the result (the acknowledgement), repeat. A failure is
 * reported (the edge retries the shard after a backoff, or dead-letters it); a lost lease abandons
 * the shard.
 *
 * Every result kind: a ranking-sums shard is the core's `rankingSweep` over the shard's sample
 * range; histograms, accuracy curves and corner cases are whole jobs computed by the core's
 * src/core/analysis/results.ts (as `npm run seed:edge` computes the built-in ones) from the sweep's
 * ranking sums as the edge stores them (GET /v1/results/{key}), with the job's options and, for
 * accuracy curves, the compared classifiers it names.
 *
 * Shutdown (SIGTERM/SIGINT): the current shard is finished when its ETA fits in the drain time,
 * otherwise its lease is released at the next batch boundary so another runner takes it at once.
 * A second signal releases at once. Either way the process exits after the shard is settled.
 */
import { DERIVED_KINDS, RESULT_POPULATION_BATCH, derivedResult, type DerivedKind, type ResultProgress } from '../core/analysis/results.js';
import type { AnalysisModels } from '../core/analysis/models.js';
import type { RankingSums } from '../core/analysis/ranking.js';
import { RESULT_KINDS } from '../protocol/catalog.js';
import { adapterName, type BackendInfo } from './backend.js';
import { EdgeClient, EdgeError, type LeaseView } from './client.js';
import { jobModels } from './models.js';
import { shardSweep, yieldToEventLoop } from './sweep.js';

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
  /** Result kinds leased (default: every kind, RESULT_KINDS). */
  kinds?: readonly string[];
  log: (line: string) => void;
}

class Abandon extends Error {
  constructor(readonly why: 'lease-lost' | 'shutdown') {
    super(why);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Runner {
  private stopping = false;
  private stopAt = Infinity;
  private releaseNow = false;
  private wake: (() => void) | null = null;
  shardsDone = 0;

  constructor(
    private readonly client: EdgeClient,
    private readonly backend: BackendInfo,
    private readonly opts: RunnerOptions,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Asks the loop to stop (first call: drain; second: release at once). */
  stop(signal: string): void {
    if (this.stopping) {
      this.releaseNow = true;
      this.opts.log(`${signal} again: releasing the current lease at the next batch`);
      return;
    }
    this.stopping = true;
    this.stopAt = Date.now() + this.opts.drainMs;
    this.opts.log(`${signal}: stopping — the current shard is finished if it fits in ${Math.round(this.opts.drainMs / 1000)} s, else released`);
    this.wake?.();
  }

  async run(): Promise<void> {
    const { log } = this.opts;
    while (!this.stopping) {
      let lease: LeaseView | null;
      try {
        lease = await this.client.lease(this.opts.name, this.opts.leaseMs, [...(this.opts.kinds ?? RESULT_KINDS)]);
      } catch (e) {
        // A refused token or disabled runner endpoints will not heal by retrying.
        if (e instanceof EdgeError && (e.status === 401 || e.status === 403)) throw new Error(`the edge refused this runner: ${e.message}`);
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
    }).then(() => void (this.wake = null));
  }

  private async shard(lease: LeaseView): Promise<void> {
    const { log, name } = this.opts;
    const { id, spec, shard } = lease;
    const total = shard.end - shard.start;
    const tag = `job ${id.slice(0, 8)} shard ${shard.index} [${shard.start}, ${shard.end}) attempt ${shard.attempts}`;
    log(`leased ${tag} (${spec.classifier}, seed ${spec.seed}, count ${spec.count})`);
    const t0 = Date.now();
    const progress = { done: 0, samplesPerSecond: 0, etaSeconds: 0 };
    let lost = false;
    let beating: Promise<void> = Promise.resolve();
    let lastBeat = Date.now();
    const beat = () => {
      lastBeat = Date.now();
      beating = this.client
        .heartbeat(id, { runner: name, shard: shard.index, lease: shard.leaseToken, done: progress.done, total, samplesPerSecond: progress.samplesPerSecond || undefined, etaSeconds: progress.samplesPerSecond ? progress.etaSeconds : undefined, leaseMs: this.opts.leaseMs })
        .catch((e: unknown) => {
          if (e instanceof EdgeError && (e.status === 409 || e.status === 404)) {
            lost = true;
            log(`${tag}: lease lost (${e.message}); abandoning the shard`);
          } else log(`${tag}: heartbeat failed: ${(e as Error).message}`);
        });
    };
    const timer = setInterval(beat, this.opts.heartbeatMs);
    try {
      const models = await jobModels(this.client, spec.generatorId, spec.classifierId, spec.classifierFormat);
      const onProgress = (p: ResultProgress) => {
          progress.done = p.done;
          progress.samplesPerSecond = p.samplesPerSecond;
          progress.etaSeconds = (p.total - p.done) / Math.max(1e-9, p.samplesPerSecond);
          if (lost) throw new Abandon('lease-lost');
          if (p.done < p.total && this.stopping && (this.releaseNow || Date.now() + progress.etaSeconds * 1000 > this.stopAt)) throw new Abandon('shutdown');
          log(`${tag}: ${p.done}/${p.total} samples, ${p.samplesPerSecond.toFixed(1)} samples/s, ETA ${progress.etaSeconds.toFixed(1)} s`);
          // Progress-driven heartbeats (the timer covers batches longer than the interval).
          if (p.done < p.total && Date.now() - lastBeat >= this.opts.heartbeatMs) beat();
      };
      const sweeps = lease.kind === 'ranking-sums';
      const payload = sweeps
        ? await shardSweep(models, { seed: spec.seed, count: spec.count, classIndex: null }, shard.start, shard.end, this.opts.batchSize, onProgress)
        : await this.derived(lease, models, async (p) => {
            onProgress(p);
            // Lets the heartbeat just sent, timers and signals run before the next batch.
            await yieldToEventLoop();
          });
      clearInterval(timer);
      await beating;
      if (lost) return;
      const seconds = (Date.now() - t0) / 1000;
      const computed = {
        backend: this.backend.backend,
        runtime: this.backend.runtime,
        adapter: this.backend.adapter ? adapterName(this.backend.adapter) : null,
        softwareAdapter: this.backend.adapter?.software ?? null,
        batchSize: sweeps ? this.opts.batchSize : RESULT_POPULATION_BATCH,
        seconds,
        samplesPerSecond: total / Math.max(1e-3, seconds),
      };
      const done = await this.client.complete(id, { runner: name, shard: shard.index, lease: shard.leaseToken, payload, computed });
      log(`${tag}: completed in ${seconds.toFixed(1)} s (${computed.samplesPerSecond.toFixed(1)} samples/s); job ${done.status}`);
    } catch (e) {
      clearInterval(timer);
      await beating;
      if (e instanceof Abandon) {
        if (e.why === 'shutdown') {
          await this.client.release(id, { runner: name, shard: shard.index, lease: shard.leaseToken }).then(
            () => log(`${tag}: lease released (shutdown)`),
            (err: unknown) => log(`${tag}: release failed (${(err as Error).message}); the lease will expire`),
          );
        }
        return;
      }
      if (e instanceof EdgeError && e.status === 409) {
        log(`${tag}: not accepted, the lease is gone: ${e.message}`);
        return;
      }
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      log(`${tag}: failed: ${message}`);
      await this.client.fail(id, { runner: name, shard: shard.index, lease: shard.leaseToken, error: `${this.backend.backend}: ${message}`.slice(0, 2000) }).catch((err: unknown) => log(`${tag}: reporting the failure failed: ${(err as Error).message}`));
      await sleep(1000);
    }
  }

  /**
   * A histograms, accuracy-curves or corner-cases job: the sweep's ranking sums as the edge stores
   * them, the compared classifiers the job names, then the core's computation with its options.
   */
  private async derived(lease: LeaseView, models: AnalysisModels, onProgress: (p: ResultProgress) => Promise<void>): Promise<unknown> {
    const { spec } = lease;
    if (!(DERIVED_KINDS as readonly string[]).includes(lease.kind)) throw new Error(`this runner cannot compute results of kind "${lease.kind}"`);
    if (!spec.sums) throw new Error(`the ${lease.kind} job names no ranking sums to derive from`);
    const stored = await this.client.result<RankingSums>(spec.sums);
    if (stored.kind !== 'ranking-sums') throw new Error(`result ${spec.sums} is a ${stored.kind} result, not ranking sums`);
    const compare = [];
    for (const c of spec.compare ?? []) {
      const m = await jobModels(this.client, spec.generatorId, c.classifierId, c.classifierFormat);
      compare.push({ name: c.classifier, classifier: m.classifier, classifierId: c.classifierId });
    }
    const input = { models, name: spec.classifier, sweep: { seed: spec.seed, count: spec.count }, sums: stored.payload, onProgress };
    return derivedResult(lease.kind as DerivedKind, input, spec.options ?? {}, compare);
  }
}
