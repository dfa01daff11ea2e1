/**
 * A job board's rows as the API shows them (job and shard records), and a running shard's share of
 * the running sums its job row keeps.
 */
import { JobSpecSchema, type Job, type JobSpec, type Shard } from '../../protocol/job.js';
import { runnerPseudonym } from './pseudonym.js';
import type { JobRow, ShardRow } from './board-schema.js';

export type ShardRecord = Shard;
export type JobRecord = Job;

/** A waiting job says no runner is connected when none has called the board for this long. */
const RUNNER_QUIET_MS = 30_000;

export const iso = (ms: number) => new Date(ms).toISOString();

export function shardRecord(r: ShardRow, now: number): ShardRecord {
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

/** A running shard's share of its job's running sums: [samples done, positive samples/s, reports one]. */
export type RunShare = [number, number, number];
const runShare = (s: { done: number; rate: number | null }): RunShare =>
  s.rate !== null && s.rate > 0 ? [s.done, s.rate, 1] : [s.done, 0, 0];
/** The change of the running sums when shards stop running (`gone`) and one runs as `now`. */
export function runDelta(
  gone: { done: number; rate: number | null }[],
  now?: { done: number; rate: number | null },
): RunShare {
  const d: RunShare = now ? runShare(now) : [0, 0, 0];
  for (const g of gone) {
    const [done, rate, rated] = runShare(g);
    d[0] -= done;
    d[1] -= rate;
    d[2] -= rated;
  }
  return d;
}
/** Applies a runDelta in a jobs UPDATE (its three values bound in this order). */
export const RUN_SET = 'run_done = run_done + ?, run_rate = run_rate + ?, run_rated = run_rated + ?';

/** What a job's view reads besides its row: its expired leases, the live ones' sums, and so on. */
export interface JobReadings {
  /** Running shards whose lease expired (they show as queued). */
  expired: number;
  /** The live leases: how many, their samples done, the sum and count of their positive rates. */
  live: { n: number; samples: number; rate_sum: number; rate_n: number };
  /** The earliest end of a backoff, if any. */
  retryAt: number | null;
  /** One live lease (the one expiring last). */
  lease: { holder: string | null; due: number } | undefined;
  /** The last runner contact this board saw. */
  ownContact: number | null;
  now: number;
}

/** A job as the API shows it, from its row (with the index's word merged in) and its readings. */
export function jobRecord(r: JobRow, { expired, live, retryAt, lease, ownContact: own, now }: JobReadings): JobRecord {
  const done = r.done_samples + live.samples;
  // Shards that finish between two heartbeats never report a rate: then the job's own
  // throughput since its first lease stands in.
  const elapsed = r.started_at === null ? 0 : (now - r.started_at) / 1000;
  const rate =
    live.rate_n > 0 ? live.rate_sum : r.status === 'running' && done > 0 && elapsed > 0 ? done / elapsed : null;
  // The prerequisite lives on its own board: what the index last said of it.
  const pre =
    r.needs === null || r.pre_id === null
      ? null
      : { id: r.pre_id, kind: r.pre_kind, status: r.pre_status, error: r.pre_error };
  const blocked =
    (pre?.status === 'failed' || pre?.status === 'cancelled') && r.status !== 'done' && r.status !== 'cancelled';
  // Runners lease through the index; they heartbeat and complete here: the latest of both.
  const last = own === null ? r.index_contact : r.index_contact === null ? own : Math.max(own, r.index_contact);
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
    spec: storedSpec(r),
    // A running job whose every lease expired and nothing finished is waiting again: queued.
    status: blocked ? 'failed' : r.status === 'running' && live.n === 0 && r.n_done === 0 ? 'queued' : r.status,
    progress: {
      done: r.status === 'done' ? r.total : done,
      total: r.total,
      samplesPerSecond: rate,
      etaSeconds: rate && r.status === 'running' ? Math.max(0, (r.total - done) / rate) : null,
    },
    attempts: r.max_attempts,
    lease: lease && lease.holder !== null ? { holder: runnerPseudonym(lease.holder), expiresAt: iso(lease.due) } : null,
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

/**
 * A job's stored spec, parsed by the protocol's schema: a row whose spec is not JSON or not a job
 * spec (a corrupt or hand-edited store) is refused, naming the job and the first offending field,
 * rather than served or computed from as a wrong shape.
 */
export function storedSpec(job: { id: string; spec: string }): JobSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(job.spec);
  } catch (e) {
    throw new Error(`job ${job.id}: its stored spec is not JSON (${(e as Error).message})`);
  }
  const parsed = JobSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['spec', ...issue.path.map(String)].join('.');
    throw new Error(`job ${job.id}: its stored spec is corrupt: ${field}: ${issue.message}`);
  }
  return parsed.data;
}
