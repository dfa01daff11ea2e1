/**
 * The job board: a SQLite-backed Durable Object holding every heavy job (a sweep the edge will not
 * compute inline). A job is keyed by the content hash of the result it will produce (its
 * idempotency key), so submitting the same work twice returns the same job and it runs once.
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
 * expired leases and the backoffs; only what is running (one row per busy runner) is aggregated. Each call reports its SQL cost (`BoardCost`), which the routes send as a header.
 */
import { DurableObject } from 'cloudflare:workers';
import { RESULT_SCHEMA, type ResultKind, type StoredResult } from '../../protocol/catalog.js';
import {
  BOARD_COST_HEADER,
  JOB_STATUSES,
  SHARD_STATUSES,
  type Job,
  type JobSpec,
  type JobStatus,
  type Shard,
  type ShardStatus,
} from '../../protocol/job.js';
import type { DurableObjectState, Env } from '../env.js';
import { kvKey } from '../result-cache.js';
import { runnerPseudonym } from './pseudonym.js';
import { foldShard, mergedSums, type MergeHead } from './merge.js';

export { JOB_STATUSES, SHARD_STATUSES, type JobStatus, type ShardStatus };

/** Leases a shard may use (expired or failed) before it is dead-lettered. */
export const MAX_ATTEMPTS = 3;
/** Backoff after a reported failure: RETRY_BASE_MS * 2^(failures - 1), at most RETRY_MAX_MS. */
export const RETRY_BASE_MS = 1000;
export const RETRY_MAX_MS = 60_000;
/**
 * Most shards one job is cut into (a smaller shard size is raised to fit): LIMITS.jobSamples
 * (200,000) at the smallest shard size a submission may ask for (16), so every legal submission is
 * cut as asked. A runner call costs the same whatever the count (docs/job-board.md); what grows with
 * it is the submission (one statement inserting every shard) and the final provenance list.
 */
export const MAX_SHARDS = 12_500;
/** Characters of a stored text per piece (the 2 MB row limit, 4-byte UTF-8 at worst). */
const PART_CHARS = 256 * 1024;
/** Default shard size (samples); a submission may choose another. */
export const DEFAULT_SHARD_SIZE = 1000;
/**
 * Open jobs (of the runner's kinds, prerequisites done) one lease looks at, oldest first, before it
 * answers that there is nothing to do: each whose shards are all leased costs a few statements.
 */
const LEASE_SCAN_JOBS = 64;

export type ShardRecord = Shard;
export type JobRecord = Job;

