/**
 * The job index: one small SQLite-backed Durable Object in front of the per-job boards (board.ts).
 * It holds one row per job — its key (the content hash of its result), kind, status, creation time,
 * prerequisite and a `busy_until` hint — and the runners' last contacts; never a shard.
 *
 * - Submission claims a key here (the same key gives the same job id while the job is not
 *   cancelled), then creates the job on its own board.
 * - A lease walks the open jobs oldest first (of the runner's kinds, prerequisites done: filtered in
 *   SQLite) and asks each one's board for a shard until one has one. A board with nothing leasable
 *   answers when a shard frees up (a lease expiring, a backoff ending) and the index skips the job
 *   until then, so leases do not queue on a busy job's board; a board that frees a shard earlier (a
 *   release, a failure's retry, a resubmission) wakes its job here.
 * - Heartbeats, completions, failures and releases go straight to the job's board and never come
 *   here; a board tells the index when its job's status changes.
 *
 * So the index sees about one call per lease, and everything else spreads over the jobs' boards:
 * throughput grows with the number of jobs running at once (docs/job-board.md).
 */
import { DurableObject } from 'cloudflare:workers';
import type { JobStatus } from '../../protocol/job.js';
import type { DurableObjectState, Env } from '../env.js';
import { addCost, type BoardCost } from './board-cost.js';
import type { LeaseRecord } from './board.js';
import { jobBoard, type IndexContext } from './stubs.js';

/**
 * Open jobs (of the runner's kinds, prerequisites done, not marked busy) one lease asks, oldest
 * first, before it answers that there is nothing to do.
 */
const LEASE_SCAN_JOBS = 64;
/** A job whose board knows no time at which a shard frees up is skipped until woken (or this long). */
const IDLE_RECHECK_MS = 60_000;
const SCHEMA_VERSION = '1';

interface IndexRow {
  id: string;
  key: string;
  kind: string;
  status: JobStatus;
  error: string | null;
  created_at: number;
  needs: string | null;
  /** Leases skip the job before this time (its board said nothing is leasable until then). */
  busy_until: number;
  /** Incremented by every word from the job's board: a lease's stale `busy_until` never overwrites a newer wake. */
  wakes: number;
  /** The classifier the job computes for (its spec's `classifierId`), so deleting a classifier finds its jobs. */
  classifier_id: string | null;
}

const COLUMNS = 'id, key, kind, status, error, created_at, needs, busy_until, wakes, classifier_id';
/** COLUMNS of the table aliased `alias` in a join. */
const prefixed = (alias: string) =>
  COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** A job's prerequisite, joined by the key it produces (all null when it has none). */
interface PrerequisiteColumns {
  pre_id: string | null;
  pre_kind: string | null;
  pre_status: JobStatus | null;
  pre_error: string | null;
}

const zero = (): BoardCost => ({ statements: 0, rowsRead: 0, rowsWritten: 0 });

