/**
 * The job board's running sum of a ranking-sums job: shards are folded in as they finish, in index
 * order, into one float64 array, so that a job of any shard count is merged holding one shard and
 * the sum at a time (a 12,500-shard job's shard results together would be about 5 GB of JSON).
 * Folding shard after shard from zeros adds exactly what mergeRankingSums adds, in the same order
 * (its parts sorted by range start = shard index), so the merged result is the same to the bit.
 *
 * Layout: count[K], correct[K], gradSum[S*K], gradSqSum[S*K], styleSum[S*K], styleSqSum[S*K].
 */
import { RANKING_SUMS_SCHEMA, type RankingSums } from '../../core/analysis/ranking-sums.js';

/** What the running sum is a sum of: the sweep, its shape, and the samples [0, end) folded so far. */
export interface MergeHead {
  specHash: string;
  styleSize: number;
  numClasses: number;
  end: number;
  length: number;
}

const FIELDS = ['gradSum', 'gradSqSum', 'styleSum', 'styleSqSum'] as const;

/** Adds one shard (the next one: its range starts where the sum ends) to the running sum. */
export function foldShard(
  head: MergeHead | null,
  acc: Float64Array | null,
  part: RankingSums,
): { head: MergeHead; acc: Float64Array } {
  const K = part.numClasses;
  const SK = part.styleSize * K;
  const h = head ?? {
    specHash: part.specHash,
    styleSize: part.styleSize,
    numClasses: K,
    end: 0,
    length: 2 * K + 4 * SK,
  };
  if (part.specHash !== h.specHash || part.styleSize !== h.styleSize || part.numClasses !== h.numClasses)
    throw new Error('cannot fold sums of another sweep or shape into the running sum');
  if (part.ranges.length !== 1 || part.ranges[0][0] !== h.end)
    throw new Error(`shard ${JSON.stringify(part.ranges)} does not continue the running sum at ${h.end}`);
  const out = acc ?? new Float64Array(h.length);
  for (let c = 0; c < K; c++) {
    out[c] += part.count[c];
    out[K + c] += part.correct[c];
  }
  FIELDS.forEach((f, n) => {
    const src = part[f];
    const at = 2 * K + n * SK;
    for (let i = 0; i < SK; i++) out[at + i] += src[i];
  });
  return { head: { ...h, end: part.ranges[0][1] }, acc: out };
}

/**
 * The running sum as the RankingSums mergeRankingSums would return for the same shards (same
 * fields, same order, same values), or which value is not finite.
 */
export function mergedSums(
  head: MergeHead,
  acc: Float64Array,
  total: number,
): { sums: RankingSums } | { notFinite: string } {
  if (head.end !== total) throw new Error(`the running sum covers [0, ${head.end}), not [0, ${total})`);
  const K = head.numClasses;
  const SK = head.styleSize * K;
  const field = (n: number) => Array.from(acc.subarray(2 * K + n * SK, 2 * K + (n + 1) * SK));
  for (const [n, f] of FIELDS.entries()) {
    const bad = acc.subarray(2 * K + n * SK, 2 * K + (n + 1) * SK).findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return { notFinite: `${f}.${bad} = ${acc[2 * K + n * SK + bad]}` };
  }
  // The fields in mergeRankingSums' order: the stored result is compared byte for byte as JSON.
  const sums: RankingSums = {
    schema: RANKING_SUMS_SCHEMA,
    specHash: head.specHash,
    ranges: [[0, total]],
    styleSize: head.styleSize,
    numClasses: K,
    count: Array.from(acc.subarray(0, K)),
    correct: Array.from(acc.subarray(K, 2 * K)),
    gradSum: field(0),
    gradSqSum: field(1),
    styleSum: field(2),
    styleSqSum: field(3),
  };
  return { sums };
}
