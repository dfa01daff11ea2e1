/**
 * The statements of a job board's lease state machine (the diagram is board.ts's): dead-lettering
 * expired leases, picking the next leasable shard, granting a lease, checking a runner's lease, and
 * a shard's move on a heartbeat, release, failure or completion. JobBoard runs them inside its
 * transactions and counts their cost, so the order of statements here is the order a call pays for.
 *
 * Every move of a shard updates the job row's counters and running sums in the same breath: a
 * job's view and the next lease read those, never every shard (docs/job-board.md).
 */
import { RUN_SET, runDelta } from './board-rows.js';
import { jobRow, shardRow, type JobRow, type Query, type ShardRow } from './board-schema.js';

/** Leases a shard may use (expired or failed) before it is dead-lettered. */
export const MAX_ATTEMPTS = 3;
/** Backoff after a reported failure: RETRY_BASE_MS * 2^(failures - 1), at most RETRY_MAX_MS. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

function backoffMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** A runner's call on its lease: allowed (the job and shard as they were), or why not. */
export type Owned =
  | { ok: true; job: JobRow; shard: ShardRow }
  | { ok: false; status: 404 | 409; type: 'not-found' | 'conflict' | 'job-cancelled'; detail: string };

/** What a lease takes: a queued shard, or an expired lease (`gone`: its share of the running sums). */
interface LeasableShard {
  idx: number;
  wasQueued: boolean;
  gone: { done: number; rate: number | null }[];
}

/** Records that a runner called the board (a waiting job says whether anyone is computing). */
export function contact(q: Query, runner: string, now: number): void {
  q(
    'INSERT INTO runner_contacts (runner, last_seen) VALUES (?, ?) ON CONFLICT (runner) DO UPDATE SET last_seen = excluded.last_seen',
    runner,
    now,
  );
}

/**
 * Dead-letters the job's expired leases that used their last attempt, before any lease is handed
 * out: a shard that keeps killing its runners must fail the job, not be leased forever. Returns how
 * many died (the caller fails the job when any did).
 */
export function deadLetterExpired(q: Query, id: string, now: number): number {
  const dead = q<{ done: number; rate: number | null }>(
    `UPDATE shards SET status = 'dead', error = COALESCE(error, 'lease expired on the last attempt'), holder = NULL
         WHERE job_id = ? AND status = 'running' AND due < ? AND attempts >= ?
         RETURNING done, rate`,
    id,
    now,
    MAX_ATTEMPTS,
  );
  const died = dead.length;
  if (died > 0) {
    q(
      `UPDATE jobs SET n_running = n_running - ?, n_dead = n_dead + ?, ${RUN_SET} WHERE id = ?`,
      died,
      died,
      ...runDelta(dead),
      id,
    );
  }
  return died;
}

/**
 * The shard the next lease takes: an expired lease or the lowest queued shard past its backoff,
 * whichever has the lower index (so a job finishes from its head, where the running sum folds);
 * null when every shard is leased, in backoff or finished.
 */
export function nextLeasable(q: Query, id: string, now: number): LeasableShard | null {
  const expired = q<{ idx: number; done: number; rate: number | null }>(
    "SELECT idx, done, rate FROM shards WHERE job_id = ? AND status = 'running' AND due < ? ORDER BY due LIMIT 1",
    id,
    now,
  )[0];
  // Queued and leasable shards have due 0 (index order gives the lowest index); a queued
  // shard in backoff has its retry time, taken once it has passed.
  const queued =
    q<{ idx: number }>(
      "SELECT idx FROM shards WHERE job_id = ? AND status = 'queued' AND due = 0 ORDER BY idx LIMIT 1",
      id,
    )[0] ??
    q<{ idx: number }>(
      "SELECT idx FROM shards WHERE job_id = ? AND status = 'queued' AND due BETWEEN 1 AND ? ORDER BY due LIMIT 1",
      id,
      now,
    )[0];
  return expired && (!queued || expired.idx < queued.idx)
    ? { idx: expired.idx, wasQueued: false, gone: [expired] }
    : queued
      ? { idx: queued.idx, wasQueued: true, gone: [] }
      : null;
}

/**
 * When a shard of a job with nothing leasable frees up: the first lease to expire or the first
 * backoff to end (both the head of an index range); null when neither will by itself.
 */
export function nextFreeAt(q: Query, id: string): number | null {
  return q<{ t: number | null }>(
    `SELECT MIN(t) AS t FROM (
             SELECT MIN(due) AS t FROM shards WHERE job_id = ?1 AND status = 'running'
             UNION ALL SELECT MIN(due) AS t FROM shards WHERE job_id = ?1 AND status = 'queued' AND due > 0)`,
    id,
  )[0].t;
}

