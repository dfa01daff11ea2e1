/**
 * The comparison of test/worker/live-cached.test.ts: for every (class, dim) the cached
 * /v1/corner-cases of `classifier` searched, the live /v1/corner-case of the same worker, field by
 * field. Returns the mismatches in words (none: they agree).
 */
import { LiveCornerCase } from '../../src/worker/live-schemas.js';
import type { EdgeServer } from './harness.js';

/** Largest difference of a decision shift, live vs cached, in std (see live-cached.test.ts). */
const SHIFT_TOLERANCE = 0.02;

interface Point {
  shift: number;
  pTrue: number;
  predicted: number;
  runnerUp: number;
  pRunnerUp: number;
}
interface CachedClass {
  classIndex: number;
  start: { pTrue: number; predicted: number };
  cases: Array<{
    dim: { index: number; rank: number; direction: 'increase' | 'decrease'; std: number };
    decision: Point;
    pTrueHalf: Point | null;
  }>;
  skipped: Array<{ dim: number; outcome: string; reason: string; pTrueHalfShift: number | null }>;
}

export async function compareLiveWithCached(
  edge: EdgeServer,
  classifier: string,
): Promise<{ compared: number; flipped: number; classes: number; mismatches: string[] }> {
  const getJson = async (p: string) => {
    const res = await edge.fetch(p);
    return { status: res.status, body: (await res.json()) as any };
  };
  const cached = await getJson(`/v1/corner-cases?classifier=${classifier}`);
  if (cached.status !== 200)
    return {
      compared: 0,
      flipped: 0,
      classes: 0,
      mismatches: [
        `/v1/corner-cases?classifier=${classifier}: ${cached.status} ${JSON.stringify(cached.body).slice(0, 300)}`,
      ],
    };
  const payload = cached.body.payload as {
    schema: string;
    specHash: string;
    maxSteps: number;
    tolerance: number;
    classes: CachedClass[];
  };
  if (payload.schema !== 'faultlines.corner-cases/2')
    return {
      compared: 0,
      flipped: 0,
      classes: 0,
      mismatches: [
        `the precomputed corner cases are of schema ${payload.schema}, of the old code: regenerate them (npm run seed:edge)`,
      ],
    };
  const { maxSteps, tolerance } = payload;
  let compared = 0;
  let flipped = 0;
  const mismatches: string[] = [];
  for (const k of payload.classes) {
    // The class ranking /v1/rankings serves: the direction and rank of every dim searched.
    const ranking = await getJson(`/v1/rankings?classifier=${classifier}&class=${k.classIndex}&top=4096`);
    const ranked = new Map(
      (ranking.body.payload.dims as Array<{ index: number; rank: number; direction: string }>).map((d) => [d.index, d]),
    );
    const searched = [
      ...k.cases.map((x) => ({
        dim: x.dim.index,
        cached: x as CachedClass['cases'][number] | null,
        skipped: null as CachedClass['skipped'][number] | null,
      })),
      ...k.skipped.map((x) => ({ dim: x.dim, cached: null, skipped: x })),
    ];
    for (const s of searched) {
      const p = `/v1/corner-case?classifier=${classifier}&class=${k.classIndex}&dim=${s.dim}&maxSteps=${maxSteps}&tolerance=${tolerance}`;
      const live = await getJson(p);
      if (live.status !== 200) {
        mismatches.push(`${p}: ${live.status} ${JSON.stringify(live.body).slice(0, 300)}`);
        continue;
      }
      const b = LiveCornerCase.parse(live.body);
      if (compared === 0) {
        // The sums the live search read are the ones the cached corner cases derive from.
        const sums = await getJson(b.statistics.resultUrl);
        if (sums.body?.payload?.specHash !== payload.specHash)
          mismatches.push(
            `live statistics ${b.statistics.key}: spec hash ${sums.body?.payload?.specHash}, the cached corner cases' ${payload.specHash}`,
          );
      }
      compared++;
      const at = `class ${k.classIndex} dim ${s.dim}`;
      // The same statistics: the sums the cached corner cases were derived from.
      if (b.statistics.classifier !== classifier || b.statistics.use !== 'start, std and ranking')
        mismatches.push(`${at}: statistics ${JSON.stringify(b.statistics)}`);
      if (b.directionFrom !== 'ranking') mismatches.push(`${at}: direction from ${b.directionFrom}`);
      const r = ranked.get(s.dim)!;
      if (b.direction !== r.direction || b.ranking?.rank !== r.rank)
        mismatches.push(
          `${at}: ${b.direction} (rank ${b.ranking?.rank}) vs the class ranking's ${r.direction} (rank ${r.rank})`,
        );
      if (Math.abs(b.start.pTrue - k.start.pTrue) > 1e-5 || b.start.predicted !== k.start.predicted)
        mismatches.push(
          `${at}: start ${JSON.stringify(b.start).slice(0, 80)} vs cached ${JSON.stringify(k.start).slice(0, 80)}`,
        );
      if (s.cached) {
        const c = s.cached;
        if (b.direction !== c.dim.direction)
          mismatches.push(`${at}: direction ${b.direction} vs cached ${c.dim.direction}`);
        if (Math.abs(b.std - c.dim.std) > 1e-6 * Math.max(1, c.dim.std))
          mismatches.push(`${at}: std ${b.std} vs cached ${c.dim.std}`);
        if (b.cornerCase === null) {
          mismatches.push(
            `${at}: live finds no corner case (${b.outcome}: ${b.reasons.join('; ')}), cached one at ${c.decision.shift} std`,
          );
          continue;
        }
        flipped++;
        const d = b.cornerCase.decision;
        if (d.predicted !== c.decision.predicted)
          mismatches.push(`${at}: read as ${d.predicted} vs cached ${c.decision.predicted}`);
        if (Math.abs(d.shift - c.decision.shift) > SHIFT_TOLERANCE)
          mismatches.push(`${at}: decision shift ${d.shift} vs cached ${c.decision.shift}`);
        if (d.predicted === k.classIndex)
          mismatches.push(`${at}: the live decision corner case is still read as the true class`);
        const [lh, ch] = [b.cornerCase.pTrueHalf, c.pTrueHalf];
        if ((lh === null) !== (ch === null) || (lh && ch && Math.abs(lh.shift - ch.shift) > SHIFT_TOLERANCE))
          mismatches.push(
            `${at}: p_true = 0.5 point ${JSON.stringify(lh?.shift)} vs cached ${JSON.stringify(ch?.shift)}`,
          );
        if (b.skipped !== null) mismatches.push(`${at}: live also reports a skip`);
      } else {
        const sk = s.skipped!;
        if (b.cornerCase !== null)
          mismatches.push(
            `${at}: live finds a corner case at ${b.cornerCase.decision.shift} std, cached skipped it (${sk.outcome}: ${sk.reason})`,
          );
        else if (b.skipped?.outcome !== sk.outcome)
          mismatches.push(`${at}: live outcome ${b.skipped?.outcome} vs cached ${sk.outcome}`);
      }
    }
  }
  return { compared, flipped, classes: payload.classes.length, mismatches };
}
