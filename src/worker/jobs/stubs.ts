/**
 * Where the job board's Durable Objects are: one board per job, addressed by the job's id, and the
 * one job index. Kept apart from both classes so that each reaches the other without importing it.
 */
import type { JobStatus } from '../../protocol/job.js';
import type { Env } from '../env.js';

/** The board of job `id` (one Durable Object per job: jobs do not queue behind each other). */
export function jobBoard(env: Env, id: string) {
  return env.JOBS.get(env.JOBS.idFromName(id));
}

/** The job index (one instance): job keys, statuses and the queue of open jobs leases walk. */
export function jobIndex(env: Env) {
  return env.JOB_INDEX.get(env.JOB_INDEX.idFromName('index'));
}

/**
 * What a job's view needs from outside its board, as the index knows it: the job producing its
 * prerequisite (`needs`), and when a runner last leased (runners lease through the index).
 */
export interface IndexContext {
  lastContact: number | null;
  pre: { id: string; kind: string; status: JobStatus; error: string | null } | null;
}
