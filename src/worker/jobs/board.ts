/**
 * The job board: one SQLite-backed Durable Object holding every heavy job (a sweep the edge will
 * not compute inline). A job is keyed by the content hash of the result it will produce (its
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
 * - Acknowledgement: `complete` stores the shard's partial sums (validated by the route first);
 *   when the last shard is in, the board merges them exactly (mergeRankingSums: order-independent,
 *   overlap-checked), writes the merged result to the result cache (KV) and marks the job done.
 * - A dead shard fails its job (status `failed`, the error of its last attempt); submitting the
 *   job again requeues the dead shards and keeps the finished ones.
 * - Prerequisites: a job may need another result first (`needs`: its key; the histograms, accuracy
 *   curves and corner cases of a sweep derive from its ranking sums). It is not leased before the
 *   job producing that result is done, and reads as failed while that job has failed.
 */
import { DurableObject } from 'cloudflare:workers';
import { mergeRankingSums, type RankingSums } from '../../core/analysis/ranking.js';
import { RESULT_SCHEMA, type ResultKind, type StoredResult } from '../../protocol/catalog.js';
import type { DurableObjectState, Env } from '../env.js';
import { kvKey } from '../results.js';
import { runnerPseudonym } from './pseudonym.js';

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const SHARD_STATUSES = ['queued', 'running', 'done', 'dead'] as const;
export type ShardStatus = (typeof SHARD_STATUSES)[number];

/** Leases a shard may use (expired or failed) before it is dead-lettered. */
export const MAX_ATTEMPTS = 3;
/** Backoff after a reported failure: RETRY_BASE_MS * 2^(failures - 1), at most RETRY_MAX_MS. */
export const RETRY_BASE_MS = 1000;
export const RETRY_MAX_MS = 60_000;
/**
 * Most shards one job is cut into (a smaller shard size is raised to fit): enough for a fleet of
 * runners to share a 200,000-sample sweep (100 samples a shard), few enough that a job's rows stay
 * small for the board.
 */
export const MAX_SHARDS = 2000;
/** Characters of a shard result per stored piece (the 2 MB row limit, 4-byte UTF-8 at worst). */
const RESULT_PART_CHARS = 256 * 1024;
/** Default shard size (samples); a submission may choose another. */
export const DEFAULT_SHARD_SIZE = 1000;

export interface ShardRecord {
  index: number;
  start: number;
  end: number;
  status: ShardStatus;
  done: number;
  attempts: number;
  failures: number;
  /** A running shard's lease: its holder's pseudonym (pseudonym.ts) and when it expires. */
  lease: { holder: string; expiresAt: string } | null;
  /** Not leasable before this time (backoff after a failure). */
  retryAt: string | null;
  samplesPerSecond: number | null;
  error: string | null;
  /** Pseudonym of the runner that completed it. */
  completedBy: string | null;
}

export interface JobRecord {
  id: string;
  /** Content hash of the result this job produces (the cache key and idempotency key). */
  key: string;
  kind: string;
  spec: Record<string, unknown>;
  status: JobStatus;
  progress: { done: number; total: number; samplesPerSecond: number | null; etaSeconds: number | null };
  /** Most leases used by any shard. */
  attempts: number;
  /** The running shards' leases (the first one, for single-shard jobs). */
  lease: { holder: string; expiresAt: string } | null;
  shardSize: number;
  shards: { total: number; queued: number; running: number; done: number; dead: number };
  retryAt: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  /** The result this job waits for (its key) and the job computing it, if any. */
  needs: { key: string; jobId: string | null; status: JobStatus | null } | null;
  /**
   * When any runner last called the board (lease, heartbeat, complete, fail, release), and for a
   * job still waiting for work, a note when none has for RUNNER_QUIET_MS ("no runner seen for 95 s").
   */
  runners: { lastContactAt: string | null; note: string | null };
}