/** What one board call cost in SQLite: statements run, rows read and written (cursor counters). */
export interface BoardCost {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

/** A board call's cost as a response header (BOARD_COST_HEADER). */
export const boardCostHeader = (c: BoardCost) => ({
  [BOARD_COST_HEADER]: `statements=${c.statements}; rows-read=${c.rowsRead}; rows-written=${c.rowsWritten}`,
});

/** A waiting job says no runner is connected when none has called the board for this long. */
export const RUNNER_QUIET_MS = 30_000;

/** A lease handed to a runner: the job and the shard it must compute. */
export interface LeaseRecord {
  job: JobRecord;
  /** The shard, with the lease's token: only its holder knows it, and every later call on the lease needs it. */
  shard: ShardRecord & { leaseToken: string };
  cost: BoardCost;
}

interface JobRow {
  id: string;
  key: string;
  kind: string;
  spec: string;
  status: JobStatus;
  total: number;
  shard_size: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  needs: string | null;
  started_at: number | null;
  /** Shard counters, kept by every transition (a running shard whose lease expired still counts as running here). */
  n_shards: number;
  n_queued: number;
  n_running: number;
  n_done: number;
  n_dead: number;
  /** Samples of the done shards. */
  done_samples: number;
  /** Most leases used by any shard. */
  max_attempts: number;
  /** Shards [0, merged) are folded into the running sum (ranking sums). */
  merged: number;
  /** Spec hash and shape of the running sum (JSON), set by the first fold. */
  merge_head: string | null;
}

interface ShardRow {
  job_id: string;
  idx: number;
  start: number;
  end: number;
  status: ShardStatus;
  done: number;
  attempts: number;
  failures: number;
  /** Running: when the lease expires. Queued: not leasable before this (backoff); 0 when leasable. */
  due: number;
  holder: string | null;
  lease_token: string | null;
  rate: number | null;
  error: string | null;
  completed_by: string | null;
}

export type BoardResult =
  | { ok: true; job: JobRecord; cost: BoardCost }
  | { ok: false; status: 404 | 409; type: 'not-found' | 'conflict' | 'job-cancelled'; detail: string; cost: BoardCost };
type Owned =
  | { ok: true; job: JobRow; shard: ShardRow }
  | { ok: false; status: 404 | 409; type: 'not-found' | 'conflict' | 'job-cancelled'; detail: string };
export type CancelResult =
  | { ok: true; job: JobRecord; cancelled: boolean }
  | { ok: false; status: 404 | 409; detail: string };

const iso = (ms: number) => new Date(ms).toISOString();

const JOB_COLUMNS =
  'id, key, kind, spec, status, total, shard_size, error, created_at, updated_at, needs, started_at, n_shards, n_queued, n_running, n_done, n_dead, done_samples, max_attempts, merged, merge_head';
const SHARD_COLUMNS =
  'job_id, idx, start, end, status, done, attempts, failures, due, holder, lease_token, rate, error, completed_by';
/** The schema this code writes (board_meta.schema); an older board's tables are replaced. */
const SCHEMA_VERSION = '2';

function shardRecord(r: ShardRow, now: number): ShardRecord {
  // A lease that expired is shown as what it is, queued again (the next lease call takes it),
  // not as running until someone leases it.
  const expired = r.status === 'running' && r.due < now;
  return {
    index: r.idx,
    start: r.start,
    end: r.end,
    status: expired ? 'queued' : r.status,
    done: r.status === 'done' ? r.end - r.start : expired ? 0 : r.done,
    attempts: r.attempts,
    failures: r.failures,
    lease:
      r.status === 'running' && !expired && r.holder !== null
        ? { holder: runnerPseudonym(r.holder), expiresAt: iso(r.due) }
        : null,
    retryAt: r.status === 'queued' && r.due > now ? iso(r.due) : null,
    samplesPerSecond: r.status === 'running' ? r.rate : null,
    error: r.error,
    completedBy: runnerPseudonym(r.completed_by),
  };
}

export function backoffMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

export class JobBoard extends DurableObject<Env> {
  /** The SQL cost of the call in progress (calls run one at a time up to their first await). */
  private cost: BoardCost = { statements: 0, rowsRead: 0, rowsWritten: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS board_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    const version = sql.exec<{ v: string }>("SELECT v FROM board_meta WHERE k = 'schema'").toArray()[0]?.v;
    if (version !== SCHEMA_VERSION) {
      // A board written by the first schema (local development state only: none was deployed) kept
      // no counters; its jobs are dropped, their results stay in KV and are still served.
      for (const t of ['shard_results', 'shards', 'jobs', 'merge_parts']) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      sql.exec(
        "INSERT INTO board_meta (k, v) VALUES ('schema', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        SCHEMA_VERSION,
      );
    }
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      spec TEXT NOT NULL,
      status TEXT NOT NULL,
      total INTEGER NOT NULL,
      shard_size INTEGER NOT NULL,
      error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      needs TEXT,
      started_at INTEGER,
      n_shards INTEGER NOT NULL,
      n_queued INTEGER NOT NULL,
      n_running INTEGER NOT NULL DEFAULT 0,
      n_done INTEGER NOT NULL DEFAULT 0,
      n_dead INTEGER NOT NULL DEFAULT 0,
      done_samples INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL DEFAULT 0,
      merged INTEGER NOT NULL DEFAULT 0,
      merge_head TEXT
    )`);
    // Leasing walks the open jobs oldest first; listing pages newest first.
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at)');
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_recent ON jobs (created_at, id)');
    sql.exec(`CREATE TABLE IF NOT EXISTS shards (
      job_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      start INTEGER NOT NULL,
      end INTEGER NOT NULL,
      status TEXT NOT NULL,
      done INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      failures INTEGER NOT NULL DEFAULT 0,
      due INTEGER NOT NULL DEFAULT 0,
      holder TEXT,
      lease_token TEXT,
      rate REAL,
      error TEXT,
      completed_by TEXT,
      PRIMARY KEY (job_id, idx)
    )`);
    // One index serves every per-call question in O(1) rows: the next leasable shard (queued, due 0,
    // lowest index: index order), backoffs and expired leases (a range of due), the running shards.
    sql.exec('CREATE INDEX IF NOT EXISTS shards_by_status ON shards (job_id, status, due, idx)');
    // Last contact of each runner (by name): so a job can say that nobody is computing it.
    sql.exec('CREATE TABLE IF NOT EXISTS runner_contacts (runner TEXT PRIMARY KEY, last_seen INTEGER NOT NULL)');
    sql.exec('CREATE INDEX IF NOT EXISTS runner_contacts_recent ON runner_contacts (last_seen)');
    // A shard's result ('payload' until it is folded into the running sum; 'computed': its
    // provenance, until the job is done) in pieces: a row is limited to 2 MB, a runner's body to 16 MiB.
    sql.exec(`CREATE TABLE IF NOT EXISTS shard_results (
      job_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      what TEXT NOT NULL,
      part INTEGER NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (job_id, idx, what, part)
    )`);
    // The running sum of a job's folded shards (float64 bytes, in pieces of at most 1 MiB).
    sql.exec(
      'CREATE TABLE IF NOT EXISTS merge_parts (job_id TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job_id, part))',
    );
  }

  /** Runs a statement, counting it and the rows it read and wrote into the current call's cost. */
  private q<T>(query: string, ...bindings: unknown[]): T[] {
    const cursor = this.ctx.storage.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    this.cost.statements++;
    this.cost.rowsRead += cursor.rowsRead;
    this.cost.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  /** Starts counting a call's cost. */
  private begin(): void {
    this.cost = { statements: 0, rowsRead: 0, rowsWritten: 0 };
  }

  private spent(): BoardCost {
    return { ...this.cost };
  }

  private jobRow(where: 'id' | 'key', value: unknown): JobRow | null {
    return this.q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE ${where} = ?`, value)[0] ?? null;
  }

  private shardRow(jobId: string, index: number): ShardRow | null {
    return (
      this.q<ShardRow>(`SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? AND idx = ?`, jobId, index)[0] ?? null
    );
  }

  /**
   * A job as the API shows it, from its row's counters and its running shards (an index range: one
   * row per busy runner), never from all its shards.
   */
  private record(r: JobRow): JobRecord {
    const now = Date.now();
    const live = this.q<{ n: number; samples: number; rate_sum: number; rate_n: number }>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(done), 0) AS samples, COALESCE(SUM(CASE WHEN rate > 0 THEN rate ELSE 0 END), 0) AS rate_sum, COALESCE(SUM(rate > 0), 0) AS rate_n
       FROM shards WHERE job_id = ? AND status = 'running' AND due >= ?`,
      r.id,
      now,
    )[0];
    const expired = r.n_running - live.n;
    const retryAt = this.q<{ t: number | null }>(
      "SELECT MIN(due) AS t FROM shards WHERE job_id = ? AND status = 'queued' AND due > ?",
      r.id,
      now,
    )[0].t;
    const lease =
      live.n === 0
        ? undefined
        : this.q<{ holder: string | null; due: number }>(
            "SELECT holder, due FROM shards WHERE job_id = ? AND status = 'running' AND due >= ? ORDER BY idx LIMIT 1",
            r.id,
            now,
          )[0];
    const done = r.done_samples + live.samples;
    // Shards that finish between two heartbeats never report a rate: then the job's own
    // throughput since its first lease stands in.
    const elapsed = r.started_at === null ? 0 : (now - r.started_at) / 1000;
    const rate =
      live.rate_n > 0 ? live.rate_sum : r.status === 'running' && done > 0 && elapsed > 0 ? done / elapsed : null;
    const pre = r.needs === null ? null : this.jobRow('key', r.needs);
    const blocked =
      (pre?.status === 'failed' || pre?.status === 'cancelled') && r.status !== 'done' && r.status !== 'cancelled';
    const last = this.q<{ t: number | null }>('SELECT MAX(last_seen) AS t FROM runner_contacts')[0].t;
    const waiting = !blocked && (r.status === 'queued' || r.status === 'running') && live.n === 0;
    const quiet = last === null ? null : now - last;
    const note =
      waiting && (quiet === null || quiet > RUNNER_QUIET_MS)
        ? quiet === null
          ? 'no runner has contacted the board yet: start one (npm run runner)'
          : `no runner seen for ${Math.round(quiet / 1000)} s: start one (npm run runner)`
        : null;
    const preError =
      pre?.status === 'cancelled'
        ? `the ${pre.kind} job ${pre.id} it needs was cancelled (submitting this job again retries it)`
        : `the ${pre?.kind} job ${pre?.id} it needs failed: ${pre?.error ?? 'unknown error'} (submitting this job again retries it)`;
    return {
      id: r.id,
      key: r.key,
      kind: r.kind,
      spec: JSON.parse(r.spec) as JobSpec,
      // A running job whose every lease expired and nothing finished is waiting again: queued.
      status: blocked ? 'failed' : r.status === 'running' && live.n === 0 && r.n_done === 0 ? 'queued' : r.status,
      progress: {
        done: r.status === 'done' ? r.total : done,
        total: r.total,
        samplesPerSecond: rate,
        etaSeconds: rate && r.status === 'running' ? Math.max(0, (r.total - done) / rate) : null,
      },
      attempts: r.max_attempts,
      lease:
        lease && lease.holder !== null ? { holder: runnerPseudonym(lease.holder), expiresAt: iso(lease.due) } : null,
      shardSize: r.shard_size,
      shards: { total: r.n_shards, queued: r.n_queued + expired, running: live.n, done: r.n_done, dead: r.n_dead },
      retryAt: retryAt === null ? null : iso(retryAt),
      error: blocked ? preError : r.error,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      needs: r.needs === null ? null : { key: r.needs, jobId: pre?.id ?? null, status: pre?.status ?? null },
      runners: { lastContactAt: last === null ? null : iso(last), note },
    };
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

  private view(id: string): JobRecord {
    return this.record(this.jobRow('id', id)!);
  }

  /**
   * Creates the job of `key` cut into shards of `shardSize` samples, or returns the existing one
   * (`created: false`); a failed one has its dead shards queued again (finished shards are kept); a
   * cancelled one is created afresh.
   */
  submit(input: {
    key: string;
    kind: string;
    spec: Record<string, unknown>;
    total: number;
    shardSize?: number;
    needs?: string;
  }): { job: JobRecord; created: boolean; cost: BoardCost } {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      let existing = this.jobRow('key', input.key);
      if (existing && existing.status === 'cancelled') {
        this.drop(existing.id);
        existing = null;
      }
      if (existing && existing.status === 'failed') {
        const requeued = this.q<{ idx: number }>(
          "UPDATE shards SET status = 'queued', attempts = 0, failures = 0, done = 0, due = 0, holder = NULL, lease_token = NULL, rate = NULL WHERE job_id = ? AND status = 'dead' RETURNING idx",
          existing.id,
        ).length;
        // Resubmitting is rare: the most leases any shard used is recounted over the job's shards.
        this.q(
          'UPDATE jobs SET n_dead = n_dead - ?1, n_queued = n_queued + ?1, started_at = NULL, max_attempts = (SELECT COALESCE(MAX(attempts), 0) FROM shards WHERE job_id = ?2) WHERE id = ?2',
          requeued,
          existing.id,
        );
        this.refresh(existing.id);
        return { job: this.view(existing.id), created: false, cost: this.spent() };
      }
      if (existing) return { job: this.record(existing), created: false, cost: this.spent() };
      const now = Date.now();
      const id = crypto.randomUUID();
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
        'INSERT INTO jobs (id, key, kind, spec, status, total, shard_size, created_at, updated_at, needs, n_shards, n_queued) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
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
      // Every shard in one statement: a 12,500-shard job is submitted in one round of SQLite work.
      this.q(
        `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?2)
         INSERT INTO shards (job_id, idx, start, end, status) SELECT ?1, i, i * ?3, MIN(?4, (i + 1) * ?3), 'queued' FROM s`,
        id,
        n,
        size,
        input.total,
      );
      return { job: this.view(id), created: true, cost: this.spent() };
    });
  }

  /** Deletes a job and everything stored for it. */
  private drop(id: string): void {
    this.q('DELETE FROM shards WHERE job_id = ?', id);
    this.q('DELETE FROM shard_results WHERE job_id = ?', id);
    this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
    this.q('DELETE FROM jobs WHERE id = ?', id);
  }

  get(id: string): JobRecord | null {
    this.begin();
    const r = this.jobRow('id', id);
    return r ? this.record(r) : null;
  }

  /** A job and what reading it cost (GET /v1/jobs/{id}: its status is polled). */
  status(id: string): { job: JobRecord; cost: BoardCost } | null {
    const job = this.get(id);
    return job ? { job, cost: this.spent() } : null;
  }

  /** A job and one of its shards (what the complete route checks a result against); null when either is missing. */
  shard(id: string, index: number): { job: JobRecord; shard: ShardRecord | null } | null {
    this.begin();
    const r = this.jobRow('id', id);
    if (!r) return null;
    const s = this.shardRow(id, index);
    return { job: this.record(r), shard: s ? shardRecord(s, Date.now()) : null };
  }

  /**
   * Forgets the job of `key` and its shards (its result was invalidated): a later submission of the
   * same key creates a fresh job. A runner still holding a lease of it gets 404 at its next call.
   */
  forget(key: string): boolean {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      const job = this.jobRow('key', key);
      if (!job) return false;
      this.drop(job.id);
      return true;
    });
  }

  /**
   * Forgets every job of a classifier (any status; running ones are answered 404 at their next
   * heartbeat or completion, so nothing is published for them) and returns their result keys, so
   * the caller can remove the results too (DELETE /v1/classifiers/{id}).
   */
  forgetClassifier(classifierId: string): string[] {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      const rows = this.q<{ id: string; key: string }>(
        "SELECT id, key FROM jobs WHERE json_extract(spec, '$.classifierId') = ?",
        classifierId,
      );
      for (const r of rows) this.drop(r.id);
      return rows.map((r) => r.key);
    });
  }

  /**
   * Cancels a job (its submitter no longer wants it): the queued shards and every stored partial
   * result are dropped and nothing is published; runners holding a lease are answered 409
   * `job-cancelled` at their next heartbeat or completion. Cancelling a cancelled job changes
   * nothing (`cancelled: false`); a done job cannot be cancelled (its result is published: remove it
   * with DELETE /v1/results/{key}).
   */
  cancel(id: string): CancelResult {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      const job = this.jobRow('id', id);
      if (!job) return { ok: false, status: 404, detail: `no job ${id}` };
      if (job.status === 'done')
        return {
          ok: false,
          status: 409,
          detail: `job ${id} is done: its result ${job.key} is published (DELETE /v1/results/${job.key} removes it)`,
        };
      if (job.status === 'cancelled') return { ok: true, job: this.record(job), cancelled: false };
      this.q('DELETE FROM shards WHERE job_id = ?', id);
      this.q('DELETE FROM shard_results WHERE job_id = ?', id);
      this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
      this.q(
        "UPDATE jobs SET status = 'cancelled', error = ?, n_queued = 0, n_running = 0, n_done = 0, n_dead = 0, done_samples = 0, merged = 0, merge_head = NULL, updated_at = ? WHERE id = ?",
        `cancelled by its submitter at ${iso(Date.now())}: nothing was published (submitting it again computes it afresh)`,
        Date.now(),
        id,
      );
      return { ok: true, job: this.view(id), cancelled: true };
    });
  }

  byKey(key: string): JobRecord | null {
    this.begin();
    const r = this.jobRow('key', key);
    return r ? this.record(r) : null;
  }

  /**
   * A page of jobs, newest first: `cursor` ("created_at:id" of the previous page's last job) keeps
   * pages stable while jobs are added. O(page): each job's figures come from its row's counters.
   */
  list(limit: number, cursor?: string): { jobs: JobRecord[]; next: string | null } {
    this.begin();
    const [at, id] = cursor
      ? [Number(cursor.slice(0, cursor.indexOf(':'))), cursor.slice(cursor.indexOf(':') + 1)]
      : [Number.MAX_SAFE_INTEGER, ''];
    const rows = this.q<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?`,
      at,
      at,
      id,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      jobs: page.map((r) => this.record(r)),
      next: rows.length > limit && last ? `${last.created_at}:${last.id}` : null,
    };
  }

  /** Every shard of a job (status, leases, retries). */
  shards(id: string): ShardRecord[] | null {
    this.begin();
    if (!this.jobRow('id', id)) return null;
    const now = Date.now();
    return this.q<ShardRow>(`SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? ORDER BY idx`, id).map((s) =>
      shardRecord(s, now),
    );
  }

  /** Dead-lettered shards, newest jobs first. */
  deadLetters(limit: number): Array<{ jobId: string; key: string; shard: ShardRecord }> {
    this.begin();
    const now = Date.now();
    const out: Array<{ jobId: string; key: string; shard: ShardRecord }> = [];
    for (const j of this.q<{ id: string; key: string }>(
      'SELECT id, key FROM jobs WHERE n_dead > 0 ORDER BY created_at DESC',
    )) {
      if (out.length >= limit) break;
      for (const s of this.q<ShardRow>(
        `SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? AND status = 'dead' ORDER BY idx LIMIT ?`,
        j.id,
        limit - out.length,
      ))
        out.push({ jobId: j.id, key: j.key, shard: shardRecord(s, now) });
    }
    return out;
  }

  /**
   * Leases the first available shard of the oldest open job (of one of `kinds`, its prerequisite
   * done) to `owner` for `ttlMs`: a running one whose lease expired or the lowest queued one past its
   * backoff, whichever has the lower index. An expired shard that used its last attempt is
   * dead-lettered instead (and fails its job).
   */
  lease(owner: string, ttlMs: number, kinds?: string[]): LeaseRecord | null {
    this.begin();
    const now = Date.now();
    this.contact(owner);
    return this.ctx.storage.transactionSync(() => {
      // Kinds and prerequisites are filtered in SQLite (a key lookup per open job), so jobs waiting
      // for their ranking sums never use up the LEASE_SCAN_JOBS looked at.
      const kindFilter = kinds && kinds.length ? `AND j.kind IN (${kinds.map(() => '?').join(', ')})` : '';
      const open = this.q<{ id: string }>(
        `SELECT j.id FROM jobs j WHERE j.status IN ('queued', 'running') ${kindFilter}
           AND (j.needs IS NULL OR EXISTS (SELECT 1 FROM jobs d WHERE d.key = j.needs AND d.status = 'done'))
         ORDER BY j.created_at LIMIT ?`,
        ...(kinds && kinds.length ? kinds : []),
        LEASE_SCAN_JOBS,
      );
      for (const j of open) {
        const died = this.q<{ idx: number }>(
          "UPDATE shards SET status = 'dead', error = COALESCE(error, 'lease expired on the last attempt'), holder = NULL WHERE job_id = ? AND status = 'running' AND due < ? AND attempts >= ? RETURNING idx",
          j.id,
          now,
          MAX_ATTEMPTS,
        ).length;
        if (died > 0) {
          this.q('UPDATE jobs SET n_running = n_running - ?, n_dead = n_dead + ? WHERE id = ?', died, died, j.id);
          this.refresh(j.id, `shard lease expired after ${MAX_ATTEMPTS} attempts`);
          continue;
        }
        const expired = this.q<{ idx: number }>(
          "SELECT idx FROM shards WHERE job_id = ? AND status = 'running' AND due < ? ORDER BY due LIMIT 1",
          j.id,
          now,
        )[0];
        // Queued and leasable shards have due 0 (index order gives the lowest index); a queued
        // shard in backoff has its retry time, taken once it has passed.
        const queued =
          this.q<{ idx: number }>(
            "SELECT idx FROM shards WHERE job_id = ? AND status = 'queued' AND due = 0 ORDER BY idx LIMIT 1",
            j.id,
          )[0] ??
          this.q<{ idx: number }>(
            "SELECT idx FROM shards WHERE job_id = ? AND status = 'queued' AND due BETWEEN 1 AND ? ORDER BY due LIMIT 1",
            j.id,
            now,
          )[0];
        const pick =
          expired && (!queued || expired.idx < queued.idx)
            ? { idx: expired.idx, wasQueued: false }
            : queued
              ? { idx: queued.idx, wasQueued: true }
              : null;
        if (!pick) continue;
        // 244 random bits: unguessable, and new for every lease.
        const leaseToken = `${crypto.randomUUID()}${crypto.randomUUID()}`.replace(/-/g, '');
        const attempts = this.q<{ attempts: number }>(
          "UPDATE shards SET status = 'running', holder = ?, lease_token = ?, due = ?, attempts = attempts + 1, done = 0, rate = NULL WHERE job_id = ? AND idx = ? RETURNING attempts",
          owner,
          leaseToken,
          now + ttlMs,
          j.id,
          pick.idx,
        )[0].attempts;
        const moved = pick.wasQueued ? 1 : 0;
        this.q(
          "UPDATE jobs SET n_queued = n_queued - ?, n_running = n_running + ?, max_attempts = MAX(max_attempts, ?), started_at = COALESCE(started_at, ?), status = 'running', updated_at = ? WHERE id = ?",
          moved,
          moved,
          attempts,
          now,
          now,
          j.id,
        );
        const job = this.view(j.id);
        const shard = shardRecord(this.shardRow(j.id, pick.idx)!, now);
        return {
          job: { ...job, attempts: shard.attempts, lease: shard.lease },
          shard: { ...shard, leaseToken },
          cost: this.spent(),
        };
      }
      return null;
    });
  }

  /** Records that a runner called the board. */
  private contact(runner: string): void {
    this.q(
      'INSERT INTO runner_contacts (runner, last_seen) VALUES (?, ?) ON CONFLICT (runner) DO UPDATE SET last_seen = excluded.last_seen',
      runner,
      Date.now(),
    );
  }

  /** The shard `index` of job `id` when `token` is its unexpired lease's (the runner name is a label). */
  private owned(id: string, index: number, token: string): Owned {
    const j = this.jobRow('id', id);
    if (!j) return { ok: false, status: 404, type: 'not-found', detail: `no job ${id}` };
    if (j.status === 'cancelled')
      return {
        ok: false,
        status: 409,
        type: 'job-cancelled',
        detail: `job ${id} was cancelled by its submitter: drop shard ${index} and lease another`,
      };
    const s = this.shardRow(id, index);
    if (!s) return { ok: false, status: 404, type: 'not-found', detail: `job ${id} has no shard ${index}` };
    if (s.status !== 'running' || s.lease_token === null || s.lease_token !== token)
      return {
        ok: false,
        status: 409,
        type: 'conflict',
        detail: `shard ${index} of job ${id} is ${s.status} and this is not its lease`,
      };
    if (s.holder !== null) this.contact(s.holder);
    if (s.due < Date.now())
      return { ok: false, status: 409, type: 'conflict', detail: `the lease of shard ${index} of job ${id} expired` };
    return { ok: true, job: j, shard: s };
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
    const o = this.owned(id, index, token);
    if (!o.ok) return this.refused(o);
    const now = Date.now();
    const done = Math.min(progress.done, o.shard.end - o.shard.start);
    this.q(
      'UPDATE shards SET done = ?, rate = ?, due = ? WHERE job_id = ? AND idx = ?',
      done,
      progress.samplesPerSecond ?? null,
      now + ttlMs,
      id,
      index,
    );
    this.q('UPDATE jobs SET updated_at = ? WHERE id = ?', now, id);
    return { ok: true, job: this.view(id), cost: this.spent() };
  }

  /** Gives a lease back unfinished (graceful shutdown): queued again at once, the attempt not counted. */
  release(id: string, index: number, token: string): BoardResult {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      const o = this.owned(id, index, token);
      if (!o.ok) return this.refused(o);
      this.q(
        "UPDATE shards SET status = 'queued', attempts = MAX(0, attempts - 1), done = 0, rate = NULL, holder = NULL, lease_token = NULL, due = 0 WHERE job_id = ? AND idx = ?",
        id,
        index,
      );
      this.q('UPDATE jobs SET n_running = n_running - 1, n_queued = n_queued + 1 WHERE id = ?', id);
      this.refresh(id);
      return { ok: true, job: this.view(id), cost: this.spent() };
    });
  }

  /** Records a failure: the shard is retried after a backoff, or dead-lettered on its last attempt. */
  fail(id: string, index: number, token: string, error: string): BoardResult {
    this.begin();
    return this.ctx.storage.transactionSync(() => {
      const o = this.owned(id, index, token);
      if (!o.ok) return this.refused(o);
      const failures = o.shard.failures + 1;
      const dead = o.shard.attempts >= MAX_ATTEMPTS;
      this.q(
        'UPDATE shards SET status = ?, failures = ?, due = ?, error = ?, done = 0, rate = NULL, holder = NULL, lease_token = NULL WHERE job_id = ? AND idx = ?',
        dead ? 'dead' : 'queued',
        failures,
        dead ? 0 : Date.now() + backoffMs(failures),
        error.slice(0, 2000),
        id,
        index,
      );
      this.q(
        `UPDATE jobs SET n_running = n_running - 1, ${dead ? 'n_dead = n_dead + 1' : 'n_queued = n_queued + 1'} WHERE id = ?`,
        id,
      );
      this.refresh(id, error.slice(0, 2000));
      return { ok: true, job: this.view(id), cost: this.spent() };
    });
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
    const o = this.owned(id, index, token);
    if (!o.ok) {
      // A repeated acknowledgement (the runner lost the answer) succeeds, and finishes the merge if
      // an earlier attempt at it was interrupted.
      const s = o.type === 'job-cancelled' ? null : this.shardRow(id, index);
      if (!s || s.status !== 'done' || s.lease_token !== token) return this.refused(o);
      const j = this.jobRow('id', id)!;
      if (j.status !== 'done' && j.n_done === j.n_shards) await this.finish(id);
      return { ok: true, job: this.view(id), cost: this.spent() };
    }
    const finished = this.ctx.storage.transactionSync(() => {
      // The token stays with the done shard: a repeated acknowledgement (lost answer) must carry it.
      this.q(
        "UPDATE shards SET status = 'done', done = end - start, rate = NULL, holder = NULL, completed_by = ? WHERE job_id = ? AND idx = ?",
        owner,
        id,
        index,
      );
      this.q(
        'UPDATE jobs SET n_running = n_running - 1, n_done = n_done + 1, done_samples = done_samples + ? WHERE id = ?',
        o.shard.end - o.shard.start,
        id,
      );
      this.storeText(id, index, 'computed', JSON.stringify(computed));
      this.storeText(id, index, 'payload', JSON.stringify(payload));
      if (o.job.kind === 'ranking-sums') this.foldReady(id);
      this.refresh(id);
      const j = this.jobRow('id', id)!;
      return j.n_done === j.n_shards;
    });
    if (finished) await this.finish(id);
    return { ok: true, job: this.view(id), cost: this.spent() };
  }

  /**
   * Folds the done shards right after the running sum's head into it, in index order (so the sum is
   * mergeRankingSums' to the bit), and drops their stored payloads. A shard finished ahead of the
   * head waits, stored, until the shards before it are in.
   */
  private foldReady(id: string): void {
    const job = this.jobRow('id', id)!;
    let merged = job.merged;
    let head: MergeHead | null = job.merge_head === null ? null : (JSON.parse(job.merge_head) as MergeHead);
    let acc: Float64Array | null = null;
    // Shard by shard on the primary key: each fold costs O(1) rows, however far the job extends.
    while (
      merged < job.n_shards &&
      this.q<{ status: string }>('SELECT status FROM shards WHERE job_id = ? AND idx = ?', id, merged)[0]?.status ===
        'done'
    ) {
      const part = JSON.parse(this.readText(id, merged, 'payload'));
      if (acc === null && head !== null) acc = this.readMerge(id, head);
      const folded = foldShard(head, acc, part);
      head = folded.head;
      acc = folded.acc;
      this.q("DELETE FROM shard_results WHERE job_id = ? AND idx = ? AND what = 'payload'", id, merged);
      merged++;
    }
    if (merged === job.merged || acc === null) return;
    this.writeMerge(id, acc);
    this.q('UPDATE jobs SET merged = ?, merge_head = ? WHERE id = ?', merged, JSON.stringify(head), id);
  }

  /** Writes the job's result (idempotent) once every shard is done; other calls wait while it does. */
  private async finish(id: string): Promise<void> {
    // The KV writes are awaited: no other call (a cancel, a second completion) may interleave with
    // them, or a cancelled job could still publish.
    await this.ctx.blockConcurrencyWhile(async () => {
      const job = this.jobRow('id', id);
      if (!job || job.status === 'done' || job.status === 'cancelled' || job.n_done !== job.n_shards) return;
      const rows = this.q<{ idx: number; completed_by: string }>(
        'SELECT idx, completed_by FROM shards WHERE job_id = ? ORDER BY idx',
        id,
      );
      const computed = rows.map((r) => JSON.parse(this.readText(id, r.idx, 'computed')) as Record<string, unknown>);
      let payload: unknown;
      if (job.kind === 'ranking-sums') {
        if (job.merged !== job.n_shards || job.merge_head === null)
          throw new Error(`job ${id}: ${job.merged} of ${job.n_shards} shards merged`);
        const head = JSON.parse(job.merge_head) as MergeHead;
        const merged = mergedSums(head, this.readMerge(id, head), job.total);
        // Never store a merge that is not finite (it would be served as nulls): fail the job instead.
        if ('notFinite' in merged) {
          this.ctx.storage.transactionSync(() => {
            this.q(
              "UPDATE jobs SET status = 'failed', error = ?, n_done = 0, n_dead = n_shards, done_samples = 0, merged = 0, merge_head = NULL, updated_at = ? WHERE id = ?",
              `the merged shards are not finite (${merged.notFinite}): resubmit to recompute`,
              Date.now(),
              id,
            );
            this.q("UPDATE shards SET status = 'dead' WHERE job_id = ?", id);
            this.q('DELETE FROM shard_results WHERE job_id = ?', id);
            this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
          });
          return;
        }
        payload = merged.sums;
      } else {
        payload = JSON.parse(this.readText(id, rows[0].idx, 'payload'));
      }
      const spec = JSON.parse(job.spec) as JobSpec;
      const stored: StoredResult = {
        schema: RESULT_SCHEMA,
        key: job.key,
        kind: job.kind as ResultKind,
        generatorId: spec.generatorId,
        classifierId: spec.classifierId,
        classifier: spec.classifier,
        sweep: { seed: spec.seed, count: spec.count },
        options: spec.options ?? {},
        computed: {
          ...(rows.length === 1 ? computed[0] : {}),
          jobId: id,
          // Runners by pseudonym (a hash of the self-chosen name, often a hostname): results are public.
          shards: rows.map((r, i) => ({ index: r.idx, ...computed[i], runner: runnerPseudonym(r.completed_by) })),
          runners: [...new Set(rows.map((r) => runnerPseudonym(r.completed_by)))],
          completedAt: new Date().toISOString(),
        },
        payload,
      };
      // Results are immutable: an existing entry under the key wins.
      if ((await this.env.RESULTS.get(kvKey(job.key), 'text')) === null) {
        await this.env.RESULTS.put(kvKey(job.key), JSON.stringify(stored), { metadata: { kind: stored.kind } });
      }
      this.ctx.storage.transactionSync(() => {
        this.q("UPDATE jobs SET status = 'done', error = NULL, updated_at = ? WHERE id = ?", Date.now(), id);
        this.q('DELETE FROM shard_results WHERE job_id = ?', id);
        this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
      });
    });
  }

  /** Stores a text in pieces of at most PART_CHARS characters (at most 4 bytes each in UTF-8: 1 MiB). */
  private storeText(id: string, index: number, what: 'payload' | 'computed', text: string): void {
    this.q('DELETE FROM shard_results WHERE job_id = ? AND idx = ? AND what = ?', id, index, what);
    for (let part = 0, at = 0; at < text.length || part === 0; part++, at += PART_CHARS) {
      this.q(
        'INSERT INTO shard_results (job_id, idx, what, part, data) VALUES (?, ?, ?, ?, ?)',
        id,
        index,
        what,
        part,
        text.slice(at, at + PART_CHARS),
      );
    }
  }

  private readText(id: string, index: number, what: 'payload' | 'computed'): string {
    return this.q<{ data: string }>(
      'SELECT data FROM shard_results WHERE job_id = ? AND idx = ? AND what = ? ORDER BY part',
      id,
      index,
      what,
    )
      .map((r) => r.data)
      .join('');
  }

  /** The running sum's float64 values, stored in pieces of at most MERGE_PART_VALUES (1 MiB). */
  private readMerge(id: string, head: MergeHead): Float64Array {
    const out = new Float64Array(head.length);
    let at = 0;
    for (const r of this.q<{ data: ArrayBuffer }>('SELECT data FROM merge_parts WHERE job_id = ? ORDER BY part', id)) {
      const part = new Float64Array(r.data);
      out.set(part, at);
      at += part.length;
    }
    if (at !== head.length) throw new Error(`job ${id}: the running sum holds ${at} values, not ${head.length}`);
    return out;
  }

  private writeMerge(id: string, acc: Float64Array): void {
    this.q('DELETE FROM merge_parts WHERE job_id = ?', id);
    for (let part = 0, at = 0; at < acc.length; part++, at += MERGE_PART_VALUES) {
      const slice = acc.slice(at, at + MERGE_PART_VALUES);
      this.q('INSERT INTO merge_parts (job_id, part, data) VALUES (?, ?, ?)', id, part, slice.buffer);
    }
  }
}

/** Float64 values per stored piece of a running sum (1 MiB: under the 2 MB row limit). */
const MERGE_PART_VALUES = 128 * 1024;

/** The board's single instance. */
export function board(env: Env) {
  return env.JOBS.get(env.JOBS.idFromName('board'));
}
