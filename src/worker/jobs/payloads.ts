/**
 * Checks of a runner's result for a derived kind (histograms, accuracy curves, corner cases, directions)
 * before it becomes an immutable, served result: its schema (src/protocol/derived-payloads.ts and
 * src/protocol/directions.ts; no unknown fields), its sizes against
 * the generator (S, classes) and the job's options, its internal consistency (counts that add up,
 * bins that tile [0, 1], dims inside S) and the spec hash of (models, population) it was computed
 * for. The ranking sums' own checks are in routes/runner.ts (their shape: src/protocol/ranking-sums.ts).
 */
import type { z } from '@hono/zod-openapi';
import { parseDerivedOptions, resultSpecHash, type DerivedKind } from '../../core/analysis/derived-options.js';
import { counterfactualFrames } from '../../core/analysis/counterfactual-options.js';
import { ProblemError } from '../problem.js';
import type { JobSpec } from '../../protocol/job.js';
import { DirectionsPayloadSchema, type DirectionsSet } from '../../protocol/directions.js';
import {
  AccuracyCurvesPayloadSchema,
  CornerCasesPayloadSchema,
  HistogramsPayloadSchema,
} from '../../protocol/derived-payloads.js';

/** The shape of a result, as the checks need it. */
export interface PayloadFrame {
  /** The generator's S and number of classes. */
  styleSize: number;
  numClasses: number;
}

export const payloadError = (field: string, detail: string) =>
  new ProblemError(400, 'validation', `payload.${field}${detail}`, { field: `payload.${field}` });

