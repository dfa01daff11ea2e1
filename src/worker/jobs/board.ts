/**
 * A job's board: a SQLite-backed Durable Object holding one heavy job (a sweep the edge will not
 * compute inline), addressed by the job's id (`jobBoard(env, id)`), so the boards of different jobs
 * run side by side. The job index (job-index.ts: one small object) maps each job's key — the content
 * hash of the result it will produce, its idempotency key — to its id, and routes leases to the
 * oldest job with work; every other runner call goes straight to the job's board. A board tells the
 * index when its job changes status or has leasable shards again (`sync`).
 *
 * A job is cut into shards (sample ranges [start, end) of its population, `shardSize` samples
 * each) that runners lease independently, so several runners share one sweep:
 *
 *   shard:  queued --lease--> running --complete--> done
 *             ^  ^               |  |
 *             |  \--lease expired/  \--fail--> queued again after a backoff (1 s, 2 s, 4 s, ... 60 s)
 *             \------release--------/     \--> dead (dead letter) once MAX_ATTEMPTS leases were used
 *
 * - Visibility timeout: a lease lasts `leaseMs`; heartbeats (which report progress) extend it. A
 *   lease that expires (a runner killed mid-shard) makes the shard leasable again at once.
 * - Acknowledgement: `complete` stores the shard's partial sums (validated by the route first) and
 *   folds every finished shard at the head of the job into a running sum (merge.ts), in index
 *   order, so the merge is exactly mergeRankingSums' and no call holds more than a few shards; the
 *   last shard writes the merged result to the result cache (KV) and marks the job done.
 * - A dead shard fails its job (status `failed`, the error of its last attempt); submitting the
 *   job again requeues the dead shards and keeps the finished ones.
 * - Cancel (`cancel`): the job's shards and stored partial results are dropped, nothing is
 *   published, and a runner still holding a lease is answered 409 `job-cancelled` at its next call;
 *   submitting the job again creates it afresh.
 * - Prerequisites: a job may need another result first (`needs`: its key; the histograms, accuracy
 *   curves and corner cases of a sweep derive from its ranking sums). It is not leased before the
 *   job producing that result is done, and reads as failed while that job has failed or was cancelled.
 *
 * Cost: every runner call (lease, heartbeat, complete, fail, release) and a job's status touch a
 * bounded number of rows whatever the job's shard count (docs/job-board.md): the job row keeps the
 * shard counters, and one index on (job, status, due, index) gives the next leasable shard, the
 * expired leases and the backoffs; the job row also keeps the running shards' sums, so only expired
 * leases (usually none) are read, never one row per busy runner. Each call reports its SQL cost
 * (`BoardCost`), which the routes send as a header.
 *
 * This file is the Durable Object: each call's transaction, its cost, and what it tells the index.
 * The state machine's statements are board-leases.ts; the running sum and the final merge
 * board-merge.ts; the schema and row reads board-schema.ts, the records the API shows
 * board-rows.ts, the stored shard results and the published result board-results.ts, the cost
 * counting board-cost.ts, the routing of leases job-index.ts.
 */
import { DurableObject } from 'cloudflare:workers';
import type { JobSpec, JobStatus } from '../../protocol/job.js';
import type { DurableObjectState, Env } from '../env.js';
import { storeResultOnce } from '../result-cache.js';
import { addCost, costSince, type BoardCost } from './board-cost.js';
import { failNotFinite, finalPayload, foldReady } from './board-merge.js';
import { readText, storeText, storedResult } from './board-results.js';
import {
  completeShard,
  contact,
  deadLetterExpired,
  failShard,
  grantLease,
  heartbeatShard,
  MAX_ATTEMPTS,
  nextFreeAt,
  nextLeasable,
  ownedShard,
  releaseShard,
  type Owned,
} from './board-leases.js';
import { iso, jobRecord, shardRecord, type JobRecord, type ShardRecord } from './board-rows.js';
import {
  createBoardSchema,
  jobRow,
  SHARD_COLUMNS,
  shardRow,
  type JobRow,
  type Query,
  type ShardRow,
} from './board-schema.js';
import { jobIndex, type IndexContext } from './stubs.js';

