/**
 * A job board's SQLite schema: the job row (with the shard counters every transition keeps), its
 * shards, the runners' last contacts, the shard results waiting to be folded or published and the
 * running sum; the rows as the board reads them, and the statements that read one. An older schema's
 * tables are replaced.
 */
import type { JobStatus, ShardStatus } from '../../protocol/job.js';
import type { DurableObjectState } from '../env.js';

export interface JobRow {
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
  /**
   * Sums over the running shards (expired leases included, as n_running): samples done, positive
   * samples/s and how many report one, kept by every transition so a job's view reads only its
   * expired leases, never one row per busy runner.
   */
  run_done: number;
  run_rate: number;
  run_rated: number;
  /** Shards [0, merged) are folded into the running sum (ranking sums). */
  merged: number;
  /** Spec hash and shape of the running sum (JSON), set by the first fold. */
  merge_head: string | null;
  /** The prerequisite's job as the index last described it (`needs`); null without one. */
  pre_id: string | null;
  pre_kind: string | null;
  pre_status: JobStatus | null;
  pre_error: string | null;
  /** The last runner contact the index reported (leases go to the index, not to this board). */
  index_contact: number | null;
  /** The status the index holds for this job (null: not told yet). */
  indexed: JobStatus | null;
  /** 1 once this board answered the index that nothing is leasable: a release or requeue must wake it. */
  idle: number;
}

export interface ShardRow {
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

const JOB_COLUMNS =
  'id, key, kind, spec, status, total, shard_size, error, created_at, updated_at, needs, started_at, ' +
  'n_shards, n_queued, n_running, n_done, n_dead, done_samples, max_attempts, run_done, run_rate, run_rated, ' +
  'merged, merge_head, pre_id, pre_kind, pre_status, pre_error, index_contact, indexed, idle';
export const SHARD_COLUMNS =
  'job_id, idx, start, end, status, done, attempts, failures, due, holder, lease_token, rate, error, completed_by';

/** Runs a statement on the board's SQLite, counting its cost (JobBoard's `q`). */
export type Query = <T>(query: string, ...bindings: unknown[]) => T[];

export function jobRow(q: Query, id: string): JobRow | null {
  return q<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`, id)[0] ?? null;
}

export function shardRow(q: Query, jobId: string, index: number): ShardRow | null {
  return q<ShardRow>(`SELECT ${SHARD_COLUMNS} FROM shards WHERE job_id = ? AND idx = ?`, jobId, index)[0] ?? null;
}
/** The schema this code writes (board_meta.schema); an older board's tables are replaced. */
const SCHEMA_VERSION = '4';

/** Creates the board's tables (replacing an older schema's). */
export function createBoardSchema(sql: DurableObjectState['storage']['sql']): void {
  sql.exec('CREATE TABLE IF NOT EXISTS board_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
  const version = sql.exec<{ v: string }>("SELECT v FROM board_meta WHERE k = 'schema'").toArray()[0]?.v;
  if (version !== SCHEMA_VERSION) {
    // A board written by an earlier schema (local development state only: none was deployed;
    // schema 2 was the single board of every job) is replaced; its jobs are dropped, their results
    // stay in KV and are still served.
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
    run_done INTEGER NOT NULL DEFAULT 0,
    run_rate REAL NOT NULL DEFAULT 0,
    run_rated INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0,
    merge_head TEXT,
    pre_id TEXT,
    pre_kind TEXT,
    pre_status TEXT,
    pre_error TEXT,
    index_contact INTEGER,
    indexed TEXT,
    idle INTEGER NOT NULL DEFAULT 0
  )`);
  // One job per board (its id is the board's name): leasing order and listing are the index's.
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
