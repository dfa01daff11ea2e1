/**
 * The load test in its short, bounded CI form (issue #8; the full one is `npm run bench:load`):
 * autocannon against the real worker in workerd, cached endpoints and live traversals (Cache API
 * misses) at the same time, with more live connections than the live-compute budget admits.
 * Asserts: zero errors and timeouts; cached reads all 200; every refused traversal is a 503 with
 * Retry-After (never a timeout, no other 5xx); some traversals are computed throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCached, loadPhase, summary, waitForLiveIdle, type GroupStats } from '../../bench/load.js';
import { startConfiguredEdge, type ConfiguredEdge } from './configured-edge.js';

let edge: ConfiguredEdge;

beforeAll(async () => {
  // Default live-compute limits (src/worker/live-limit.ts); the read rate limit lifted: all the
  // load comes from one address (test/worker/access.test.ts covers the 429s).
  edge = await startConfiguredEdge({}, { limit: 1_000_000_000 });
  await checkCached(edge.url);
  await (await edge.fetch('/v1/traversal?class=1&dim=1&frames=9&range=4&seed=1')).arrayBuffer(); // models loaded
}, 240_000);

afterAll(async () => {
  await edge?.close();
});

function expectClean(g: GroupStats, name: string) {
  expect(g.errors, `${name} errors`).toBe(0);
  expect(g.timeouts, `${name} timeouts`).toBe(0);
  expect(g.serverErrors, `${name} 5xx other than 503`).toBe(0);
  expect(g.refusedWithoutRetryAfter, `${name} refusals without Retry-After`).toBe(0);
}

describe('load (short form)', () => {
  it('cached reads and live traversals together: no errors or timeouts, refusals are 503 + Retry-After', async () => {
    const phase = await loadPhase(edge.url, 'overload', { seconds: 4, cachedConnections: 8, liveConnections: 40 });
    process.stderr.write(`${summary([phase])}\n`);
    expectClean(phase.cached, 'cached');
    expectClean(phase.live, 'live');
    expect(Object.keys(phase.cached.statuses)).toEqual(['200']);
    expect(phase.cached.requests).toBeGreaterThan(100);
    expect(Object.keys(phase.live.statuses).every((s) => s === '200' || s === '503')).toBe(true);
    expect(phase.live.statuses['200']).toBeGreaterThan(0);
    // 40 connections against 1 running + 32 queued: the limiter refuses some, at once.
    expect(phase.live.statuses['503'] ?? 0).toBeGreaterThan(0);
    expect(phase.live.refusedLatencyMs!.p50).toBeLessThan(phase.live.okLatencyMs!.p50);
  }, 60_000);

  it('within the budget nothing is refused', async () => {
    await waitForLiveIdle(edge.url); // the overload phase's queue drained
    const phase = await loadPhase(edge.url, 'within-budget', { seconds: 5, cachedConnections: 8, liveConnections: 2 });
    process.stderr.write(`${summary([phase])}\n`);
    expectClean(phase.cached, 'cached');
    expectClean(phase.live, 'live');
    expect(Object.keys(phase.live.statuses)).toEqual(['200']);
  }, 60_000);
});