/** Leases `pick` to `owner` until `now + ttlMs`; returns the lease's token. */
export function grantLease(
  q: Query,
  id: string,
  pick: LeasableShard,
  owner: string,
  ttlMs: number,
  now: number,
): string {
  // 244 random bits: unguessable, and new for every lease.
  const leaseToken = `${crypto.randomUUID()}${crypto.randomUUID()}`.replace(/-/g, '');
  const attempts = q<{ attempts: number }>(
    `UPDATE shards SET status = 'running', holder = ?, lease_token = ?, due = ?, attempts = attempts + 1, done = 0, rate = NULL
         WHERE job_id = ? AND idx = ?
         RETURNING attempts`,
    owner,
    leaseToken,
    now + ttlMs,
    id,
    pick.idx,
  )[0].attempts;
  const moved = pick.wasQueued ? 1 : 0;
  q(
    `UPDATE jobs SET n_queued = n_queued - ?, n_running = n_running + ?, max_attempts = MAX(max_attempts, ?), started_at = COALESCE(started_at, ?),
         status = 'running', indexed = 'running', idle = 0, updated_at = ?, ${RUN_SET}
         WHERE id = ?`,
    moved,
    moved,
    attempts,
    now,
    now,
    // A re-leased expired shard starts again from 0 samples.
    ...runDelta(pick.gone),
    id,
  );
  return leaseToken;
}

/**
 * The shard `index` of job `id` when `token` is its unexpired lease's. The token, not the runner's
 * name (a self-chosen label), is what proves a lease; a cancelled job is told apart so the runner
 * drops the shard instead of retrying it.
 */
export function ownedShard(q: Query, id: string, index: number, token: string): Owned {
  const j = jobRow(q, id);
  if (!j) return { ok: false, status: 404, type: 'not-found', detail: `no job ${id}` };
  if (j.status === 'cancelled')
    return {
      ok: false,
      status: 409,
      type: 'job-cancelled',
      detail: `job ${id} was cancelled by its submitter: drop shard ${index} and lease another`,
    };
  const s = shardRow(q, id, index);
  if (!s) return { ok: false, status: 404, type: 'not-found', detail: `job ${id} has no shard ${index}` };
  if (s.status !== 'running' || s.lease_token === null || s.lease_token !== token)
    return {
      ok: false,
      status: 409,
      type: 'conflict',
      detail: `shard ${index} of job ${id} is ${s.status} and this is not its lease`,
    };
  // A runner whose lease just expired still called: it counts as connected.
  if (s.holder !== null) contact(q, s.holder, Date.now());
  if (s.due < Date.now())
    return { ok: false, status: 409, type: 'conflict', detail: `the lease of shard ${index} of job ${id} expired` };
  return { ok: true, job: j, shard: s };
}

/** Extends the lease of `shard` and records its progress (samples done in it, samples/s). */
export function heartbeatShard(
  q: Query,
  shard: ShardRow,
  progress: { done: number; samplesPerSecond?: number },
  ttlMs: number,
  now: number,
): void {
  const done = Math.min(progress.done, shard.end - shard.start);
  const rate = progress.samplesPerSecond ?? null;
  q(
    'UPDATE shards SET done = ?, rate = ?, due = ? WHERE job_id = ? AND idx = ?',
    done,
    rate,
    now + ttlMs,
    shard.job_id,
    shard.idx,
  );
  q(`UPDATE jobs SET updated_at = ?, ${RUN_SET} WHERE id = ?`, now, ...runDelta([shard], { done, rate }), shard.job_id);
}

/** Queues a released shard again at once; a graceful shutdown is no failure, so the attempt is given back. */
export function releaseShard(q: Query, shard: ShardRow): void {
  q(
    `UPDATE shards SET status = 'queued', attempts = MAX(0, attempts - 1), done = 0, rate = NULL, holder = NULL, lease_token = NULL, due = 0
         WHERE job_id = ? AND idx = ?`,
    shard.job_id,
    shard.idx,
  );
  q(
    `UPDATE jobs SET n_running = n_running - 1, n_queued = n_queued + 1, ${RUN_SET} WHERE id = ?`,
    ...runDelta([shard]),
    shard.job_id,
  );
}

/**
 * Records a failed attempt: the shard is queued again after a backoff, or dead-lettered when it used
 * its last attempt. Returns when it is leasable again (undefined: dead).
 */
export function failShard(q: Query, shard: ShardRow, error: string, now: number): number | undefined {
  const failures = shard.failures + 1;
  const dead = shard.attempts >= MAX_ATTEMPTS;
  const retryAt = dead ? undefined : now + backoffMs(failures);
  q(
    'UPDATE shards SET status = ?, failures = ?, due = ?, error = ?, done = 0, rate = NULL, holder = NULL, lease_token = NULL WHERE job_id = ? AND idx = ?',
    dead ? 'dead' : 'queued',
    failures,
    retryAt ?? 0,
    error,
    shard.job_id,
    shard.idx,
  );
  q(
    `UPDATE jobs SET n_running = n_running - 1, ${dead ? 'n_dead = n_dead + 1' : 'n_queued = n_queued + 1'}, ${RUN_SET} WHERE id = ?`,
    ...runDelta([shard]),
    shard.job_id,
  );
  return retryAt;
}

/** Marks `shard` done by `owner` and counts its samples into the job's. */
export function completeShard(q: Query, shard: ShardRow, owner: string): void {
  // The token stays with the done shard: a repeated acknowledgement (lost answer) must carry it.
  q(
    "UPDATE shards SET status = 'done', done = end - start, rate = NULL, holder = NULL, completed_by = ? WHERE job_id = ? AND idx = ?",
    owner,
    shard.job_id,
    shard.idx,
  );
  q(
    `UPDATE jobs SET n_running = n_running - 1, n_done = n_done + 1, done_samples = done_samples + ?, ${RUN_SET} WHERE id = ?`,
    shard.end - shard.start,
    ...runDelta([shard]),
    shard.job_id,
  );
}
