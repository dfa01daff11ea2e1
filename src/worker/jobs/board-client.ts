/**
 * The routes' side of the job board: which Durable Object each request goes to. Runner calls on a
 * lease (heartbeat, complete, fail, release) go straight to the job's board (`jobBoard`); a lease
 * goes to the index; what is looked up by key, listed or submitted asks the index for the job's id
 * first, then its board.
 */
import type { Env } from '../env.js';
import type { BoardCost } from './board-cost.js';
import type { JobRecord, JobSubmission, ShardRecord } from './board.js';
import { jobBoard, jobIndex } from './stubs.js';

export { jobBoard, jobIndex };

/**
 * Submits the job computing `input.key` (the same job for the same key unless it was cancelled):
 * the index gives its id, its board creates it, or requeues its dead shards when it failed.
 */
export async function submitJob(
  env: Env,
  input: JobSubmission,
): Promise<{ job: JobRecord; created: boolean; cost: BoardCost }> {
  const classifierId = typeof input.spec.classifierId === 'string' ? input.spec.classifierId : undefined;
  const { id, ctx, superseded } = await jobIndex(env).claim({
    key: input.key,
    kind: input.kind,
    needs: input.needs,
    classifierId,
  });
  // A cancelled job submitted again is computed afresh as a new job: the old one is gone.
  if (superseded !== null) await jobBoard(env, superseded).forget(superseded);
  return jobBoard(env, id).submit({ ...input, id }, ctx);
}

/**
 * Job `id` as the API shows it, and what reading it cost its board (null: no such job). An id the
 * index does not know is answered without waking a board for it.
 */
export async function jobStatus(env: Env, id: string): Promise<{ job: JobRecord; cost: BoardCost } | null> {
  const ctx = await jobIndex(env).context(id);
  return ctx === null ? null : jobBoard(env, id).status(id, ctx);
}

/** The job computing `key`, if there is one. */
export async function jobByKey(env: Env, key: string): Promise<JobRecord | null> {
  const id = await jobIndex(env).idOf(key);
  return id === null ? null : ((await jobStatus(env, id))?.job ?? null);
}

/** Forgets the job of `key` (its result was invalidated): in the index first, so it is no longer leased. */
export async function forgetJob(env: Env, key: string): Promise<boolean> {
  const id = await jobIndex(env).forget(key);
  return id !== null && (await jobBoard(env, id).forget(id));
}

/**
 * Forgets every job of a classifier, in the index first (so none is leased again), then on each
 * job's board (a runner still holding a lease gets 404 at its next call, so nothing is published);
 * returns the jobs' result keys, so the caller can remove the results too.
 */
export async function forgetClassifierJobs(env: Env, classifierId: string): Promise<string[]> {
  const jobs = await jobIndex(env).forgetClassifier(classifierId);
  await Promise.all(jobs.map((j) => jobBoard(env, j.id).forget(j.id)));
  return jobs.map((j) => j.key);
}

/** A page of jobs, newest first (the index pages; each job's board describes it, all at once). */
export async function listJobs(
  env: Env,
  limit: number,
  cursor?: string,
): Promise<{ jobs: JobRecord[]; next: string | null }> {
  const page = await jobIndex(env).list(limit, cursor);
  const jobs = await Promise.all(page.ids.map((id, i) => jobBoard(env, id).get(id, page.contexts[i])));
  return { jobs: jobs.filter((j): j is JobRecord => j !== null), next: page.next };
}

/** Dead-lettered shards, newest failed jobs first, at most `limit`. */
export async function deadLetters(
  env: Env,
  limit: number,
): Promise<Array<{ jobId: string; key: string; shard: ShardRecord }>> {
  const out: Array<{ jobId: string; key: string; shard: ShardRecord }> = [];
  for (const id of await jobIndex(env).failed(limit)) {
    if (out.length >= limit) break;
    out.push(...(await jobBoard(env, id).deadShards(id, limit - out.length)));
  }
  return out;
}