/** `payload` parsed by `schema`, or a 400 naming the first offending field. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProblemError(400, 'validation', `payload.${issue.path.join('.')}: ${issue.message}`, {
      field: ['payload', ...issue.path.map(String)].join('.'),
    });
  }
  return parsed.data;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function checkDims(field: string, dims: readonly number[], S: number): void {
  const seen = new Set<number>();
  dims.forEach((d, i) => {
    if (d >= S) throw payloadError(`${field}.${i}`, ` (${d}) is outside S (${S} dims)`);
    if (seen.has(d)) throw payloadError(`${field}.${i}`, ` (${d}) repeats a dim`);
    seen.add(d);
  });
}

function histograms(payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  const p = parsePayload(HistogramsPayloadSchema, payload);
  const o = parseDerivedOptions('histograms', spec.options ?? {});
  const S = frame.styleSize;
  if (p.wellCount + p.misCount !== spec.count)
    throw payloadError(
      'wellCount',
      ` + misCount (${p.wellCount + p.misCount}) is not the sweep's ${spec.count} samples`,
    );
  const top = Math.min(o.top, S);
  const random = Math.max(0, Math.min(o.random, S - Math.max(o.top, Math.ceil(S * 0.1))));
  if (p.dims.length !== top + random)
    throw payloadError(
      'dims',
      ` has ${p.dims.length} entries, the options ask for ${top} top and ${random} random dims`,
    );
  checkDims(
    'dims',
    p.dims.map((d) => d.dim),
    S,
  );
  p.dims.forEach((d, i) => {
    const f = `dims.${i}`;
    const group = i < top ? 'top' : 'random';
    if (d.group !== group) throw payloadError(`${f}.group`, ` is ${d.group}, expected ${group}`);
    if (group === 'top' && d.rank !== i + 1) throw payloadError(`${f}.rank`, ` is ${d.rank}, expected ${i + 1}`);
    if (d.edges.length !== o.bins + 1) throw payloadError(`${f}.edges`, ` must have bins + 1 = ${o.bins + 1} entries`);
    if (d.edges.some((e, k) => k > 0 && e < d.edges[k - 1])) throw payloadError(`${f}.edges`, ' must not decrease');
    if (d.well.length !== o.bins || d.mis.length !== o.bins)
      throw payloadError(`${f}.well`, ` and mis must have bins = ${o.bins} entries`);
    if (sum(d.well) !== p.wellCount)
      throw payloadError(`${f}.well`, ` sums to ${sum(d.well)}, not wellCount (${p.wellCount})`);
    if (sum(d.mis) !== p.misCount)
      throw payloadError(`${f}.mis`, ` sums to ${sum(d.mis)}, not misCount (${p.misCount})`);
  });
}

function accuracyCurves(payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  const p = parsePayload(AccuracyCurvesPayloadSchema, payload);
  const o = parseDerivedOptions('accuracy-curves', spec.options ?? {});
  if (p.count !== spec.count) throw payloadError('count', ` is ${p.count}, the sweep has ${spec.count} samples`);
  if (p.centres !== o.centres) throw payloadError('centres', ` is ${p.centres}, the options say ${o.centres}`);
  if (p.dims.length !== Math.min(o.topDims, frame.styleSize))
    throw payloadError('dims', ` has ${p.dims.length} entries, the options ask for the top ${o.topDims}`);
  checkDims('dims', p.dims, frame.styleSize);
  if (p.normalisation.minDistance > p.normalisation.maxDistance)
    throw payloadError('normalisation.minDistance', ' exceeds maxDistance');
  const names = [spec.classifier, ...(spec.compare ?? []).map((c) => c.classifier)];
  if (p.curves.length !== names.length || p.curves.some((c, i) => c.classifier !== names[i])) {
    throw payloadError(
      'curves',
      ` are of ${p.curves.map((c) => c.classifier).join(', ')}, the job asks for ${names.join(', ')} in that order`,
    );
  }
  const counts = [...p.curves[0].bins, p.curves[0].beyond].map((b) => b.count);
  p.curves.forEach((c, i) => {
    const f = `curves.${i}`;
    if (c.bins.length !== o.bins) throw payloadError(`${f}.bins`, ` must have ${o.bins} entries`);
    c.bins.forEach((b, k) => {
      if (Math.abs(b.lo - k / o.bins) > 1e-6 || Math.abs(b.hi - (k + 1) / o.bins) > 1e-6)
        throw payloadError(`${f}.bins.${k}`, ` is [${b.lo}, ${b.hi}), expected [${k / o.bins}, ${(k + 1) / o.bins})`);
    });
    const groups = [...c.bins, c.beyond];
    groups.forEach((b, k) => {
      const at = k < o.bins ? `${f}.bins.${k}` : `${f}.beyond`;
      // The same samples in the same bins for every classifier: only their correctness differs.
      if (b.count !== counts[k])
        throw payloadError(
          `${at}.count`,
          ` (${b.count}) differs from curves.0's (${counts[k]}): the curves must share their samples`,
        );
      if (b.correct > b.count) throw payloadError(`${at}.correct`, ` (${b.correct}) exceeds count (${b.count})`);
      const acc = b.count ? b.correct / b.count : null;
      if (acc === null ? b.accuracy !== null : b.accuracy === null || Math.abs(b.accuracy - acc) > 1e-6)
        throw payloadError(`${at}.accuracy`, ` (${b.accuracy}) is not correct / count (${acc})`);
      if (b.sparse !== (b.count === 0 || b.count < p.minCount))
        throw payloadError(`${at}.sparse`, ` is ${b.sparse} for ${b.count} samples (minCount ${p.minCount})`);
    });
    if (Math.abs(c.accuracy - sum(groups.map((b) => b.correct)) / p.count) > 1e-6)
      throw payloadError(`${f}.accuracy`, ` (${c.accuracy}) is not the share of correct samples`);
    // The score: the area under the curve, the mean accuracy of the non-sparse bins (not `beyond`).
    const kept = c.bins.filter((b) => !b.sparse);
    const r = c.robustness;
    if (r.samples !== sum(kept.map((b) => b.count)))
      throw payloadError(
        `${f}.robustness.samples`,
        ` (${r.samples}) is not the non-sparse bins' ${sum(kept.map((b) => b.count))} samples`,
      );
    const score = kept.length ? sum(kept.map((b) => b.correct / b.count)) / kept.length : null;
    if (score === null ? r.score !== null : r.score === null || Math.abs(r.score - score) > 1e-6)
      throw payloadError(
        `${f}.robustness.score`,
        ` (${r.score}) is not the mean accuracy of the non-sparse bins (${score})`,
      );
    if ((r.ciLow === null) !== (r.ciHigh === null) || (r.ciLow !== null && r.ciHigh !== null && r.ciLow > r.ciHigh))
      throw payloadError(`${f}.robustness.ciLow`, ` (${r.ciLow}) and ciHigh (${r.ciHigh}) are not an interval`);
  });
  if (sum(counts) !== p.count)
    throw payloadError('curves.0.bins', ` and beyond hold ${sum(counts)} samples, not count (${p.count})`);
}

function cornerCases(payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  const p = parsePayload(CornerCasesPayloadSchema, payload);
  const o = parseDerivedOptions('corner-cases', spec.options ?? {});
  const { styleSize: S, numClasses: K } = frame;
  if (p.maxSteps !== o.maxSteps) throw payloadError('maxSteps', ` is ${p.maxSteps}, the options say ${o.maxSteps}`);
  if (p.tolerance !== o.tolerance)
    throw payloadError('tolerance', ` is ${p.tolerance}, the options say ${o.tolerance}`);
  if (p.classes.length !== K) throw payloadError('classes', ` must have one entry per class (${K})`);
  const cls = (field: string, v: number) => {
    if (v >= K) throw payloadError(field, ` (${v}) is not a class (0-${K - 1})`);
  };
  p.classes.forEach((k, c) => {
    const f = `classes.${c}`;
    if (k.classIndex !== c) throw payloadError(`${f}.classIndex`, ` is ${k.classIndex}, expected ${c}`);
    cls(`${f}.start.predicted`, k.start.predicted);
    if (k.cases.length > o.perClass)
      throw payloadError(`${f}.cases`, ` has ${k.cases.length} entries, the options allow ${o.perClass}`);
    if (k.cases.length + k.skipped.length > o.maxCandidates)
      throw payloadError(`${f}.skipped`, ` and cases try more than maxCandidates (${o.maxCandidates}) dims`);
    checkDims(`${f}.dims`, [...k.cases.map((x) => x.dim.index), ...k.skipped.map((x) => x.dim)], S);
    k.cases.forEach((x, i) => {
      const at = `${f}.cases.${i}`;
      if (x.dim.rank > S) throw payloadError(`${at}.dim.rank`, ` (${x.dim.rank}) exceeds S (${S})`);
      if (x.decision.shift > o.maxSteps)
        throw payloadError(
          `${at}.decision.shift`,
          ` (${x.decision.shift}) is outside [0, maxSteps = ${o.maxSteps}] std`,
        );
      cls(`${at}.decision.predicted`, x.decision.predicted);
      // A decision corner case is misclassified by definition.
      if (x.decision.predicted === c)
        throw payloadError(`${at}.decision.predicted`, ` is the true class ${c}: not a decision corner case`);
      if (x.pTrueHalf && x.pTrueHalf.shift > x.decision.shift)
        throw payloadError(
          `${at}.pTrueHalf.shift`,
          ` (${x.pTrueHalf.shift}) is past the decision shift (${x.decision.shift}): a flip needs p_true < 0.5 first`,
        );
    });
    if (k.counts.decision !== k.cases.length)
      throw payloadError(
        `${f}.counts.decision`,
        ` (${k.counts.decision}) is not the number of cases (${k.cases.length})`,
      );
  });
  if (p.flipSufficiency.classifiers.length !== 1 || p.flipSufficiency.classifiers[0].classifier !== spec.classifier)
    throw payloadError('flipSufficiency.classifiers', ` must be this job's classifier (${spec.classifier}) alone`);
  if (p.frontier.classifiers.length !== 1 || p.frontier.classifiers[0].classifier !== spec.classifier)
    throw payloadError('frontier.classifiers', ` must be this job's classifier (${spec.classifier}) alone`);
  p.flipSufficiency.classifiers[0].cells.forEach((cell, i) => {
    for (const side of ['top', 'random'] as const)
      if (cell[side].flipped > cell[side].samples)
        throw payloadError(
          `flipSufficiency.classifiers.0.cells.${i}.${side}.flipped`,
          ` (${cell[side].flipped}) exceeds samples (${cell[side].samples})`,
        );
  });
}

function directions(payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  const p = parsePayload(DirectionsPayloadSchema, payload);
  const o = parseDerivedOptions('directions', spec.options ?? {});
  const { styleSize: S, numClasses: K } = frame;
  const names = [spec.classifier, ...(spec.compare ?? []).map((c) => c.classifier)];
  if (p.classifiers.length !== names.length || p.classifiers.some((c, i) => c !== names[i]))
    throw payloadError(
      'classifiers',
      ` are ${p.classifiers.join(', ')}, the job asks for ${names.join(', ')} in that order`,
    );
  if (p.reference !== (names[1] ?? null))
    throw payloadError('reference', ` is ${p.reference}, the job's reference reader is ${names[1] ?? null}`);
  if (p.classes.length !== K) throw payloadError('classes', ` must have one entry per class (${K})`);
  const checkSet = (f: string, set: DirectionsSet, classIndex: number | null, dims: number, samples: number) => {
    if (set.classIndex !== classIndex)
      throw payloadError(`${f}.classIndex`, ` is ${set.classIndex}, expected ${classIndex}`);
    if (set.dims.length > Math.min(dims, S))
      throw payloadError(`${f}.dims`, ` has ${set.dims.length} entries, the options ask for at most ${dims}`);
    checkDims(
      `${f}.dims`,
      set.dims.map((d) => d.index),
      S,
    );
    set.dims.forEach((d, i) => {
      if (d.rank !== i + 1) throw payloadError(`${f}.dims.${i}.rank`, ` is ${d.rank}, expected ${i + 1}`);
    });
    const r = set.result;
    if (r === null) {
      if (set.dims.length > 0) throw payloadError(`${f}.result`, ' is null for described dims');
      return;
    }
    if (r.samples !== samples)
      throw payloadError(`${f}.result.samples`, ` is ${r.samples}, the options say ${samples}`);
    if (r.seed !== spec.seed) throw payloadError(`${f}.result.seed`, ` is ${r.seed}, the sweep's seed is ${spec.seed}`);
    if (r.bootstrap !== o.bootstrap)
      throw payloadError(`${f}.result.bootstrap`, ` is ${r.bootstrap}, the options say ${o.bootstrap}`);
    if (r.shifts.length !== o.shifts.length || r.shifts.some((t, i) => t !== o.shifts[i]))
      throw payloadError(`${f}.result.shifts`, ` are ${r.shifts.join(', ')}, the options say ${o.shifts.join(', ')}`);
    if (r.classifiers.length !== names.length || r.classifiers.some((c, i) => c !== names[i]))
      throw payloadError(`${f}.result.classifiers`, " are not the job's classifiers in order");
    if (r.directions.length !== set.dims.length)
      throw payloadError(
        `${f}.result.directions`,
        ` has ${r.directions.length} entries, one per dim (${set.dims.length})`,
      );
    if (set.strips.length !== set.dims.length)
      throw payloadError(`${f}.strips`, ` has ${set.strips.length} entries, one per dim (${set.dims.length})`);
    // Each direction's weakness is read off the payload's counterfactual edits: one per direction, same ids.
    if (((set.weaknesses ?? null) === null) !== ((p.counterfactual ?? null) === null))
      throw payloadError(`${f}.weaknesses`, ' must be given exactly when the counterfactual is');
    if (set.weaknesses && set.weaknesses.length !== r.directions.length)
      throw payloadError(
        `${f}.weaknesses`,
        ` has ${set.weaknesses.length} entries, one per direction (${r.directions.length})`,
      );
    set.weaknesses?.forEach((w, i) => {
      if (w.id !== r.directions[i]?.id)
        throw payloadError(`${f}.weaknesses.${i}.id`, ` is ${w.id}, expected ${r.directions[i]?.id}`);
      if (w.edit && !p.counterfactual?.edits.some((e) => e.family === w.edit!.family && e.way === w.edit!.way))
        throw payloadError(`${f}.weaknesses.${i}.edit`, ' is not one of the counterfactual edits');
    });
    r.directions.forEach((d, i) => {
      const at = `${f}.result.directions.${i}`;
      if (d.dims.length !== 1 || d.dims[0] !== set.dims[i].index)
        throw payloadError(`${at}.dims`, ` are ${d.dims.join(', ')}, expected dim ${set.dims[i].index}`);
      if (d.classIndex !== classIndex)
        throw payloadError(`${at}.classIndex`, ` is ${d.classIndex}, expected ${classIndex}`);
      if (d.samples > samples) throw payloadError(`${at}.samples`, ` (${d.samples}) exceeds the options' ${samples}`);
      if (d.classifiers.length !== names.length || d.classifiers.some((c, k) => c.classifier !== names[k]))
        throw payloadError(`${at}.classifiers`, " are not the job's classifiers in order");
      d.classifiers.forEach((c, k) => {
        if (c.pTrue.length !== r.shifts.length || c.accuracy.length !== r.shifts.length)
          throw payloadError(
            `${at}.classifiers.${k}.pTrue`,
            ` and accuracy must have one entry per shift (${r.shifts.length})`,
          );
        if (c.correctAtStart > d.samples || c.flipped > c.correctAtStart)
          throw payloadError(
            `${at}.classifiers.${k}.flipped`,
            ` (${c.flipped}) exceeds correctAtStart (${c.correctAtStart}) or samples`,
          );
      });
      d.effects.forEach((e, k) => {
        if (!(e.ciLow <= e.ciHigh))
          throw payloadError(`${at}.effects.${k}.ciLow`, ` (${e.ciLow}) and ciHigh (${e.ciHigh}) are not an interval`);
      });
    });
  };
  // Absent (a result computed before the counterfactual naming) is refused like a missing one.
  const cf = p.counterfactual ?? null;
  const cfSamples = counterfactualFrames(spec.count, o.counterfactualSamples, names.length);
  const wantsCounterfactual = cfSamples > 0;
  if ((cf !== null) !== wantsCounterfactual)
    throw payloadError(
      'counterfactual',
      wantsCounterfactual
        ? ' is missing: the job has a reference reader and counterfactualSamples'
        : ' was not asked for',
    );
  if (cf && cf.samples !== cfSamples)
    throw payloadError('counterfactual.samples', ` is ${cf.samples}, the options and sweep say ${cfSamples}`);
  cf?.edits.forEach((e, i) => {
    if (!(e.ciLow <= e.ciHigh))
      throw payloadError(
        `counterfactual.edits.${i}.ciLow`,
        ` (${e.ciLow}) and ciHigh (${e.ciHigh}) are not an interval`,
      );
    if (i > 0 && e.ratio > cf.edits[i - 1].ratio)
      throw payloadError(`counterfactual.edits.${i}.ratio`, ' is larger than the one before (edits are by ratio)');
  });
  checkSet('all', p.all, null, o.dims, o.samples);
  p.classes.forEach((set, c) => checkSet(`classes.${c}`, set, c, o.classDims, o.classSamples));
}

const CHECKS: Record<DerivedKind, (payload: unknown, frame: PayloadFrame, spec: JobSpec) => void> = {
  histograms: histograms,
  'accuracy-curves': accuracyCurves,
  'corner-cases': cornerCases,
  directions,
};

/** Checks a derived kind's payload against the job that asked for it; throws a 400 problem. */
export function checkDerivedPayload(kind: DerivedKind, payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  CHECKS[kind](payload, frame, spec);
  const expected = resultSpecHash(spec, spec);
  const got = (payload as { specHash: string }).specHash;
  if (got !== expected)
    throw payloadError(
      'specHash',
      ` ${got} is not this job's (models ${spec.generatorId.slice(0, 12)}/` +
        `${spec.classifierId.slice(0, 12)}, seed ${spec.seed}, count ${spec.count}): ${expected}`,
    );
}
