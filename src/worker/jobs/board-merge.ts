/**
 * A job board's side of the merge (merge.ts does the arithmetic): folding a ranking-sums job's
 * finished shards into its stored running sum as they complete, and the payload the job publishes
 * once every shard is in. Folding as shards arrive keeps the final merge to one read of the running
 * sum, however many shards the job has.
 */
import { readMerge, readText, writeMerge } from './board-results.js';
import { jobRow, type JobRow, type Query } from './board-schema.js';
import { foldShard, mergedSums, type MergeHead } from './merge.js';

/**
 * Folds the done shards right after the running sum's head into it, in index order (so the sum is
 * mergeRankingSums' to the bit), and drops their stored payloads. A shard finished ahead of the
 * head waits, stored, until the shards before it are in.
 */
export function foldReady(q: Query, id: string): void {
  const job = jobRow(q, id)!;
  let merged = job.merged;
  let head: MergeHead | null = job.merge_head === null ? null : (JSON.parse(job.merge_head) as MergeHead);
  let acc: Float64Array | null = null;
  // Shard by shard on the primary key: each fold costs O(1) rows, however far the job extends.
  while (
    merged < job.n_shards &&
    q<{ status: string }>('SELECT status FROM shards WHERE job_id = ? AND idx = ?', id, merged)[0]?.status === 'done'
  ) {
    const part = JSON.parse(readText(q, id, merged, 'payload'));
    if (acc === null && head !== null) acc = readMerge(q, id, head);
    const folded = foldShard(head, acc, part);
    head = folded.head;
    acc = folded.acc;
    q("DELETE FROM shard_results WHERE job_id = ? AND idx = ? AND what = 'payload'", id, merged);
    merged++;
  }
  if (merged === job.merged || acc === null) return;
  writeMerge(q, id, acc);
  q('UPDATE jobs SET merged = ?, merge_head = ? WHERE id = ?', merged, JSON.stringify(head), id);
}

/**
 * The payload a finished job publishes: ranking sums from the running sum, any other kind (one
 * shard) as its shard computed it; or which merged value is not finite.
 */
export function finalPayload(
  q: Query,
  job: JobRow,
  shards: { idx: number }[],
): { payload: unknown } | { notFinite: string } {
  if (job.kind !== 'ranking-sums') return { payload: JSON.parse(readText(q, job.id, shards[0].idx, 'payload')) };
  if (job.merged !== job.n_shards || job.merge_head === null)
    throw new Error(`job ${job.id}: ${job.merged} of ${job.n_shards} shards merged`);
  const head = JSON.parse(job.merge_head) as MergeHead;
  const merged = mergedSums(head, readMerge(q, job.id, head), job.total);
  return 'notFinite' in merged ? merged : { payload: merged.sums };
}

/**
 * Fails a job whose merge is not finite, and drops its shards' results: a non-finite value would
 * be served as null, and only recomputing every shard can tell which one produced it.
 */
export function failNotFinite(q: Query, id: string, notFinite: string, now: number): void {
  q(
    `UPDATE jobs SET status = 'failed', error = ?, n_done = 0, n_dead = n_shards, done_samples = 0, merged = 0, merge_head = NULL, updated_at = ?
             WHERE id = ?`,
    `the merged shards are not finite (${notFinite}): resubmit to recompute`,
    now,
    id,
  );
  q("UPDATE shards SET status = 'dead' WHERE job_id = ?", id);
  q('DELETE FROM shard_results WHERE job_id = ?', id);
  q('DELETE FROM merge_parts WHERE job_id = ?', id);
}
