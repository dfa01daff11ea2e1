/**
 * The live computations along one StyleSpace dim: a traversal (a bounded number of frames) and one
 * corner-case search for (class, dim). Both start where the cached corner cases start: the start
 * style, the std unit and the direction come from the cached ranking sums of the classifier on the
 * default sweep through the core's `dimStart` (dim-start.ts), and the corner case is the core's
 * `cornerCaseAlong` — the function behind /v1/corner-cases — so a live answer is the cached one for
 * the same (class, dim). The model code comes in through `k`, the live-compute chunk (live-call.ts),
 * so nothing here loads tfjs; what leaves is the PNG strip or the JSON-ready answer.
 */
import type { CornerCaseJson } from '../../core/analysis/corner-case-json.js';
import { dimStart, type DimStart, type DirectionChoice } from '../../core/analysis/dim-start.js';
import { compactResult } from '../../core/analysis/derived-options.js';
import type { ShiftEvaluation } from '../../core/analysis/traversal.js';
import { styleDimName } from '../../core/generator/style-layout.js';
import { pngDataUrl } from '../http.js';
import { badField } from '../problem.js';
import { statisticsJson, type LiveStats } from '../style.js';
import { timed } from '../server-timing.js';
import type { LiveCallModels, LiveCompute } from './live-call.js';

type Direction = 'auto' | 'increase' | 'decrease';

/** The reply of a live dim computation: the PNG strip (with its headers), or the JSON answer. */
export type LiveDimAnswer =
  | { format: 'png'; strip: Uint8Array; headers?: Record<string, string> }
  | { format: 'json'; body: Record<string, unknown> };

export interface TraversalArgs {
  class: number;
  dim: number;
  seed?: number;
  frames: number;
  range: number;
  mode: 'range' | 'crossing';
  direction: Direction;
  format: 'json' | 'png';
  scale: number;
}

export interface CornerCaseArgs {
  class: number;
  dim: number;
  maxSteps: number;
  tolerance: number;
  direction: Direction;
  format: 'json' | 'png';
  scale: number;
}

const round = (v: number, d = 6) => Math.round(v * 10 ** d) / 10 ** d;
const roundOrNull = (v: number | null, d = 4) => (v === null ? null : round(v, d));
const frameJson = (f: ShiftEvaluation) => ({
  shift: round(f.shift, 4),
  pTrue: round(f.pTrue),
  predicted: f.predicted,
  runnerUp: f.runnerUp,
  pRunnerUp: round(f.pRunnerUp),
});
const dirName = (d: 1 | -1) => (d === 1 ? ('increase' as const) : ('decrease' as const));

/** The dim as the class ranking sees it, when the statistics are the classifier's own. */
const rankingJson = (st: LiveStats, start: DimStart) =>
  st.own ? { rank: start.dim.rank, score: start.dim.score, direction: start.dim.direction } : null;

/** The start of a search: dim-start.ts with the request's direction (auto: the ranking's). */
function startOf(
  st: LiveStats,
  q: { class: number; dim: number; direction: Direction },
  s0?: Float32Array,
  direction?: DirectionChoice,
): DimStart {
  return dimStart(st.sums, st.layout, q.class, q.dim, {
    s0,
    direction: direction ?? (q.direction === 'auto' ? 'ranking' : q.direction),
  });
}

/**
 * The frames of one dim: evenly over [-range, range] (range mode), or at 0..2x the decision shift
 * after finding the decision boundary (crossing mode); as a PNG strip or JSON with the strip inlined.
 */
