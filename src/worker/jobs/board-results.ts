/**
 * What a job board stores of its shards' results until they are published: each shard's result
 * and provenance as text in pieces (a row holds at most 2 MB), the running sum as float64 pieces;
 * and the stored result a finished job publishes (written by result-cache's storeResultOnce).
 */
import { domainField } from '../../protocol/catalog.js';
import { RESULT_SCHEMA, type ResultKind, type StoredResult } from '../../protocol/result-keys.js';
import type { JobRow, Query } from './board-schema.js';
import type { MergeHead } from './merge.js';
import { runnerPseudonym } from './pseudonym.js';
import { storedSpec } from './board-rows.js';

/** Characters of a stored text per piece (the 2 MB row limit, 4-byte UTF-8 at worst). */
const PART_CHARS = 256 * 1024;
/** Float64 values per stored piece of a running sum (1 MiB: under the 2 MB row limit). */
const MERGE_PART_VALUES = 128 * 1024;

/** Stores a text in pieces of at most PART_CHARS characters (at most 4 bytes each in UTF-8: 1 MiB). */
export function storeText(q: Query, id: string, index: number, what: 'payload' | 'computed', text: string): void {
  q('DELETE FROM shard_results WHERE job_id = ? AND idx = ? AND what = ?', id, index, what);
  for (let part = 0, at = 0; at < text.length || part === 0; part++, at += PART_CHARS) {
    q(
      'INSERT INTO shard_results (job_id, idx, what, part, data) VALUES (?, ?, ?, ?, ?)',
      id,
      index,
      what,
      part,
      text.slice(at, at + PART_CHARS),
    );
  }
}

export function readText(q: Query, id: string, index: number, what: 'payload' | 'computed'): string {
  return q<{ data: string }>(
    'SELECT data FROM shard_results WHERE job_id = ? AND idx = ? AND what = ? ORDER BY part',
    id,
    index,
    what,
  )
    .map((r) => r.data)
    .join('');
}

/** The running sum's float64 values, stored in pieces of at most MERGE_PART_VALUES (1 MiB). */
export function readMerge(q: Query, id: string, head: MergeHead): Float64Array {
  const out = new Float64Array(head.length);
  let at = 0;
  for (const r of q<{ data: ArrayBuffer }>('SELECT data FROM merge_parts WHERE job_id = ? ORDER BY part', id)) {
    const part = new Float64Array(r.data);
    out.set(part, at);
    at += part.length;
  }
  if (at !== head.length) throw new Error(`job ${id}: the running sum holds ${at} values, not ${head.length}`);
  return out;
}

export function writeMerge(q: Query, id: string, acc: Float64Array): void {
  q('DELETE FROM merge_parts WHERE job_id = ?', id);
  for (let part = 0, at = 0; at < acc.length; part++, at += MERGE_PART_VALUES) {
    const slice = acc.slice(at, at + MERGE_PART_VALUES);
    q('INSERT INTO merge_parts (job_id, part, data) VALUES (?, ?, ?)', id, part, slice.buffer);
  }
}

/** The result a finished job publishes: its payload and the provenance of every shard, runners by pseudonym. */
export function storedResult(
  job: JobRow,
  rows: { idx: number; completed_by: string | null }[],
  computed: Record<string, unknown>[],
  payload: unknown,
): StoredResult {
  const spec = storedSpec(job);
  return {
    schema: RESULT_SCHEMA,
    key: job.key,
    kind: job.kind as ResultKind,
    ...domainField(spec.domain),
    generatorId: spec.generatorId,
    classifierId: spec.classifierId,
    classifier: spec.classifier,
    sweep: { seed: spec.seed, count: spec.count },
    options: spec.options ?? {},
    computed: {
      ...(rows.length === 1 ? computed[0] : {}),
      jobId: job.id,
      // Runners by pseudonym (a hash of the self-chosen name, often a hostname): results are public.
      shards: rows.map((r, i) => ({ index: r.idx, ...computed[i], runner: runnerPseudonym(r.completed_by) })),
      runners: [...new Set(rows.map((r) => runnerPseudonym(r.completed_by)))],
      completedAt: new Date().toISOString(),
    },
    payload,
  };
}
