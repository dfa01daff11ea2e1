/**
 * The job board: one SQLite-backed Durable Object holding every heavy job (a sweep the edge will
 * not compute inline). A job is keyed by the content hash of the result it will produce, so
 * submitting the same work twice returns the same job. Runners (issue #6) lease a job for a while,
 * extend the lease with heartbeats that report progress, and complete or fail it; a lease that
 * expires puts the job back in the queue.
 *
 *   queued --lease--> running --complete--> done
 *      ^                 |  \--fail-------> failed (after MAX_ATTEMPTS; else back to queued)
 *      \--lease expired--/
 */
import { DurableObject } from 'cloudflare:workers';
import type { DurableObjectState, Env } from '../env.js';

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Attempts before a failing job stays failed. */
export const MAX_ATTEMPTS = 3;

export interface JobRecord {
  id: string;
  /** Content hash of the result this job produces (the cache key). */
  key: string;
  kind: string;
  spec: Record<string, unknown>;
  status: JobStatus;
  progress: { done: number; total: number };
  attempts: number;
  lease: { owner: string; expiresAt: string } | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  key: string;
  kind: string;
  spec: string;
  status: JobStatus;
  done: number;
  total: number;
  attempts: number;
  lease_owner: string | null;
  lease_expires: number | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export type BoardResult = { ok: true; job: JobRecord } | { ok: false; status: 404 | 409; detail: string };

const iso = (ms: number) => new Date(ms).toISOString();

function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    key: r.key,
    kind: r.kind,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
    status: r.status,
    progress: { done: r.done, total: r.total },
    attempts: r.attempts,
    lease: r.status === 'running' && r.lease_owner !== null ? { owner: r.lease_owner, expiresAt: iso(r.lease_expires ?? 0) } : null,
    error: r.error,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export class JobBoard extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
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
    ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created_at)');
  }

  private row(where: string, value: unknown): Row | null {
    return this.ctx.storage.sql.exec<Row>(`SELECT * FROM jobs WHERE ${where} = ?`, value).toArray()[0] ?? null;
  }

  /** Creates the job of `key`, or returns the existing one (`created: false`); a failed one is queued again. */
  submit(input: { key: string; kind: string; spec: Record<string, unknown>; total: number }): { job: JobRecord; created: boolean } {
    const existing = this.row('key', input.key);
    if (existing && existing.status === 'failed') {
      this.ctx.storage.sql.exec("UPDATE jobs SET status = 'queued', attempts = 0, done = 0, updated_at = ? WHERE id = ?", Date.now(), existing.id);
      return { job: toRecord(this.row('id', existing.id)!), created: false };
    }
    if (existing) return { job: toRecord(existing), created: false };
    const now = Date.now();
    const id = crypto.randomUUID();
    this.ctx.storage.sql.exec(
      'INSERT INTO jobs (id, key, kind, spec, status, total, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      id, input.key, input.kind, JSON.stringify(input.spec), 'queued', input.total, now, now,
    );
    return { job: toRecord(this.row('id', id)!), created: true };
  }

  get(id: string): JobRecord | null {
    const r = this.row('id', id);
    return r ? toRecord(r) : null;
  }

  byKey(key: string): JobRecord | null {
    const r = this.row('key', key);
    return r ? toRecord(r) : null;
  }

  list(limit: number): JobRecord[] {
    return this.ctx.storage.sql.exec<Row>('SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?', limit).toArray().map(toRecord);
  }

  /** Leases the oldest queued job (or one whose lease expired) to `owner` for `ttlMs`. */
  lease(owner: string, ttlMs: number): JobRecord | null {
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      const r = this.ctx.storage.sql
        .exec<Row>("SELECT * FROM jobs WHERE status = 'queued' OR (status = 'running' AND lease_expires < ?) ORDER BY created_at LIMIT 1", now)
        .toArray()[0];
      if (!r) return null;
      this.ctx.storage.sql.exec(
        "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
        owner, now + ttlMs, now, r.id,
      );
      return toRecord(this.row('id', r.id)!);
    });
  }

  private owned(id: string, owner: string): { ok: true; row: Row } | { ok: false; status: 404 | 409; detail: string } {
    const r = this.row('id', id);
    if (!r) return { ok: false, status: 404, detail: `no job ${id}` };
    if (r.status !== 'running' || r.lease_owner !== owner) return { ok: false, status: 409, detail: `job ${id} is ${r.status} and not leased to ${owner}` };
    if ((r.lease_expires ?? 0) < Date.now()) return { ok: false, status: 409, detail: `the lease of job ${id} expired` };
    return { ok: true, row: r };
  }

  /** Extends the lease and records progress. */
  heartbeat(id: string, owner: string, progress: { done: number; total: number }, ttlMs: number): BoardResult {
    const o = this.owned(id, owner);
    if (!o.ok) return o;
    const now = Date.now();
    this.ctx.storage.sql.exec('UPDATE jobs SET done = ?, total = ?, lease_expires = ?, updated_at = ? WHERE id = ?', progress.done, progress.total, now + ttlMs, now, id);
    return { ok: true, job: toRecord(this.row('id', id)!) };
  }

  /** Marks the job done (its result is already stored under its key). */
  complete(id: string, owner: string): BoardResult {
    const o = this.owned(id, owner);
    if (!o.ok) return o;
    this.ctx.storage.sql.exec("UPDATE jobs SET status = 'done', done = total, lease_owner = NULL, lease_expires = NULL, updated_at = ? WHERE id = ?", Date.now(), id);
    return { ok: true, job: toRecord(this.row('id', id)!) };
  }

  /** Records a failure: back to the queue, or failed for good after MAX_ATTEMPTS. */
  fail(id: string, owner: string, error: string): BoardResult {
    const o = this.owned(id, owner);
    if (!o.ok) return o;
    const status: JobStatus = o.row.attempts >= MAX_ATTEMPTS ? 'failed' : 'queued';
    this.ctx.storage.sql.exec('UPDATE jobs SET status = ?, error = ?, lease_owner = NULL, lease_expires = NULL, updated_at = ? WHERE id = ?', status, error.slice(0, 2000), Date.now(), id);
    return { ok: true, job: toRecord(this.row('id', id)!) };
  }
}

/** The board's single instance. */
export function board(env: Env) {
  return env.JOBS.get(env.JOBS.idFromName('board'));
}