/**
 * Most shards one job is cut into (a smaller shard size is raised to fit): LIMITS.jobSamples
 * (200,000) at the smallest shard size a submission may ask for (16), so every legal submission is
 * cut as asked. A runner call costs the same whatever the count (docs/job-board.md); what grows with
 * it is the submission (one statement inserting every shard) and the final provenance list.
 */
const MAX_SHARDS = 12_500;
/** Default shard size (samples); a submission may choose another. */
export const DEFAULT_SHARD_SIZE = 1000;

export type { BoardCost, JobRecord, ShardRecord };

/** A lease handed to a runner: the job and the shard it must compute. */
export interface LeaseRecord {
  job: JobRecord;
  /** The shard, with the lease's token: only its holder knows it, and every later call on the lease needs it. */
  shard: ShardRecord & { leaseToken: string };
  cost: BoardCost;
}

/**
 * What a board answers the index's lease: a lease, or nothing leasable with the job's status and
 * the earliest time a shard frees up (a lease expiring, a backoff ending; null: none will by
 * itself — the board wakes the index when one is released or the job is resubmitted).
 */
export type ShardLease =
  | { lease: LeaseRecord; status: JobStatus }
  | { lease: null; status: JobStatus | null; busyUntil: number | null; cost: BoardCost };

export type BoardResult =
  | { ok: true; job: JobRecord; cost: BoardCost }
  | { ok: false; status: 404 | 409; type: 'not-found' | 'conflict' | 'job-cancelled'; detail: string; cost: BoardCost };
export type CancelResult =
  | { ok: true; job: JobRecord; cancelled: boolean }
  | { ok: false; status: 404 | 409; detail: string };

/**
 * What a job is submitted with: the key of the result it computes, its kind, the spec runners read,
 * its sample count and shard size, and the key of a result it needs first.
 */
export interface JobSubmission {
  key: string;
  kind: string;
  spec: JobSpec;
  total: number;
  shardSize?: number;
  needs?: string;
}

export class JobBoard extends DurableObject<Env> {
  /** The SQL cost of the call in progress (calls run one at a time up to their first await). */
  private cost: BoardCost = { statements: 0, rowsRead: 0, rowsWritten: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    createBoardSchema(ctx.storage.sql);
  }

  /** Runs a statement, counting it and the rows it read and wrote into the current call's cost. */
  private readonly q: Query = <T>(query: string, ...bindings: unknown[]): T[] => {
    const cursor = this.ctx.storage.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    this.cost.statements++;
    this.cost.rowsRead += cursor.rowsRead;
    this.cost.rowsWritten += cursor.rowsWritten;
    return rows;
  };

  /** Starts counting a call's cost. */
  private begin(): void {
    this.cost = { statements: 0, rowsRead: 0, rowsWritten: 0 };
  }

  private spent(): BoardCost {
    return { ...this.cost };
  }

  /**
   * Runs synchronous work and returns what it cost on its own: after an await (a call to the index,
   * the final merge) other calls may have begun, so a call adds up its segments.
   */
  private measured<T>(fn: () => T): [T, BoardCost] {
    const before = this.spent();
    const out = fn();
    return [out, costSince(before, this.spent())];
  }