export class JobIndex extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS index_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    sql.exec(
      "INSERT INTO index_meta (k, v) VALUES ('schema', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      SCHEMA_VERSION,
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      error TEXT,
      created_at INTEGER NOT NULL,
      needs TEXT,
      busy_until INTEGER NOT NULL DEFAULT 0,
      wakes INTEGER NOT NULL DEFAULT 0,
      classifier_id TEXT
    )`);
    // Leasing walks the open jobs oldest first; listing pages newest first.
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at)');
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_recent ON jobs (created_at, id)');
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_by_classifier ON jobs (classifier_id)');
    sql.exec('CREATE TABLE IF NOT EXISTS runner_contacts (runner TEXT PRIMARY KEY, last_seen INTEGER NOT NULL)');
    sql.exec('CREATE INDEX IF NOT EXISTS runner_contacts_recent ON runner_contacts (last_seen)');
  }

  /** Runs a statement, adding it and the rows it read and wrote to `cost` (calls interleave at awaits). */
  private q<T>(cost: BoardCost, query: string, ...bindings: unknown[]): T[] {
    const cursor = this.ctx.storage.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    cost.statements++;
    cost.rowsRead += cursor.rowsRead;
    cost.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  private row(cost: BoardCost, where: 'id' | 'key', value: string): IndexRow | null {
    return this.q<IndexRow>(cost, `SELECT ${COLUMNS} FROM jobs WHERE ${where} = ?`, value)[0] ?? null;
  }

  /** The last contact of any runner (ms since the epoch), or null before the first. */
  private lastContact(cost: BoardCost): number | null {
    return this.q<{ t: number | null }>(cost, 'SELECT MAX(last_seen) AS t FROM runner_contacts')[0].t;
  }

  /** The prerequisite's job (by the key it produces) and the last runner contact. */
  private contextOf(cost: BoardCost, needs: string | null): IndexContext {
    const pre = needs === null ? null : this.row(cost, 'key', needs);
    return {
      lastContact: this.lastContact(cost),
      pre: pre === null ? null : { id: pre.id, kind: pre.kind, status: pre.status, error: pre.error },
    };
  }

  /**
   * The job id for `key`: the existing job's (unless it was cancelled: a new job, on a new board),
   * or a new one, queued. The caller then creates (or resubmits) it on its board.
   */
  claim(input: { key: string; kind: string; needs?: string; classifierId?: string }): {
    id: string;
    ctx: IndexContext;
    superseded: string | null;
  } {
    const cost = zero();
    return this.ctx.storage.transactionSync(() => {
      const existing = this.row(cost, 'key', input.key);
      if (existing && existing.status !== 'cancelled')
        return { id: existing.id, ctx: this.contextOf(cost, existing.needs), superseded: null };
      // A cancelled job is replaced by a new one (a new id, a new board); the caller empties its board.
      if (existing) this.q(cost, 'DELETE FROM jobs WHERE id = ?', existing.id);
      const id = crypto.randomUUID();
      this.q(
        cost,
        "INSERT INTO jobs (id, key, kind, status, created_at, needs, classifier_id) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
        id,
        input.key,
        input.kind,
        Date.now(),
        input.needs ?? null,
        input.classifierId ?? null,
      );
      return { id, ctx: this.contextOf(cost, input.needs ?? null), superseded: existing?.id ?? null };
    });
  }

  /** What job `id`'s view needs from the index; null when the index has no such job. */
  context(id: string): IndexContext | null {
    const cost = zero();
    const r = this.row(cost, 'id', id);
    return r ? this.contextOf(cost, r.needs) : null;
  }

  /** The id of the job computing `key` (null: none). */
  idOf(key: string): string | null {
    return this.row(zero(), 'key', key)?.id ?? null;
  }

  /**
   * A job's board reports its status, and (`wakeAt`) that a shard is leasable from then on: the job
   * is no longer skipped as busy after that time.
   */
  update(id: string, change: { status: JobStatus; error: string | null; wakeAt?: number }): void {
    this.q(
      zero(),
      'UPDATE jobs SET status = ?, error = ?, busy_until = MIN(busy_until, ?), wakes = wakes + 1 WHERE id = ?',
      change.status,
      change.error,
      change.wakeAt ?? 0,
      id,
    );
  }

  /** Forgets the job of `key` (its result was invalidated); its id, to forget it on its board too. */
  forget(key: string): string | null {
    const cost = zero();
    const r = this.row(cost, 'key', key);
    if (r) this.q(cost, 'DELETE FROM jobs WHERE id = ?', r.id);
    return r?.id ?? null;
  }

  /**
   * Forgets every job of a classifier (DELETE /v1/classifiers/{id}): their ids, to forget them on
   * their boards too, and their keys, to remove their results.
   */
  forgetClassifier(classifierId: string): Array<{ id: string; key: string }> {
    const cost = zero();
    return this.ctx.storage.transactionSync(() => {
      const rows = this.q<{ id: string; key: string }>(
        cost,
        'SELECT id, key FROM jobs WHERE classifier_id = ?',
        classifierId,
      );
      this.q(cost, 'DELETE FROM jobs WHERE classifier_id = ?', classifierId);
      return rows;
    });
  }

  /**
   * A page of job ids, newest first: `cursor` ("created_at:id" of the previous page's last job) keeps
   * pages stable while jobs are added. Each job's view comes from its board.
   */
  list(limit: number, cursor?: string): { ids: string[]; contexts: IndexContext[]; next: string | null } {
    const cost = zero();
    const [at, id] = cursor
      ? [Number(cursor.slice(0, cursor.indexOf(':'))), cursor.slice(cursor.indexOf(':') + 1)]
      : [Number.MAX_SAFE_INTEGER, ''];
    // One statement for the page and each job's prerequisite (a key is unique: at most one row
    // joins), one for the last runner contact, whatever the page's size.
    const rows = this.q<IndexRow & PrerequisiteColumns>(
      cost,
      `SELECT ${prefixed('j')}, p.id AS pre_id, p.kind AS pre_kind, p.status AS pre_status, p.error AS pre_error
       FROM jobs j LEFT JOIN jobs p ON p.key = j.needs
       WHERE j.created_at < ? OR (j.created_at = ? AND j.id < ?) ORDER BY j.created_at DESC, j.id DESC LIMIT ?`,
      at,
      at,
      id,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const lastContact = this.lastContact(cost);
    return {
      ids: page.map((r) => r.id),
      contexts: page.map((r) => ({
        lastContact,
        pre: r.pre_id === null ? null : { id: r.pre_id, kind: r.pre_kind!, status: r.pre_status!, error: r.pre_error },
      })),
      next: rows.length > limit && last ? `${last.created_at}:${last.id}` : null,
    };
  }

  /** Failed jobs, newest first (their boards hold the dead-lettered shards). */
  failed(limit: number): string[] {
    return this.q<{ id: string }>(
      zero(),
      "SELECT id FROM jobs WHERE status = 'failed' ORDER BY created_at DESC LIMIT ?",
      limit,
    ).map((r) => r.id);
  }

  /**
   * Leases a shard of the oldest open job that has one (of one of `kinds`, its prerequisite done) to
   * `owner` for `ttlMs`; null when none has. The cost is the index's and every board's it asked.
   */
  async lease(owner: string, ttlMs: number, kinds?: string[]): Promise<LeaseRecord | null> {
    let cost = zero();
    const now = Date.now();
    this.q(
      cost,
      'INSERT INTO runner_contacts (runner, last_seen) VALUES (?, ?) ON CONFLICT (runner) DO UPDATE SET last_seen = excluded.last_seen',
      owner,
      now,
    );
    // Kinds and prerequisites are filtered in SQLite (a key lookup per open job), so jobs waiting
    // for their ranking sums never use up the LEASE_SCAN_JOBS looked at.
    const kindList = kinds?.length ? kinds : [];
    const kindFilter = kindList.length ? `AND j.kind IN (${kindList.map(() => '?').join(', ')})` : '';
    const open = this.q<IndexRow>(
      cost,
      `SELECT ${prefixed('j')} FROM jobs j WHERE j.status IN ('queued', 'running') ${kindFilter} AND j.busy_until <= ?
         AND (j.needs IS NULL OR EXISTS (SELECT 1 FROM jobs d WHERE d.key = j.needs AND d.status = 'done'))
       ORDER BY j.created_at LIMIT ?`,
      ...kindList,
      now,
      LEASE_SCAN_JOBS,
    );
    for (const j of open) {
      const ctx = this.contextOf(cost, j.needs);
      const r = await jobBoard(this.env, j.id).leaseShard(j.id, owner, ttlMs, ctx);
      if (r.lease) {
        if (j.status !== r.status) this.q(cost, 'UPDATE jobs SET status = ? WHERE id = ?', r.status, j.id);
        return { ...r.lease, cost: addCost(cost, r.lease.cost) };
      }
      cost = addCost(cost, r.cost);
      // Unless the board woke the job meanwhile (a release while this lease was asking).
      this.q(
        cost,
        'UPDATE jobs SET status = COALESCE(?, status), busy_until = ? WHERE id = ? AND wakes = ?',
        r.status,
        r.busyUntil ?? Date.now() + IDLE_RECHECK_MS,
        j.id,
        j.wakes,
      );
    }
    return null;
  }
}
