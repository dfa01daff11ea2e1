/**
 * The result cache: immutable results keyed by a content hash of (kind, generator, classifier,
 * options, sweep). Looked up in this isolate's memory, then KV (results written by jobs), then the
 * static assets (the built-in precomputed results). Never computed on a miss: the caller answers 404
 * (or 202 with the job that will compute it).
 */
import { rankDimensions, type Ranking, type RankingSums } from '../core/analysis/ranking-sums.js';
import type { StyleLayout } from '../core/generator/style-layout.js';
import { DEFAULT_DOMAIN } from '../core/data/domain.js';
import { contentHash } from '../core/hash.js';
import {
  PAYLOAD_REVISION,
  RESULT_NOISE,
  resultPath,
  type ResultKind,
  type StoredResult,
} from '../protocol/result-keys.js';
import type { Env } from './env.js';
import { fetchAsset } from './static-assets.js';
import { ProblemError } from './problem.js';

const MEMORY_LIMIT = 16;
const memory = new Map<string, StoredResult>();

function remember(key: string, value: StoredResult): void {
  memory.delete(key);
  memory.set(key, value);
  while (memory.size > MEMORY_LIMIT) memory.delete(memory.keys().next().value!);
}

export const kvKey = (key: string) => `result:${key}`;

/** The stored result of `key`, or null when nobody has computed it. */
export async function getResult<T = unknown>(env: Env, key: string): Promise<StoredResult<T> | null> {
  const hit = memory.get(key);
  if (hit) return hit as StoredResult<T>;
  let text = await env.RESULTS.get(kvKey(key), 'text');
  if (text === null) {
    const res = await fetchAsset(env, resultPath(key));
    if (res.ok) text = await res.text();
  }
  if (text === null) return null;
  const value = JSON.parse(text) as StoredResult<T>;
  remember(key, value as StoredResult);
  return value;
}

/**
 * Writes a job's result under its key unless one is there already (results are immutable: an
 * existing entry wins). Every result a job publishes goes through here.
 */
export async function storeResultOnce(env: Env, stored: StoredResult): Promise<void> {
  if ((await env.RESULTS.get(kvKey(stored.key), 'text')) !== null) return;
  await env.RESULTS.put(kvKey(stored.key), JSON.stringify(stored), { metadata: { kind: stored.kind } });
}

/**
 * Removes a result written by a job (KV) and this isolate's copy of it, so the same key can be
 * computed again (an operator's or submitter's repair of a bad result). Built-in results live in
 * the static assets and cannot be removed here. Returns whether KV held it.
 */
export async function deleteResult(env: Env, key: string): Promise<boolean> {
  memory.delete(key);
  const held = (await env.RESULTS.get(kvKey(key), 'text')) !== null;
  if (held) await env.RESULTS.delete(kvKey(key));
  return held;
}

/** Whether `key` is one of the built-in results in the static assets. */
export async function isBuiltInResult(env: Env, key: string): Promise<boolean> {
  const res = await fetchAsset(env, resultPath(key));
  await res.body?.cancel();
  return res.ok;
}

const rankings = new Map<string, Ranking>();

/** Ranking of one class (or all) derived from cached sums; memoised per isolate. */
function rankingFromSums(sumsKey: string, sums: RankingSums, layout: StyleLayout, classIndex: number | null): Ranking {
  const k = `${sumsKey}:${classIndex}`;
  let r = rankings.get(k);
  if (r === undefined) {
    r = rankDimensions(sums, layout, classIndex);
    if (rankings.size > 256) rankings.clear();
    rankings.set(k, r);
  }
  return r;
}

/**
 * The ranking of one class (or all) that a stored ranking-sums result gives with `layout`: 409 when
 * the sums are of another StyleSpace size, 404 (`class`) when the sweep cannot rank that class.
 */
export function rankingOfStoredSums(r: StoredResult, layout: StyleLayout, classIndex: number | null): Ranking {
  const sums = r.payload as RankingSums;
  if (sums.styleSize !== layout.size)
    throw new ProblemError(409, 'conflict', `cached sums have S = ${sums.styleSize}, the generator ${layout.size}`);
  try {
    return rankingFromSums(r.key, sums, layout, classIndex);
  } catch (e) {
    throw new ProblemError(
      404,
      'not-computed',
      `this sweep cannot rank ${classIndex === null ? 'all classes' : `class ${classIndex}`}: ${(e as Error).message}`,
      { field: 'class' },
    );
  }
}

/** A strong ETag for a value derived deterministically from `parts` (and the noise every image is rendered with). */
export function etagOf(...parts: unknown[]): string {
  return `"${contentHash([...parts, { noise: RESULT_NOISE }]).slice(0, 32)}"`;
}

/** The ETag of a view of a cached result: its key, the view, and its kind's payload revision when it has one. */
export function resultEtag(kind: ResultKind, key: string, ...view: unknown[]): string {
  const revision = PAYLOAD_REVISION[kind];
  return revision === undefined ? etagOf(key, ...view) : etagOf(key, ...view, { revision });
}

/** `etagOf` with the domain a part outside the default domain (whose ETags stay as they were before domains). */
export function domainEtag(domain: string, ...parts: unknown[]): string {
  return domain === DEFAULT_DOMAIN ? etagOf(...parts) : etagOf(...parts, { domain });
}