/** A waiting job says no runner is connected when none has called the board for this long. */
export const RUNNER_QUIET_MS = 30_000;

/** A lease handed to a runner: the job and the shard it must compute. */
export interface LeaseRecord {
  job: JobRecord;
  /** The shard, with the lease's token: only its holder knows it, and every later call on the lease needs it. */
  shard: ShardRecord & { leaseToken: string };
}

interface JobRow {
  id: string;
  key: string;
  kind: string;
  spec: string;
  status: JobStatus;
  total: number;
  error: string | null;
  created_at: number;
  updated_at: number;
  needs: string | null;
  started_at: number | null;
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
  lease_owner: string | null;
  lease_expires: number | null;
  not_before: number;
  rate: number | null;
  error: string | null;
  completed_by: string | null;
  lease_token: string | null;
}

export type BoardResult = { ok: true; job: JobRecord } | { ok: false; status: 404 | 409; detail: string };
export type ShardCheck = { ok: true; job: JobRecord; shard: ShardRecord } | { ok: false; status: 404 | 409; detail: string };

const iso = (ms: number) => new Date(ms).toISOString();

function shardRecord(r: ShardRow, now: number): ShardRecord {
  // A lease that expired is shown as what it is, queued again (the next lease call takes it),
  // not as running until someone leases it.
  const expired = r.status === 'running' && (r.lease_expires ?? 0) < now;
  return {
    index: r.idx,
    start: r.start,
    end: r.end,
    status: expired ? 'queued' : r.status,
    done: r.status === 'done' ? r.end - r.start : expired ? 0 : r.done,
    attempts: r.attempts,
    failures: r.failures,
    lease: r.status === 'running' && !expired && r.lease_owner !== null ? { holder: runnerPseudonym(r.lease_owner), expiresAt: iso(r.lease_expires ?? 0) } : null,
    retryAt: r.status === 'queued' && r.not_before > now ? iso(r.not_before) : null,
    samplesPerSecond: r.status === 'running' ? r.rate : null,
    error: r.error,
    completedBy: runnerPseudonym(r.completed_by),
  };
}

export function backoffMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