export async function liveTraversal(
  k: LiveCompute,
  models: LiveCallModels,
  st: LiveStats,
  q: TraversalArgs,
): Promise<LiveDimAnswer> {
  const s0 = q.seed === undefined ? undefined : k.seedStyle(models.generator, q.seed, q.class);
  const start = startOf(st, q, s0, q.mode === 'range' ? 'increase' : undefined);
  if (!(start.std > 0))
    throw badField(
      'dim',
      'validation',
      `dim ${q.dim} does not vary over the samples of class ${q.class} in the sweep (std 0): no unit to traverse in`,
    );
  const path = { s0: start.s0, classIndex: q.class, dim: q.dim, std: start.std, direction: start.direction };
  const common = {
    generatorId: models.generatorId,
    classifier: models.classifierName,
    class: q.class,
    dim: q.dim,
    name: styleDimName(models.generator.layout, q.dim),
    std: round(start.std),
    startStyle: q.seed === undefined ? ('class-average' as const) : { seed: q.seed },
    statistics: statisticsJson(st),
    ranking: rankingJson(st, start),
  };
  let body: Record<string, unknown>;
  let frames: ShiftEvaluation[];
  if (q.mode === 'range') {
    frames = await timed('evaluate', () => k.evaluateShifts(models, path, k.rangeShifts(q.frames, q.range), true));
    body = { ...common, mode: 'range', direction: 'increase', evaluations: frames.length };
  } else {
    const fractions = Array.from({ length: q.frames }, (_, i) => (2 * i) / (q.frames - 1));
    const t = await timed('evaluate', () =>
      k.traverse(models, { ...path, maxSteps: Math.max(1, Math.round(q.range)), fractions }),
    );
    frames = t.frames;
    body = {
      ...common,
      mode: 'crossing',
      direction: dirName(start.direction),
      directionFrom: start.directionFrom,
      start: frameJson(t.start),
      outcome: t.outcome,
      flipped: t.flipped,
      reasons: t.reasons,
      decisionShift: roundOrNull(t.decisionShift),
      decision: t.decision && frameJson(t.decision),
      pTrueHalfShift: roundOrNull(t.pTrueHalfShift),
      pTrueHalf: t.pTrueHalf && frameJson(t.pTrueHalf),
      frameBase: t.frameBase,
      evaluations: t.evaluations,
    };
  }
  return timed('encode', (): LiveDimAnswer => {
    const strip = k.gridPng(
      frames.map((f) => f.image!),
      { ...k.imageTile(models), columns: frames.length, scale: q.scale },
    );
    if (q.format === 'png') return { format: 'png', strip };
    return { format: 'json', body: { ...body, frames: frames.map(frameJson), strip: pngDataUrl(strip) } };
  });
}

/**
 * One corner-case search for (class, dim), as the cached corner cases search: the start, the
 * decision corner case and the p_true = 0.5 point, as a PNG strip or JSON with the strip inlined.
 */
export async function liveCornerCase(
  k: LiveCompute,
  models: LiveCallModels,
  st: LiveStats,
  q: CornerCaseArgs,
): Promise<LiveDimAnswer> {
  const start = startOf(st, q);
  const { search, first } = await timed('evaluate', async () => {
    const search = await k.cornerCaseAlong(models, start, { maxSteps: q.maxSteps, tolerance: q.tolerance });
    return { search, first: await k.searchStart(models, start, search) };
  });
  const cc = search.cornerCase;
  const tiles = [first.image!, ...(cc ? [cc.decision.image, ...(cc.pTrueHalf ? [cc.pTrueHalf.image] : [])] : [])];
  const strip = k.gridPng(tiles, { ...k.imageTile(models), columns: tiles.length, scale: q.scale });
  if (q.format === 'png')
    return {
      format: 'png',
      strip,
      headers: { 'x-flipped': String(cc !== null), 'x-outcome': search.skipped?.outcome ?? 'flipped' },
    };
  // A classifier without a ranking of its own (st.own false) has no rank or score for the dim.
  const dimJson = (d: CornerCaseJson['dim']) =>
    st.own ? d : { ...d, rank: null, score: null, direction: dirName(start.direction) };
  const caseJson = cc && ((j) => ({ ...j, dim: dimJson(j.dim) }))(k.cornerCaseJson(cc));
  return {
    format: 'json',
    body: compactResult({
      generatorId: models.generatorId,
      classifier: models.classifierName,
      class: q.class,
      dim: q.dim,
      name: styleDimName(models.generator.layout, q.dim),
      std: start.std,
      direction: dirName(start.direction),
      directionFrom: start.directionFrom,
      statistics: statisticsJson(st),
      ranking: rankingJson(st, start),
      maxSteps: q.maxSteps,
      tolerance: q.tolerance,
      start: k.startJson(first),
      outcome: search.skipped?.outcome ?? 'flipped',
      flipped: cc !== null,
      reasons: search.traversal?.reasons ?? [search.skipped!.reason],
      cornerCase: caseJson,
      skipped: search.skipped && k.skippedJson(search.skipped),
      evaluations: search.traversal?.evaluations ?? 1,
      images: pngDataUrl(strip),
    }),
  };
}