  /**
   * A job as the API shows it, from its row's counters and sums, with the expired leases taken out
   * (an index range, usually empty), never from all its shards or all its running ones.
   */
  private record(row: JobRow, ctx?: IndexContext): JobRecord {
    // The index's newer word on the prerequisite and the runners, when the caller asked it.
    const r: JobRow = ctx
      ? {
          ...row,
          pre_id: ctx.pre?.id ?? null,
          pre_kind: ctx.pre?.kind ?? null,
          pre_status: ctx.pre?.status ?? null,
          pre_error: ctx.pre?.error ?? null,
          index_contact: ctx.lastContact,
        }
      : row;
    const now = Date.now();
    // The running shards' sums are the job row's; only the expired leases (usually none) are read
    // and taken out, so the cost does not grow with the number of busy runners.
    const gone = this.q<{ n: number; samples: number; rate_sum: number; rate_n: number }>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(done), 0) AS samples, COALESCE(SUM(CASE WHEN rate > 0 THEN rate ELSE 0 END), 0) AS rate_sum,
       COALESCE(SUM(rate > 0), 0) AS rate_n
       FROM shards WHERE job_id = ? AND status = 'running' AND due < ?`,
      r.id,
      now,
    )[0];
    const expired = gone.n;
    const live = {
      n: r.n_running - gone.n,
      samples: r.run_done - gone.samples,
      rate_sum: r.run_rate - gone.rate_sum,
      rate_n: r.run_rated - gone.rate_n,
    };
    const retryAt = this.q<{ t: number | null }>(
      "SELECT MIN(due) AS t FROM shards WHERE job_id = ? AND status = 'queued' AND due > ?",
      r.id,
      now,
    )[0].t;
    const lease =
      live.n === 0
        ? undefined
        : this.q<{ holder: string | null; due: number }>(
            // The lease expiring last: the head of an index range (by index it would sort every lease).
            "SELECT holder, due FROM shards WHERE job_id = ? AND status = 'running' AND due >= ? ORDER BY due DESC LIMIT 1",
            r.id,
            now,
          )[0];
    const own = this.q<{ t: number | null }>('SELECT MAX(last_seen) AS t FROM runner_contacts')[0].t;
    return jobRecord(r, { expired, live, retryAt, lease, ownContact: own, now });
  }

  /** The job's status from its counters (done and cancelled are set by the merge and by cancel). */
  private refresh(jobId: string, error?: string): void {
    this.q(
      `UPDATE jobs SET status = CASE WHEN n_dead > 0 THEN 'failed' WHEN n_running + n_done > 0 THEN 'running' ELSE 'queued' END,
         error = COALESCE(?, error), updated_at = ? WHERE id = ? AND status NOT IN ('done', 'cancelled')`,
      error ?? null,
      Date.now(),
      jobId,
    );
  }

  private view(id: string, ctx?: IndexContext): JobRecord {
    return this.record(jobRow(this.q, id)!, ctx);
  }

  /** Keeps what the index said of the prerequisite and of the runners (shown by later views). */
  private remember(id: string, ctx: IndexContext): void {
    this.q(
      'UPDATE jobs SET pre_id = ?, pre_kind = ?, pre_status = ?, pre_error = ?, index_contact = ? WHERE id = ?',
      ctx.pre?.id ?? null,
      ctx.pre?.kind ?? null,
      ctx.pre?.status ?? null,
      ctx.pre?.error ?? null,
      ctx.lastContact,
      id,
    );
  }

  /**
   * Tells the index what changed: the job's status (when the index holds another), and that a
   * shard is leasable again from `wakeAt` when the index was told that nothing was (a release, a
   * retry after its backoff, a resubmission). A call whose status did not change and that freed no
   * shard costs one row read here and no call to the index.
   */
  private async sync(id: string, wakeAt?: number): Promise<BoardCost> {
    const [j, read] = this.measured(() => jobRow(this.q, id));
    if (!j) return read;
    const wake = wakeAt !== undefined && j.idle === 1;
    if (j.status === j.indexed && !wake) return read;
    await jobIndex(this.env).update(id, { status: j.status, error: j.error, wakeAt: wake ? wakeAt : undefined });
    // The status sent, not a newer one: a change made while the index was answering is sent next time.
    const [, write] = this.measured(() =>
      this.q(
        'UPDATE jobs SET indexed = ?, idle = CASE WHEN ? THEN 0 ELSE idle END WHERE id = ?',
        j.status,
        wake ? 1 : 0,
        id,
      ),
    );
    return addCost(read, write);
  }

  /**
   * Creates the job `id` (its key, spec and shards of `shardSize` samples), or returns it when this
   * board already holds it (`created: false`); a failed one has its dead shards queued again
   * (finished shards are kept). The index chose the id (a cancelled job's key gets a new id, so a
   * new board); `ctx` is what it knows of the prerequisite and the runners.
   */
  async submit(
    input: JobSubmission & { id: string },
    ctx: IndexContext,
  ): Promise<{ job: JobRecord; created: boolean; cost: BoardCost }> {
    this.begin();
    const { id } = input;
    const created = this.ctx.storage.transactionSync(() => {
      const existing = jobRow(this.q, id);
      if (existing) {
        this.remember(id, ctx);
        if (existing.status !== 'failed') return false;
        const requeued = this.q<{ idx: number }>(
          `UPDATE shards SET status = 'queued', attempts = 0, failures = 0, done = 0, due = 0, holder = NULL, lease_token = NULL, rate = NULL
           WHERE job_id = ? AND status = 'dead'
           RETURNING idx`,
          id,
        ).length;
        // Resubmitting is rare: the most leases any shard used is recounted over the job's shards.
        this.q(
          `UPDATE jobs SET n_dead = n_dead - ?1, n_queued = n_queued + ?1, started_at = NULL,
             max_attempts = (SELECT COALESCE(MAX(attempts), 0) FROM shards WHERE job_id = ?2)
           WHERE id = ?2`,
          requeued,
          id,
        );
        this.refresh(id);
        return false;
      }
      const now = Date.now();
      // Only ranking sums are mergeable; other kinds are computed whole.
      // At most MAX_SHARDS per job: a smaller shard size asked for is raised to fit.
      const size =
        input.kind === 'ranking-sums'
          ? Math.max(
              1,
              Math.ceil(input.total / MAX_SHARDS),
              Math.min(input.total, input.shardSize ?? DEFAULT_SHARD_SIZE),
            )
          : input.total;
      const n = Math.ceil(input.total / size);
      this.q(
        `INSERT INTO jobs (id, key, kind, spec, status, total, shard_size, created_at, updated_at, needs, n_shards, n_queued)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        input.key,
        input.kind,
        JSON.stringify(input.spec),
        'queued',
        input.total,
        size,
        now,
        now,
        input.needs ?? null,
        n,
        n,
      );
      this.remember(id, ctx);
      // Every shard in one statement: a 12,500-shard job is submitted in one round of SQLite work.
      this.q(
        `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?2)
         INSERT INTO shards (job_id, idx, start, end, status) SELECT ?1, i, i * ?3, MIN(?4, (i + 1) * ?3), 'queued' FROM s`,
        id,
        n,
        size,
        input.total,
      );
      return true;
    });
    const base = this.spent();
    // A new job (the index holds it as queued already) or a requeued one: leasable now.
    const told = await this.sync(id, Date.now());
    const [job, read] = this.measured(() => this.view(id));
    return { job, created, cost: addCost(addCost(base, told), read) };
  }

  /** Deletes a job and everything stored for it. */
  private drop(id: string): void {
    this.q('DELETE FROM shards WHERE job_id = ?', id);
    this.q('DELETE FROM shard_results WHERE job_id = ?', id);
    this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
    this.q('DELETE FROM jobs WHERE id = ?', id);
  }

  /** The job (null when this board holds none), described with the index's `ctx` when given. */
  get(id: string, ctx?: IndexContext): JobRecord | null {
    this.begin();
    const r = jobRow(this.q, id);
    return r ? this.record(r, ctx) : null;
  }

  /** A job and what reading it cost (GET /v1/jobs/{id}: its status is polled). */
  status(id: string, ctx?: IndexContext): { job: JobRecord; cost: BoardCost } | null {
    const job = this.get(id, ctx);
    return job ? { job, cost: this.spent() } : null;
  }

  /** A job and one of its shards (what the complete route checks a result against); null when either is missing. */
  shard(id: string, index: number): { job: JobRecord; shard: ShardRecord | null } | null {
    this.begin();
    const r = jobRow(this.q, id);
    if (!r) return null;
    const s = shardRow(this.q, id, index);
    return { job: this.record(r), shard: s ? shardRecord(s, Date.now()) : null };
  }

  /**
   * Forgets the job and its shards (its result was invalidated; the index forgot its key first, so
   * a later submission creates a fresh job). A runner still holding a lease of it gets 404 at its
   * next call.
   */
  forget(id: string): boolean {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      if (!jobRow(this.q, id)) return false;
      this.drop(id);
      return true;
    });
  }

  /**
   * Cancels a job (its submitter no longer wants it): the queued shards and every stored partial
   * result are dropped and nothing is published; runners holding a lease are answered 409
   * `job-cancelled` at their next heartbeat or completion. Cancelling a cancelled job changes
   * nothing (`cancelled: false`); a done job cannot be cancelled (its result is published: remove it
   * with DELETE /v1/results/{key}).
   */
  async cancel(id: string, ctx?: IndexContext): Promise<CancelResult> {
    this.begin();
    const out = this.ctx.storage.transactionSync((): CancelResult => {
      const job = jobRow(this.q, id);
      if (!job) return { ok: false, status: 404, detail: `no job ${id}` };
      if (job.status === 'done')
        return {
          ok: false,
          status: 409,
          detail: `job ${id} is done: its result ${job.key} is published (DELETE /v1/results/${job.key} removes it)`,
        };
      if (job.status === 'cancelled') return { ok: true, job: this.record(job, ctx), cancelled: false };
      this.q('DELETE FROM shards WHERE job_id = ?', id);
      this.q('DELETE FROM shard_results WHERE job_id = ?', id);
      this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
      this.q(
        `UPDATE jobs SET status = 'cancelled', error = ?, n_queued = 0, n_running = 0, n_done = 0, n_dead = 0, done_samples = 0, run_done = 0,
         run_rate = 0, run_rated = 0, merged = 0, merge_head = NULL, updated_at = ?
         WHERE id = ?`,
        `cancelled by its submitter at ${iso(Date.now())}: nothing was published (submitting it again computes it afresh)`,
        Date.now(),
        id,
      );
      return { ok: true, job: this.view(id, ctx), cancelled: true };
    });
    // Also when it already was: an earlier cancel whose message to the index failed is sent again.
    if (out.ok) await this.sync(id);
    return out;
  }

  /**
   * A page of the job's shards in index order, from shard `after + 1`: O(page) rows on the primary
   * key, whatever the job's shard count; `next` is the last shard's index when more follow.
   */
  shards(id: string, limit: number, after = -1): { shards: ShardRecord[]; next: number | null } | null {
    this.begin();
    if (!jobRow(this.q, id)) return null;
    const now = Date.now();
    const rows = this.q<ShardRow>(
      `SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? AND idx > ? ORDER BY idx LIMIT ?`,
      id,
      after,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return {
      shards: page.map((s) => shardRecord(s, now)),
      next: rows.length > limit ? page[page.length - 1].idx : null,
    };
  }

  /** The job's dead-lettered shards, lowest index first. */
  deadShards(id: string, limit: number): { jobId: string; key: string; shard: ShardRecord }[] {
    this.begin();
    const j = jobRow(this.q, id);
    if (!j || j.n_dead === 0) return [];
    const now = Date.now();
    return this.q<ShardRow>(
      `SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? AND status = 'dead' ORDER BY idx LIMIT ?`,
      id,
      limit,
    ).map((s) => ({ jobId: id, key: j.key, shard: shardRecord(s, now) }));
  }

  /**
   * Leases the job's first available shard to `owner` for `ttlMs` (the index chose this job: the
   * oldest open one of the runner's kinds, its prerequisite done): a running one whose lease expired
   * or the lowest queued one past its backoff, whichever has the lower index. An expired shard that
   * used its last attempt is dead-lettered instead (and fails the job). With nothing leasable it
   * answers when a shard frees up, and the index skips the job until then.
   */
  leaseShard(id: string, owner: string, ttlMs: number, ctx: IndexContext): ShardLease {
    this.begin();
    const now = Date.now();
    contact(this.q, owner, now);
    return this.ctx.storage.transactionSync((): ShardLease => {
      const j = jobRow(this.q, id);
      if (!j) return { lease: null, status: null, busyUntil: null, cost: this.spent() };
      this.remember(id, ctx);
      // The index learns the status from this answer: nothing else to tell it.
      const answered = (status: JobStatus, idle: boolean) =>
        this.q('UPDATE jobs SET indexed = ?, idle = ? WHERE id = ?', status, idle ? 1 : 0, id);
      if (j.status !== 'queued' && j.status !== 'running') {
        answered(j.status, true);
        return { lease: null, status: j.status, busyUntil: null, cost: this.spent() };
      }
      if (deadLetterExpired(this.q, id, now) > 0) {
        this.refresh(id, `shard lease expired after ${MAX_ATTEMPTS} attempts`);
        const status = jobRow(this.q, id)!.status;
        answered(status, true);
        return { lease: null, status, busyUntil: null, cost: this.spent() };
      }
      const pick = nextLeasable(this.q, id, now);
      if (!pick) {
        const next = nextFreeAt(this.q, id);
        answered(j.status, true);
        return { lease: null, status: j.status, busyUntil: next, cost: this.spent() };
      }
      const leaseToken = grantLease(this.q, id, pick, owner, ttlMs, now);
      const job = this.view(id);
      const shard = shardRecord(shardRow(this.q, id, pick.idx)!, now);
      return {
        lease: {
          job: { ...job, attempts: shard.attempts, lease: shard.lease },
          shard: { ...shard, leaseToken },
          cost: this.spent(),
        },
        status: 'running',
      };
    });
  }

  private refused(o: Extract<Owned, { ok: false }>): BoardResult {
    return { ...o, cost: this.spent() };
  }

  /** Extends the lease and records progress (samples done in the shard, samples/s). */
  heartbeat(
    id: string,
    index: number,
    token: string,
    progress: { done: number; samplesPerSecond?: number },
    ttlMs: number,
  ): BoardResult {
    this.begin();
    const o = ownedShard(this.q, id, index, token);
    if (!o.ok) return this.refused(o);
    heartbeatShard(this.q, o.shard, progress, ttlMs, Date.now());
    return { ok: true, job: this.view(id), cost: this.spent() };
  }

  /** Gives a lease back unfinished (graceful shutdown): queued again at once, the attempt not counted. */
  async release(id: string, index: number, token: string): Promise<BoardResult> {
    this.begin();
    const out = this.ctx.storage.transactionSync(() => {
      const o = ownedShard(this.q, id, index, token);
      if (!o.ok) return this.refused(o);
      releaseShard(this.q, o.shard);
      this.refresh(id);
      return { ok: true, job: this.view(id), cost: this.spent() } as BoardResult;
    });
    if (!out.ok) return out;
    // Leasable again at once: the index may be skipping this job as busy.
    return { ...out, cost: addCost(out.cost, await this.sync(id, Date.now())) };
  }

  /** Records a failure: the shard is retried after a backoff, or dead-lettered on its last attempt. */
  async fail(id: string, index: number, token: string, error: string): Promise<BoardResult> {
    this.begin();
    let retryAt: number | undefined;
    const out = this.ctx.storage.transactionSync(() => {
      const o = ownedShard(this.q, id, index, token);
      if (!o.ok) return this.refused(o);
      retryAt = failShard(this.q, o.shard, error.slice(0, 2000), Date.now());
      this.refresh(id, error.slice(0, 2000));
      return { ok: true, job: this.view(id), cost: this.spent() } as BoardResult;
    });
    if (!out.ok) return out;
    // Failed (dead letter) or leasable again after the backoff: the index is told either.
    return { ...out, cost: addCost(out.cost, await this.sync(id, retryAt)) };
  }

  /**
   * Acknowledges a shard with its (already validated) result: stores it, folds the finished shards
   * at the head of the job into the running sum, and when it is the last one, writes the merged
   * result to the cache under the job key and marks the job done.
   */
  async complete(
    id: string,
    index: number,
    token: string,
    owner: string,
    payload: unknown,
    computed: Record<string, unknown>,
  ): Promise<BoardResult> {
    this.begin();
    const o = ownedShard(this.q, id, index, token);
    if (!o.ok) {
      // A repeated acknowledgement (the runner lost the answer) succeeds, and finishes the merge if
      // an earlier attempt at it was interrupted.
      const s = o.type === 'job-cancelled' ? null : shardRow(this.q, id, index);
      if (!s || s.status !== 'done' || s.lease_token !== token) return this.refused(o);
      const j = jobRow(this.q, id)!;
      let cost = this.spent();
      if (j.status !== 'done' && j.n_done === j.n_shards) cost = addCost(cost, await this.finish(id));
      // And finishes telling the index (its dependents wait for `done` there).
      cost = addCost(cost, await this.sync(id));
      const [job, read] = this.measured(() => this.view(id));
      return { ok: true, job, cost: addCost(cost, read) };
    }
    const finished = this.ctx.storage.transactionSync(() => {
      completeShard(this.q, o.shard, owner);
      storeText(this.q, id, index, 'computed', JSON.stringify(computed));
      storeText(this.q, id, index, 'payload', JSON.stringify(payload));
      if (o.job.kind === 'ranking-sums') foldReady(this.q, id);
      this.refresh(id);
      const j = jobRow(this.q, id)!;
      return j.n_done === j.n_shards;
    });
    let cost = this.spent();
    if (finished) cost = addCost(cost, await this.finish(id));
    cost = addCost(cost, await this.sync(id));
    const [job, read] = this.measured(() => this.view(id));
    return { ok: true, job, cost: addCost(cost, read) };
  }

  /** Writes the job's result (idempotent) once every shard is done; other calls wait while it does. */
  private async finish(id: string): Promise<BoardCost> {
    // The KV writes are awaited: no other call (a cancel, a second completion) may interleave with
    // them, or a cancelled job could still publish. Nor can another call's cost mix with this one's.
    return this.ctx.blockConcurrencyWhile(async () => {
      const start = this.spent();
      await this.publish(id);
      return costSince(start, this.spent());
    });
  }

  /** The final merge and its KV write (finish runs it with no other call interleaving). */
  private async publish(id: string): Promise<void> {
    const job = jobRow(this.q, id);
    if (!job || job.status === 'done' || job.status === 'cancelled' || job.n_done !== job.n_shards) return;
    const rows = this.q<{ idx: number; completed_by: string }>(
      'SELECT idx, completed_by FROM shards WHERE job_id = ? ORDER BY idx',
      id,
    );
    const computed = rows.map((r) => JSON.parse(readText(this.q, id, r.idx, 'computed')) as Record<string, unknown>);
    const final = finalPayload(this.q, job, rows);
    // Never store a merge that is not finite (it would be served as nulls): fail the job instead.
    if ('notFinite' in final) {
      this.ctx.storage.transactionSync(() => failNotFinite(this.q, id, final.notFinite, Date.now()));
      return;
    }
    const stored = storedResult(job, rows, computed, final.payload);
    await storeResultOnce(this.env, stored);
    this.ctx.storage.transactionSync(() => {
      this.q("UPDATE jobs SET status = 'done', error = NULL, updated_at = ? WHERE id = ?", Date.now(), id);
      this.q('DELETE FROM shard_results WHERE job_id = ?', id);
      this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
    });
  }
}