export class JobBoard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      spec TEXT NOT NULL,
      status TEXT NOT NULL,
      done INTEGER NOT NULL DEFAULT 0,
      total INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_expires INTEGER,
      error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    )`);
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created_at)');
    // Boards created before prerequisites existed: add the column.
    const jobColumns = sql.exec<{ name: string }>('PRAGMA table_info(jobs)').toArray().map((c) => c.name);
    if (!jobColumns.includes('needs')) sql.exec('ALTER TABLE jobs ADD COLUMN needs TEXT');
    // When the first shard was leased (the job's throughput between heartbeats).
    if (!jobColumns.includes('started_at')) sql.exec('ALTER TABLE jobs ADD COLUMN started_at INTEGER');
    sql.exec(`CREATE TABLE IF NOT EXISTS shards (
      job_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      start INTEGER NOT NULL,
      end INTEGER NOT NULL,
      status TEXT NOT NULL,
      done INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      failures INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT,
      lease_expires INTEGER,
      not_before INTEGER NOT NULL DEFAULT 0,
      rate REAL,
      error TEXT,
      completed_by TEXT,
      result TEXT,
      PRIMARY KEY (job_id, idx)
    )`);
    sql.exec('CREATE INDEX IF NOT EXISTS shards_queue ON shards (status, not_before)');
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_recent ON jobs (created_at, id)');
    // Last contact of each runner (by name): so a job can say that nobody is computing it.
    sql.exec('CREATE TABLE IF NOT EXISTS runner_contacts (runner TEXT PRIMARY KEY, last_seen INTEGER NOT NULL)');
    // Shard results in pieces: a row (and a value) is limited to 2 MB, a runner's body to 16 MiB.
    sql.exec(`CREATE TABLE IF NOT EXISTS shard_results (
      job_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      part INTEGER NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (job_id, idx, part)
    )`);
    // The secret of a shard's current (or completing) lease: runner names are self-chosen and public.
    const shardColumns = sql.exec<{ name: string }>('PRAGMA table_info(shards)').toArray().map((c) => c.name);
    if (!shardColumns.includes('lease_token')) sql.exec('ALTER TABLE shards ADD COLUMN lease_token TEXT');
    // Jobs written before shards existed: one shard covering the whole job.
    sql.exec(
      "INSERT INTO shards (job_id, idx, start, end, status) SELECT id, 0, 0, total, CASE status WHEN 'done' THEN 'done' WHEN 'failed' THEN 'dead' ELSE 'queued' END FROM jobs WHERE id NOT IN (SELECT DISTINCT job_id FROM shards)",
    );
  }

  private jobRow(where: 'id' | 'key', value: unknown): JobRow | null {
    return this.ctx.storage.sql.exec<JobRow>(`SELECT id, key, kind, spec, status, total, error, created_at, updated_at, needs, started_at FROM jobs WHERE ${where} = ?`, value).toArray()[0] ?? null;
  }

  private shardRows(jobId: string): ShardRow[] {
    return this.ctx.storage.sql
      .exec<ShardRow>('SELECT job_id, idx, start, end, status, done, attempts, failures, lease_owner, lease_expires, not_before, rate, error, completed_by, lease_token FROM shards WHERE job_id = ? ORDER BY idx', jobId)
      .toArray();
  }

  /**
   * A job as the API shows it. Its shard counts, progress and rates are aggregated by SQLite over the
   * job's shards (the primary key's job_id prefix), not by loading every shard row into JavaScript:
   * a list of jobs costs a few statements per job, whatever their shard counts.
   */
  private record(r: JobRow): JobRecord {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    const a = sql
      .exec<{ total: number; queued: number; running: number; finished: number; dead: number; samples: number; attempts: number; rate_sum: number; rate_n: number; retry: number | null; first_size: number | null }>(
        `SELECT COUNT(*) AS total,
                COALESCE(SUM(status = 'queued' OR (status = 'running' AND lease_expires < ?1)), 0) AS queued,
                COALESCE(SUM(status = 'running' AND lease_expires >= ?1), 0) AS running,
                COALESCE(SUM(status = 'done'), 0) AS finished,
                COALESCE(SUM(status = 'dead'), 0) AS dead,
                COALESCE(SUM(CASE WHEN status = 'done' THEN end - start WHEN status = 'running' AND lease_expires < ?1 THEN 0 ELSE done END), 0) AS samples,
                COALESCE(MAX(attempts), 0) AS attempts,
                COALESCE(SUM(CASE WHEN status = 'running' AND lease_expires >= ?1 AND rate > 0 THEN rate ELSE 0 END), 0) AS rate_sum,
                COALESCE(SUM(status = 'running' AND lease_expires >= ?1 AND rate > 0), 0) AS rate_n,
                MIN(CASE WHEN status = 'queued' AND not_before > ?1 THEN not_before END) AS retry,
                MAX(CASE WHEN idx = 0 THEN end - start END) AS first_size
         FROM shards WHERE job_id = ?2`,
        now,
        r.id,
      )
      .one();
    const lease = sql.exec<{ lease_owner: string | null; lease_expires: number | null }>("SELECT lease_owner, lease_expires FROM shards WHERE job_id = ? AND status = 'running' AND lease_expires >= ? ORDER BY idx LIMIT 1", r.id, now).toArray()[0];
    const done = a.samples;
    // Shards that finish between two heartbeats never report a rate: then the job's own
    // throughput since its first lease stands in.
    const elapsed = r.started_at === null ? 0 : (now - r.started_at) / 1000;
    const rate = a.rate_n > 0 ? a.rate_sum : r.status === 'running' && done > 0 && elapsed > 0 ? done / elapsed : null;
    const retry = a.retry === null ? null : iso(a.retry);
    const pre = r.needs === null ? null : this.jobRow('key', r.needs);
    const blocked = pre?.status === 'failed' && r.status !== 'done';
    const last = sql.exec<{ t: number | null }>('SELECT MAX(last_seen) AS t FROM runner_contacts').one().t;
    const waiting = !blocked && (r.status === 'queued' || r.status === 'running') && a.running === 0;
    const quiet = last === null ? null : now - last;
    const note = waiting && (quiet === null || quiet > RUNNER_QUIET_MS) ? (quiet === null ? 'no runner has contacted the board yet: start one (npm run runner)' : `no runner seen for ${Math.round(quiet / 1000)} s: start one (npm run runner)`) : null;
    return {
      id: r.id,
      key: r.key,
      kind: r.kind,
      spec: JSON.parse(r.spec) as Record<string, unknown>,
      // A running job whose every lease expired and nothing finished is waiting again: queued.
      status: blocked ? 'failed' : r.status === 'running' && a.running === 0 && a.finished === 0 ? 'queued' : r.status,
      progress: { done: r.status === 'done' ? r.total : done, total: r.total, samplesPerSecond: rate, etaSeconds: rate && r.status === 'running' ? Math.max(0, (r.total - done) / rate) : null },
      attempts: a.attempts,
      lease: lease && lease.lease_owner !== null ? { holder: runnerPseudonym(lease.lease_owner), expiresAt: iso(lease.lease_expires ?? 0) } : null,
      shardSize: a.first_size ?? 0,
      shards: { total: a.total, queued: a.queued, running: a.running, done: a.finished, dead: a.dead },
      retryAt: retry,
      error: blocked ? `the ${pre.kind} job ${pre.id} it needs failed: ${pre.error ?? 'unknown error'} (submitting this job again retries it)` : r.error,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      needs: r.needs === null ? null : { key: r.needs, jobId: pre?.id ?? null, status: pre?.status ?? null },
      runners: { lastContactAt: last === null ? null : iso(last), note },
    };
  }

  /** Job status from its shards (done is set only by the merge). */
  private refresh(jobId: string, error?: string): void {
    const sql = this.ctx.storage.sql;
    const job = this.jobRow('id', jobId);
    if (!job || job.status === 'done') return;
    // Aggregated in SQL: no shard rows in JavaScript.
    const n = sql.exec<{ dead: number; started: number }>("SELECT COALESCE(SUM(status = 'dead'), 0) AS dead, COALESCE(SUM(status IN ('running', 'done')), 0) AS started FROM shards WHERE job_id = ?", jobId).one();
    const status: JobStatus = n.dead > 0 ? 'failed' : n.started > 0 ? 'running' : 'queued';
    sql.exec('UPDATE jobs SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE id = ?', status, error ?? null, Date.now(), jobId);
  }

  /**
   * Creates the job of `key` cut into shards of `shardSize` samples, or returns the existing one
   * (`created: false`); a failed one has its dead shards queued again (finished shards are kept).
   */
  submit(input: { key: string; kind: string; spec: Record<string, unknown>; total: number; shardSize?: number; needs?: string }): { job: JobRecord; created: boolean } {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      const existing = this.jobRow('key', input.key);
      if (existing && existing.status === 'failed') {
        sql.exec("UPDATE shards SET status = 'queued', attempts = 0, failures = 0, done = 0, not_before = 0, lease_owner = NULL, lease_expires = NULL WHERE job_id = ? AND status = 'dead'", existing.id);
        sql.exec('UPDATE jobs SET started_at = NULL WHERE id = ?', existing.id);
        this.refresh(existing.id);
        return { job: this.record(this.jobRow('id', existing.id)!), created: false };
      }
      if (existing) return { job: this.record(existing), created: false };
      const now = Date.now();
      const id = crypto.randomUUID();
      // Only ranking sums are mergeable; other kinds are computed whole.
      // At most MAX_SHARDS per job: a smaller shard size asked for is raised to fit.
      const size = input.kind === 'ranking-sums' ? Math.max(1, Math.ceil(input.total / MAX_SHARDS), Math.min(input.total, input.shardSize ?? DEFAULT_SHARD_SIZE)) : input.total;
      sql.exec('INSERT INTO jobs (id, key, kind, spec, status, total, created_at, updated_at, needs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', id, input.key, input.kind, JSON.stringify(input.spec), 'queued', input.total, now, now, input.needs ?? null);
      for (let i = 0, start = 0; start < input.total; i++, start += size) {
        sql.exec("INSERT INTO shards (job_id, idx, start, end, status) VALUES (?, ?, ?, ?, 'queued')", id, i, start, Math.min(input.total, start + size));
      }
      return { job: this.record(this.jobRow('id', id)!), created: true };
    });
  }

  get(id: string): JobRecord | null {
    const r = this.jobRow('id', id);
    return r ? this.record(r) : null;
  }

  /**
   * Forgets the job of `key` and its shards (its result was invalidated): a later submission of the
   * same key creates a fresh job. A runner still holding a lease of it gets 404 at its next call.
   */
  forget(key: string): boolean {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      const job = this.jobRow('key', key);
      if (!job) return false;
      sql.exec('DELETE FROM shards WHERE job_id = ?', job.id);
      sql.exec('DELETE FROM shard_results WHERE job_id = ?', job.id);
      sql.exec('DELETE FROM jobs WHERE id = ?', job.id);
      return true;
    });
  }

  byKey(key: string): JobRecord | null {
    const r = this.jobRow('key', key);
    return r ? this.record(r) : null;
  }

  /**
   * A page of jobs, newest first: `cursor` ("created_at:id" of the previous page's last job) keeps
   * pages stable while jobs are added. O(page): each job's shard figures are aggregated in SQL.
   */
  list(limit: number, cursor?: string): { jobs: JobRecord[]; next: string | null } {
    const [at, id] = cursor ? [Number(cursor.slice(0, cursor.indexOf(':'))), cursor.slice(cursor.indexOf(':') + 1)] : [Number.MAX_SAFE_INTEGER, ''];
    const rows = this.ctx.storage.sql
      .exec<JobRow>(
        'SELECT id, key, kind, spec, status, total, error, created_at, updated_at, needs, started_at FROM jobs WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?',
        at, at, id, limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map((r) => this.record(r)), next: rows.length > limit && last ? `${last.created_at}:${last.id}` : null };
  }

  /** Every shard of a job (status, leases, retries). */
  shards(id: string): ShardRecord[] | null {
    if (!this.jobRow('id', id)) return null;
    const now = Date.now();
    return this.shardRows(id).map((s) => shardRecord(s, now));
  }

  /** Dead-lettered shards, newest jobs first. */
  deadLetters(limit: number): Array<{ jobId: string; key: string; shard: ShardRecord }> {
    const now = Date.now();
    return this.ctx.storage.sql
      .exec<ShardRow & { key: string }>("SELECT s.*, j.key AS key FROM shards s JOIN jobs j ON j.id = s.job_id WHERE s.status = 'dead' ORDER BY j.created_at DESC, s.idx LIMIT ?", limit)
      .toArray()
      .map((r) => ({ jobId: r.job_id, key: r.key, shard: shardRecord(r, now) }));
  }

  /**
   * Leases the first available shard of the oldest job (of one of `kinds`, its prerequisite done)
   * to `owner` for `ttlMs`: a queued shard past its backoff, or a running one whose lease expired.
   * An expired shard that used its last attempt is dead-lettered instead.
   */
  lease(owner: string, ttlMs: number, kinds?: string[]): LeaseRecord | null {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.contact(owner);
    return this.ctx.storage.transactionSync(() => {
      const expiredDead = sql
        .exec<{ job_id: string }>("SELECT job_id FROM shards WHERE status = 'running' AND lease_expires < ? AND attempts >= ?", now, MAX_ATTEMPTS)
        .toArray();
      if (expiredDead.length) {
        sql.exec("UPDATE shards SET status = 'dead', error = COALESCE(error, 'lease expired on the last attempt'), lease_owner = NULL, lease_expires = NULL WHERE status = 'running' AND lease_expires < ? AND attempts >= ?", now, MAX_ATTEMPTS);
        for (const j of new Set(expiredDead.map((r) => r.job_id))) this.refresh(j, `shard lease expired after ${MAX_ATTEMPTS} attempts`);
      }
      const kindFilter = kinds && kinds.length ? `AND j.kind IN (${kinds.map(() => '?').join(', ')})` : '';
      const r = sql
        .exec<ShardRow>(
          `SELECT s.job_id, s.idx FROM shards s JOIN jobs j ON j.id = s.job_id
           WHERE j.status IN ('queued', 'running') ${kindFilter}
             AND (j.needs IS NULL OR EXISTS (SELECT 1 FROM jobs d WHERE d.key = j.needs AND d.status = 'done'))
             AND ((s.status = 'queued' AND s.not_before <= ?) OR (s.status = 'running' AND s.lease_expires < ?))
           ORDER BY j.created_at, s.idx LIMIT 1`,
          ...(kinds && kinds.length ? kinds : []),
          now,
          now,
        )
        .toArray()[0];
      if (!r) return null;
      // 244 random bits: unguessable, and new for every lease.
      const leaseToken = `${crypto.randomUUID()}${crypto.randomUUID()}`.replace(/-/g, '');
      sql.exec(
        "UPDATE shards SET status = 'running', lease_owner = ?, lease_token = ?, lease_expires = ?, attempts = attempts + 1, done = 0, rate = NULL WHERE job_id = ? AND idx = ?",
        owner, leaseToken, now + ttlMs, r.job_id, r.idx,
      );
      sql.exec('UPDATE jobs SET started_at = COALESCE(started_at, ?) WHERE id = ?', now, r.job_id);
      this.refresh(r.job_id);
      const job = this.record(this.jobRow('id', r.job_id)!);
      const shard = shardRecord(this.shardRows(r.job_id).find((s) => s.idx === r.idx)!, now);
      return { job: { ...job, attempts: shard.attempts, lease: shard.lease }, shard: { ...shard, leaseToken } };
    });
  }

  /** Records that a runner called the board. */
  private contact(runner: string): void {
    this.ctx.storage.sql.exec('INSERT INTO runner_contacts (runner, last_seen) VALUES (?, ?) ON CONFLICT (runner) DO UPDATE SET last_seen = excluded.last_seen', runner, Date.now());
  }

  /** The shard `index` of job `id` when `token` is its unexpired lease's (the runner name is a label). */
  owned(id: string, index: number, token: string): ShardCheck {
    const j = this.jobRow('id', id);
    if (!j) return { ok: false, status: 404, detail: `no job ${id}` };
    const s = this.shardRows(id).find((x) => x.idx === index);
    if (!s) return { ok: false, status: 404, detail: `job ${id} has no shard ${index}` };
    if (s.status !== 'running' || s.lease_token === null || s.lease_token !== token) return { ok: false, status: 409, detail: `shard ${index} of job ${id} is ${s.status} and this is not its lease` };
    if (s.lease_owner !== null) this.contact(s.lease_owner);
    if ((s.lease_expires ?? 0) < Date.now()) return { ok: false, status: 409, detail: `the lease of shard ${index} of job ${id} expired` };
    return { ok: true, job: this.record(j), shard: shardRecord(s, Date.now()) };
  }

  /** Extends the lease and records progress (samples done in the shard, samples/s). */
  heartbeat(id: string, index: number, token: string, progress: { done: number; samplesPerSecond?: number }, ttlMs: number): BoardResult {
    const o = this.owned(id, index, token);
    if (!o.ok) return o;
    const now = Date.now();
    const done = Math.min(progress.done, o.shard.end - o.shard.start);
    this.ctx.storage.sql.exec('UPDATE shards SET done = ?, rate = ?, lease_expires = ? WHERE job_id = ? AND idx = ?', done, progress.samplesPerSecond ?? null, now + ttlMs, id, index);
    this.ctx.storage.sql.exec('UPDATE jobs SET updated_at = ? WHERE id = ?', now, id);
    return { ok: true, job: this.record(this.jobRow('id', id)!) };
  }

  /** Gives a lease back unfinished (graceful shutdown): queued again at once, the attempt not counted. */
  release(id: string, index: number, token: string): BoardResult {
    const o = this.owned(id, index, token);
    if (!o.ok) return o;
    this.ctx.storage.sql.exec("UPDATE shards SET status = 'queued', attempts = MAX(0, attempts - 1), done = 0, rate = NULL, lease_owner = NULL, lease_token = NULL, lease_expires = NULL WHERE job_id = ? AND idx = ?", id, index);
    this.refresh(id);
    return { ok: true, job: this.record(this.jobRow('id', id)!) };
  }

  /**
   * Acknowledges a shard with its (already validated) result. When it is the last one, merges the
   * shards, writes the result to the cache under the job key and marks the job done.
   */
  async complete(id: string, index: number, token: string, owner: string, payload: unknown, computed: Record<string, unknown>): Promise<BoardResult> {
    const o = this.owned(id, index, token);
    const sql = this.ctx.storage.sql;
    if (!o.ok) {
      // A repeated acknowledgement (the runner lost the answer) succeeds, and finishes the merge if
      // an earlier attempt at it was interrupted.
      const s = this.shardRows(id).find((x) => x.idx === index);
      if (!s || s.status !== 'done' || s.lease_token !== token) return o;
      const j = this.jobRow('id', id)!;
      if (j.status !== 'done' && this.shardRows(id).every((x) => x.status === 'done')) await this.finish(id);
      return { ok: true, job: this.record(this.jobRow('id', id)!) };
    }
    // The token stays with the done shard: a repeated acknowledgement (lost answer) must carry it.
    sql.exec("UPDATE shards SET status = 'done', done = end - start, rate = NULL, lease_owner = NULL, lease_expires = NULL, completed_by = ?, result = NULL WHERE job_id = ? AND idx = ?", owner, id, index);
    this.storeShardResult(id, index, JSON.stringify({ payload, computed }));
    this.refresh(id);
    const remaining = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM shards WHERE job_id = ? AND status != 'done'", id).one().n;
    if (remaining === 0) await this.finish(id);
    return { ok: true, job: this.record(this.jobRow('id', id)!) };
  }

  /** Merges the shards of a job whose shards are all done and stores the result (idempotent). */
  private async finish(id: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    const job = this.jobRow('id', id)!;
    const rows = sql.exec<{ idx: number; result: string | null; completed_by: string }>('SELECT idx, result, completed_by FROM shards WHERE job_id = ? ORDER BY idx', id).toArray();
    // `result`: shards completed before results were stored in pieces.
    const parts = rows.map((r) => JSON.parse(r.result ?? this.shardResult(id, r.idx)) as { payload: unknown; computed: Record<string, unknown> });
    let payload: unknown;
    if (job.kind === 'ranking-sums') {
      const merged = mergeRankingSums(parts.map((p) => p.payload as RankingSums));
      if (merged.ranges.length !== 1 || merged.ranges[0][0] !== 0 || merged.ranges[0][1] !== job.total) {
        throw new Error(`merged shards cover ${JSON.stringify(merged.ranges)}, not [0, ${job.total})`);
      }
      // Never store a merge that is not finite (it would be served as nulls): fail the job instead.
      for (const f of ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const) {
        const bad = merged[f].findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          sql.exec("UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?", `the merged shards are not finite (${f}.${bad} = ${merged[f][bad]}): resubmit to recompute`, Date.now(), id);
          sql.exec("UPDATE shards SET status = 'dead', result = NULL WHERE job_id = ?", id);
          sql.exec('DELETE FROM shard_results WHERE job_id = ?', id);
          return;
        }
      }
      payload = merged;
    } else {
      payload = parts[0].payload;
    }
    const spec = JSON.parse(job.spec) as { classifier: string; seed: number; count: number; options?: Record<string, unknown>; generatorId: string; classifierId: string };
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
        ...(parts.length === 1 ? parts[0].computed : {}),
        jobId: id,
        // Runners by pseudonym (a hash of the self-chosen name, often a hostname): results are public.
        shards: rows.map((r, i) => ({ index: r.idx, ...parts[i].computed, runner: runnerPseudonym(r.completed_by) })),
        runners: [...new Set(rows.map((r) => runnerPseudonym(r.completed_by)))],
        completedAt: new Date().toISOString(),
      },
      payload,
    };
    // Results are immutable: an existing entry under the key wins.
    if ((await this.env.RESULTS.get(kvKey(job.key), 'text')) === null) {
      await this.env.RESULTS.put(kvKey(job.key), JSON.stringify(stored), { metadata: { kind: stored.kind } });
    }
    sql.exec("UPDATE jobs SET status = 'done', error = NULL, updated_at = ? WHERE id = ?", Date.now(), id);
    sql.exec('UPDATE shards SET result = NULL WHERE job_id = ?', id);
    sql.exec('DELETE FROM shard_results WHERE job_id = ?', id);
  }

  /** Stores a shard's result text in pieces of at most RESULT_PART_CHARS characters (at most 4 bytes each in UTF-8: 1 MiB). */
  private storeShardResult(id: string, index: number, text: string): void {
    const sql = this.ctx.storage.sql;
    sql.exec('DELETE FROM shard_results WHERE job_id = ? AND idx = ?', id, index);
    for (let part = 0, at = 0; at < text.length || part === 0; part++, at += RESULT_PART_CHARS) {
      sql.exec('INSERT INTO shard_results (job_id, idx, part, data) VALUES (?, ?, ?, ?)', id, index, part, text.slice(at, at + RESULT_PART_CHARS));
    }
  }

  private shardResult(id: string, index: number): string {
    return this.ctx.storage.sql
      .exec<{ data: string }>('SELECT data FROM shard_results WHERE job_id = ? AND idx = ? ORDER BY part', id, index)
      .toArray()
      .map((r) => r.data)
      .join('');
  }

  /** Records a failure: the shard is retried after a backoff, or dead-lettered on its last attempt. */
  fail(id: string, index: number, token: string, error: string): BoardResult {
    const o = this.owned(id, index, token);
    if (!o.ok) return o;
    const failures = o.shard.failures + 1;
    const dead = o.shard.attempts >= MAX_ATTEMPTS;
    this.ctx.storage.sql.exec(
      'UPDATE shards SET status = ?, failures = ?, not_before = ?, error = ?, done = 0, rate = NULL, lease_owner = NULL, lease_token = NULL, lease_expires = NULL WHERE job_id = ? AND idx = ?',
      dead ? 'dead' : 'queued', failures, dead ? 0 : Date.now() + backoffMs(failures), error.slice(0, 2000), id, index,
    );
    this.refresh(id, error.slice(0, 2000));
    return { ok: true, job: this.record(this.jobRow('id', id)!) };
  }
}

/** The board's single instance. */
export function board(env: Env) {
  return env.JOBS.get(env.JOBS.idFromName('board'));
}
