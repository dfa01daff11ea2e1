/**
 * Live and cached corner cases agree (issue 13): for every (class, dim) the cached
 * /v1/corner-cases searched, for both built-in classifiers, the live /v1/corner-case of the same
 * (class, dim) — served by the same worker — finds the same thing: the same direction, the same
 * outcome, and for a corner case the same decision shift and the same class the image is read as.
 *
 * Both run the core's `dimStart` (start style, per-class std, ranking direction) and
 * `cornerCaseAlong` on the same cached ranking sums, so on the same backend they give the same
 * points. Tolerance of the decision shift: SHIFT_TOLERANCE std — the k-section of the search
 * follows the same path unless float differences between the seeding's wasm (Node) and workerd's
 * wasm flip one point's side of the boundary, and even then both points lie past the boundary
 * within the search's probability tolerance (checked too), a few hundredths of a std apart at most.
 *
 * Needs the precomputed results of the current corner-case code (`npm run seed:edge`, schema
 * faultlines.corner-cases/2); with older ones it fails saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveCornerCase } from '../../src/worker/live-schemas.js';
import { startEdge, type EdgeServer } from './harness.js';

/** Largest difference of a decision shift, live vs cached, in std (see the header). */
const SHIFT_TOLERANCE = 0.02;

let edge: EdgeServer;

beforeAll(async () => {
  edge = await startEdge();
}, 240_000);

afterAll(async () => {
  await edge?.close();
});

interface Point { shift: number; pTrue: number; predicted: number; runnerUp: number; pRunnerUp: number }
interface CachedClass {
  classIndex: number;
  start: { pTrue: number; predicted: number };
  cases: Array<{ dim: { index: number; rank: number; direction: 'increase' | 'decrease'; std: number }; decision: Point; pTrueHalf: Point | null }>;
  skipped: Array<{ dim: number; outcome: string; reason: string; pTrueHalfShift: number | null }>;
}

const getJson = async (p: string) => {
  const res = await edge.fetch(p);
  return { status: res.status, body: (await res.json()) as any };
};

describe('live /v1/corner-case = cached /v1/corner-cases', () => {
  for (const classifier of ['classifier-clean', 'classifier-corrupted']) {
    it(`every cached (class, dim) of ${classifier}`, async () => {
      const cached = await getJson(`/v1/corner-cases?classifier=${classifier}`);
      expect(cached.status, JSON.stringify(cached.body).slice(0, 300)).toBe(200);
      const payload = cached.body.payload as { schema: string; specHash: string; maxSteps: number; tolerance: number; classes: CachedClass[] };
      expect(payload.schema, 'the precomputed corner cases are of the old code: regenerate them (npm run seed:edge)').toBe('faultlines.corner-cases/2');
      const { maxSteps, tolerance } = payload;
      let compared = 0;
      let flipped = 0;
      const mismatches: string[] = [];
      for (const k of payload.classes) {
        const searched = [
          ...k.cases.map((x) => ({ dim: x.dim.index, cached: x as CachedClass['cases'][number] | null, skipped: null as CachedClass['skipped'][number] | null })),
          ...k.skipped.map((x) => ({ dim: x.dim, cached: null, skipped: x })),
        ];
        for (const s of searched) {
          const p = `/v1/corner-case?classifier=${classifier}&class=${k.classIndex}&dim=${s.dim}&maxSteps=${maxSteps}&tolerance=${tolerance}`;
          const live = await getJson(p);
          expect(live.status, `${p}: ${JSON.stringify(live.body).slice(0, 300)}`).toBe(200);
          const b = LiveCornerCase.parse(live.body);
          compared++;
          const at = `class ${k.classIndex} dim ${s.dim}`;
          // The same statistics: the sums the cached corner cases were derived from.
          if (b.statistics.classifier !== classifier || b.statistics.use !== 'start, std and ranking') mismatches.push(`${at}: statistics ${JSON.stringify(b.statistics)}`);
          if (b.directionFrom !== 'ranking') mismatches.push(`${at}: direction from ${b.directionFrom}`);
          if (Math.abs(b.start.pTrue - k.start.pTrue) > 1e-5 || b.start.predicted !== k.start.predicted) mismatches.push(`${at}: start ${JSON.stringify(b.start).slice(0, 80)} vs cached ${JSON.stringify(k.start).slice(0, 80)}`);
          if (s.cached) {
            const c = s.cached;
            if (b.direction !== c.dim.direction) mismatches.push(`${at}: direction ${b.direction} vs cached ${c.dim.direction}`);
            if (Math.abs(b.std - c.dim.std) > 1e-6 * Math.max(1, c.dim.std)) mismatches.push(`${at}: std ${b.std} vs cached ${c.dim.std}`);
            if (b.cornerCase === null) {
              mismatches.push(`${at}: live finds no corner case (${b.outcome}: ${b.reasons.join('; ')}), cached one at ${c.decision.shift} std`);
              continue;
            }
            flipped++;
            const d = b.cornerCase.decision;
            if (d.predicted !== c.decision.predicted) mismatches.push(`${at}: read as ${d.predicted} vs cached ${c.decision.predicted}`);
            if (Math.abs(d.shift - c.decision.shift) > SHIFT_TOLERANCE) mismatches.push(`${at}: decision shift ${d.shift} vs cached ${c.decision.shift}`);
            for (const [who, q] of [['live', d], ['cached', c.decision]] as const) {
              if (q.predicted === k.classIndex) mismatches.push(`${at}: the ${who} decision corner case is still read as the true class`);
              if (Math.abs(q.pTrue - q.pRunnerUp) > tolerance + 1e-6 && Math.abs(d.shift - c.decision.shift) > 1e-6) mismatches.push(`${at}: the ${who} decision point is ${Math.abs(q.pTrue - q.pRunnerUp)} from the boundary (tolerance ${tolerance})`);
            }
            if ((b.cornerCase.pTrueHalf === null) !== (c.pTrueHalf === null)) mismatches.push(`${at}: p_true = 0.5 point ${JSON.stringify(b.cornerCase.pTrueHalf?.shift)} vs cached ${JSON.stringify(c.pTrueHalf?.shift)}`);
            if (b.skipped !== null) mismatches.push(`${at}: live also reports a skip`);
          } else {
            const sk = s.skipped!;
            if (b.cornerCase !== null) mismatches.push(`${at}: live finds a corner case at ${b.cornerCase.decision.shift} std, cached skipped it (${sk.outcome}: ${sk.reason})`);
            else if (b.skipped?.outcome !== sk.outcome) mismatches.push(`${at}: live outcome ${b.skipped?.outcome} vs cached ${sk.outcome}`);
          }
        }
      }
      expect(mismatches, mismatches.join('\n')).toEqual([]);
      // The comparison compared something: every class searched, and some dims flip.
      expect(compared).toBeGreaterThanOrEqual(payload.classes.length);
      expect(flipped).toBeGreaterThan(0);
    }, 600_000);
  }
});
