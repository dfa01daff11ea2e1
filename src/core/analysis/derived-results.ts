/**
 * The edge's cached results that derive from a sweep's ranking sums — histograms, accuracy curves,
 * corner cases and directions (what the top dims do to the image) — computed one way for every producer: `npm run seed:edge` (the built-in
 * classifiers' precomputed results) and the runner's jobs (any classifier, any sweep). Same
 * inputs, same code, same batch sizes, so the same payload.
 *
 * Every derived result ranks S with the sums *as stored* (the `ranking-sums` result the edge
 * serves, which /v1/rankings is computed from), so a runner that reads them back derives exactly
 * what the seeding derived. Payloads are compacted (floats to 9 significant digits, NaN/∞ to null)
 * as stored, and carry the population's spec hash (models + sweep) the edge checks them against.
 *
 * Pure core code (tfjs-core, no Node APIs): it runs in Node, in Deno and in browsers.
 */
import type { Classifier } from '../classifier/classifier.js';
import { accuracyCurves, type AccuracyCurvesResult } from './accuracy-curve.js';
import { findCornerCases, CORNER_CASES_SCHEMA } from './corner-cases.js';
import { cornerCaseJson, rankedDimJson, skippedJson, startJson } from './corner-case-json.js';
import {
  contrastiveOrder,
  describeDirections,
  dimDirection,
  whyItFails,
  type DirectionPopulation,
  type DirectionSpec,
} from './directions.js';
import { flipSufficiency, type FlipSufficiencyOptions } from './flip-sufficiency.js';
import { frontierDistance, type FrontierOptions } from './frontier.js';
import { styleHistograms, type HistogramsResult } from './histograms.js';
import { sampleNoiseStreams, synthesizeImages, type AnalysisModels } from './analysis-models.js';
import {
  counterfactualAttribution,
  directionWeaknesses,
  type CounterfactualAttribution,
} from './counterfactual-attribution.js';
import { counterfactualFrames } from './counterfactual-options.js';
import { classifyPopulation, populationStyles, samplePopulation, type Population } from './population.js';
import { RANKING_SUMS_SCHEMA, rankDimensions, sumsCount, type RankedDim, type RankingSums } from './ranking.js';
import { DIRECTIONS_RESULT_SCHEMA } from './schema-versions.js';
import { gridPng, pngDataUrl } from '../image/png.js';
import * as tf from '../tf.js';
// The kinds, their options and the spec hash need no tfjs (the edge checks payloads with them): derived-options.ts.
import {
  compactResult,
  parseDerivedOptions,
  resultSpecHash,
  type AccuracyCurvesOptions,
  type HistogramsOptions,
  type CornerCasesOptions,
  type DerivedKind,
  type DirectionsOptions,
} from './derived-options.js';
export {
  DERIVED_KINDS,
  compactResult,
  type AccuracyCurvesOptions,
  type CornerCasesOptions,
  type DerivedKind,
  type DerivedOptions,
  type DirectionsOptions,
  type HistogramsOptions,
} from './derived-options.js';

/**
 * Samples per batch of the population a result samples. Fixed, not the runner's `--batch`: a
 * batch's size may change a kernel's float32 summation order, and results must not depend on who
 * computed them.
 */
export const RESULT_POPULATION_BATCH = 50;

export interface ResultProgress {
  done: number;
  total: number;
  samplesPerSecond: number;
}

export interface ResultInput {
  /** The generator and the classifier the result is of. */
  models: AnalysisModels;
  /** The classifier's name as the API names it (a built-in name, a registered classifier's id). */
  name: string;
  sweep: { seed: number; count: number };
  /** The sweep's ranking sums as the edge stores them (the `ranking-sums` result). */
  sums: RankingSums;
  /**
   * Progress in samples of the sweep (the population's batches; the corner cases' classes as
   * shares of it). Awaited: a caller may yield to its event loop, heartbeat, or throw to stop.
   */
  onProgress?: (p: ResultProgress) => void | Promise<void>;
}

/** A further classifier measured on the same population (accuracy curves). */
export interface ComparedClassifier {
  name: string;
  classifier: Classifier;
  classifierId: string;
}

/** Throws unless `sums` are the whole sweep of these models (not another classifier's, seed's or count's). */
function checkResultSums(input: Pick<ResultInput, 'models' | 'sweep' | 'sums'>): void {
  const { sums, sweep, models } = input;
  if (sums.schema !== RANKING_SUMS_SCHEMA)
    throw new Error(`ranking sums of schema "${sums.schema}", expected ${RANKING_SUMS_SCHEMA}`);
  const expected = resultSpecHash(models, sweep);
  if (sums.specHash !== expected)
    throw new Error(
      `the ranking sums are of another sweep or models (spec hash ${sums.specHash}, expected ${expected})`,
    );
  const whole = sums.ranges.length === 1 && sums.ranges[0][0] === 0 && sums.ranges[0][1] === sweep.count;
  if (!whole || sumsCount(sums) !== sweep.count)
    throw new Error(`the ranking sums cover ${JSON.stringify(sums.ranges)}, not the whole sweep [0, ${sweep.count})`);
  if (sums.styleSize !== models.generator.styleSize)
    throw new Error(`the ranking sums have S = ${sums.styleSize}, the generator ${models.generator.styleSize}`);
}

/** The sweep's population for the classifier (styles, labels, verdicts), batch by batch. */
export function resultPopulation(input: Pick<ResultInput, 'models' | 'sweep' | 'onProgress'>): Promise<Population> {
  return samplePopulation(input.models, {
    seed: input.sweep.seed,
    count: input.sweep.count,
    classIndex: null,
    batchSize: RESULT_POPULATION_BATCH,
    onProgress: input.onProgress,
  });
}

const globalRanking = (input: ResultInput) => rankDimensions(input.sums, input.models.generator.layout, null);

/** Histograms of the top and random dims, well- vs mis-classified (figure 4). `pop`: the population if already sampled. */
export async function histogramsResult(
  input: ResultInput,
  o: HistogramsOptions,
  pop?: Population,
): Promise<HistogramsResult & { specHash: string }> {
  checkResultSums(input);
  const p = pop ?? (await resultPopulation(input));
  const r = styleHistograms(p, {
    ranking: globalRanking(input).dims,
    top: o.top,
    random: o.random,
    bins: o.bins,
    seed: o.seed,
  });
  return compactResult({ ...r, specHash: p.specHash });
}

/**
 * Accuracy against distance in the classifier's top dims (figure 6), for it and for `compare`
 * measured on the very same samples (its population's styles, hence images), in that order.
 */
export async function accuracyCurvesResult(
  input: ResultInput,
  o: AccuracyCurvesOptions,
  compare: readonly ComparedClassifier[],
  pop?: Population,
): Promise<AccuracyCurvesResult & { specHash: string }> {
  checkResultSums(input);
  const p = pop ?? (await resultPopulation(input));
  const others: Record<string, Uint8Array> = {};
  for (const c of compare) {
    if (c.name === input.name || c.name in others) throw new Error(`classifier ${c.name} is compared twice`);
    const models: AnalysisModels = { ...input.models, classifier: c.classifier, classifierId: c.classifierId };
    others[c.name] = (await classifyPopulation(models, p, RESULT_POPULATION_BATCH)).correct;
  }
  const r = accuracyCurves(
    p,
    input.name,
    { ranking: globalRanking(input).dims, topDims: o.topDims, bins: o.bins, centres: o.centres, labels: p.labels },
    others,
  );
  return compactResult({ ...r, specHash: p.specHash });
}

/** Flip sufficiency in a cached corner-cases result (fixed: part of the schema, so every producer agrees). */
const RESULT_FLIP_SUFFICIENCY = {
  ks: [1, 3, 5, 10],
  ts: [2, 4],
  samples: 500,
  seed: 0,
} as const satisfies FlipSufficiencyOptions;
/** Frontier distance in a cached corner-cases result (the bound is the options' maxSteps). */
const RESULT_FRONTIER = { topDims: 3, samplesPerClass: 10 } as const satisfies FrontierOptions;

/**
 * Decision corner cases per class (figure 7), images as PNG data URLs, a class at a time (progress
 * between classes), with the sweep's flip sufficiency and per-class frontier distance.
 */
export async function cornerCasesResult(input: ResultInput, o: CornerCasesOptions, pop?: Population) {
  checkResultSums(input);
  const { models, sums } = input;
  const t0 = Date.now();
  const K = sums.numClasses;
  const classes = [];
  for (let c = 0; c < K; c++) {
    const [k] = (await findCornerCases(models, sums, models.generator.layout, { ...o, classes: [c] })).classes;
    classes.push({
      classIndex: k.classIndex,
      // One JSON shape with the live /v1/corner-case (corner-case-json.ts).
      start: startJson(k.start),
      cases: k.cases.map(cornerCaseJson),
      skipped: k.skipped.map(skippedJson),
      counts: k.counts,
    });
    const done = Math.round((input.sweep.count * (c + 1)) / (K + 1));
    await input.onProgress?.({
      done,
      total: input.sweep.count,
      samplesPerSecond: done / Math.max(1e-3, (Date.now() - t0) / 1000),
    });
  }
  // The decision-level probes of the same sweep (its population: styles and labels; `pop` if sampled already).
  const p = pop ?? (await resultPopulation({ models, sweep: input.sweep }));
  const flip = await flipSufficiency([models], [input.name], p, sums, models.generator.layout, RESULT_FLIP_SUFFICIENCY);
  const frontier = await frontierDistance([models], [input.name], p, sums, models.generator.layout, {
    ...RESULT_FRONTIER,
    maxSteps: o.maxSteps,
  });
  await input.onProgress?.({
    done: input.sweep.count,
    total: input.sweep.count,
    samplesPerSecond: input.sweep.count / Math.max(1e-3, (Date.now() - t0) / 1000),
  });
  return compactResult({
    schema: CORNER_CASES_SCHEMA,
    specHash: sums.specHash,
    maxSteps: o.maxSteps,
    tolerance: o.tolerance,
    classes,
    flipSufficiency: flip,
    frontier,
  });
}

/**
 * Rows per rendered batch of a directions result: `analyze`'s default batch (the CLI describes its
 * directions in batches of 64 too), fixed so that who computes does not change the summation order.
 */
const DIRECTIONS_BATCH = 64;

/** One set of described directions: the global top dims, or one class's. */
async function directionsSet(
  readers: readonly AnalysisModels[],
  names: readonly string[],
  pop: DirectionPopulation,
  classIndex: number | null,
  dims: readonly RankedDim[],
  samples: number,
  o: DirectionsOptions,
  seed: number,
  counterfactual: CounterfactualAttribution | null,
) {
  const S = pop.styleSize;
  const specs = dims.map((d) => dimDirection(d, classIndex, S));
  const result = await describeDirections(readers, names, pop, specs, {
    samples,
    shifts: o.shifts,
    bootstrap: o.bootstrap,
    seed,
    batchSize: DIRECTIONS_BATCH,
  });
  return {
    classIndex,
    dims: dims.map(rankedDimJson),
    result,
    contrastiveOrder: contrastiveOrder(result)?.map((d) => d.id) ?? null,
    why: whyItFails(result),
    weaknesses: counterfactual ? directionWeaknesses(result, counterfactual) : null,
    strips: await directionStrips(readers[0], pop, specs, o.shifts),
  };
}

/**
 * The counterfactual attribution of the classifier against its first reference reader on the
 * sweep's first `count` frames at rest (analyze: the contrastive population's first frames, the same
 * samples and noise), rendered in DIRECTIONS_BATCH rows.
 */
async function sweepCounterfactual(
  readers: readonly [AnalysisModels, AnalysisModels],
  sweep: { seed: number; count: number },
  count: number,
  bootstrap: number,
): Promise<CounterfactualAttribution> {
  const g = readers[0].generator;
  const size = g.arch.resolutions[g.arch.resolutions.length - 1];
  const channels = g.arch.imageChannels;
  const per = size * size * channels;
  const images = new Float32Array(count * per);
  const labels = new Uint8Array(count);
  const spec = { seed: sweep.seed, count: sweep.count, classIndex: null };
  for (let b = 0; b < count; b += DIRECTIONS_BATCH) {
    const nb = Math.min(DIRECTIONS_BATCH, count - b);
    const st = populationStyles(readers[0], spec, b, nb);
    st.w.dispose();
    const frames = tf.tidy(() => synthesizeImages(readers[0], st.s, sampleNoiseStreams(b, nb)));
    st.s.dispose();
    images.set((await frames.data()) as Float32Array, b * per);
    frames.dispose();
    labels.set(st.labels, b);
  }
  return counterfactualAttribution(
    [readers[0].classifier, readers[1].classifier],
    { images, labels, size, channels },
    {
      seed: sweep.seed,
      bootstrap,
      batchSize: DIRECTIONS_BATCH,
    },
  );
}

/** Index in the population of the first sample of `classIndex` (any class when null). */
function firstSample(pop: DirectionPopulation, classIndex: number | null): number {
  for (let i = 0; i < pop.count; i++) if (classIndex === null || pop.labels[i] === classIndex) return i;
  throw new Error(`the population has no sample of class ${classIndex}`);
}

/**
 * Per direction, one PNG strip: the first sample it moves, at each shift (the frames its effects are
 * measured on), grey or RGB as the generator draws them.
 */
async function directionStrips(
  models: AnalysisModels,
  pop: DirectionPopulation,
  specs: readonly DirectionSpec[],
  shifts: readonly number[],
): Promise<string[]> {
  const S = pop.styleSize;
  const M = shifts.length;
  const g = models.generator;
  const size = g.arch.resolutions[g.arch.resolutions.length - 1];
  const channels = g.arch.imageChannels;
  const strips: string[] = [];
  for (const spec of specs) {
    const i = firstSample(pop, spec.classIndex);
    const host = new Float32Array(M * S);
    for (let m = 0; m < M; m++)
      for (let j = 0; j < S; j++) host[m * S + j] = pop.styles[i * S + j] + shifts[m] * spec.step[j];
    const images = tf.tidy(() => synthesizeImages(models, tf.tensor2d(host, [M, S]), new Uint32Array(M).fill(i)));
    const px = (await images.data()) as Float32Array;
    images.dispose();
    const per = size * size * channels;
    const tiles = Array.from({ length: M }, (_, m) => px.subarray(m * per, (m + 1) * per));
    strips.push(pngDataUrl(gridPng(tiles, { size, columns: M, scale: 1, gap: 1, channels })));
  }
  return strips;
}

/**
 * What the top dims of the classifier's ranking do to the image (src/core/analysis/directions.ts),
 * as `analyze` describes them: the top `dims` of the global ranking on the sweep's first `samples`
 * samples, and the top `classDims` of each class's ranking on the first `classSamples` samples of
 * that class, each frame read by the classifier and by `compare` (the first is the contrastive
 * ranking's reference reader), with "why it fails" and one strip of frames per direction. Only the
 * first samples of the sweep are rendered (sample i depends on (seed, i) alone: population.ts), the
 * bootstrap is seeded with the sweep's seed. Progress: one step per set (global, then each class).
 */
export async function directionsResult(
  input: ResultInput,
  o: DirectionsOptions,
  compare: readonly ComparedClassifier[],
) {
  checkResultSums(input);
  const { models, sums, sweep } = input;
  const t0 = Date.now();
  const K = sums.numClasses;
  const layout = models.generator.layout;
  const readers = [
    models,
    ...compare.map((c) => ({ ...models, classifier: c.classifier, classifierId: c.classifierId })),
  ];
  const names = [input.name, ...compare.map((c) => c.name)];
  if (new Set(names).size !== names.length) throw new Error(`a classifier is compared twice: ${names.join(', ')}`);
  // Styles of the sweep's first samples: enough for `samples` of every class and `classSamples` of each.
  const n = Math.min(sweep.count, Math.max(o.samples, o.classSamples * K));
  const spec = { seed: sweep.seed, count: sweep.count, classIndex: null };
  const st = populationStyles(models, spec, 0, n);
  const pop: DirectionPopulation = {
    count: n,
    styleSize: models.generator.styleSize,
    labels: st.labels,
    styles: (await st.s.data()) as Float32Array,
  };
  st.s.dispose();
  st.w.dispose();
  const progress = async (step: number) => {
    const done = Math.round((sweep.count * step) / (K + 1));
    await input.onProgress?.({
      done,
      total: sweep.count,
      samplesPerSecond: done / Math.max(1e-3, (Date.now() - t0) / 1000),
    });
  };
  // Against the first reference reader, as analyze's contrastive section (null without one).
  const cfCount = counterfactualFrames(sweep.count, o.counterfactualSamples, readers.length);
  const counterfactual =
    cfCount > 0 ? await sweepCounterfactual([readers[0], readers[1]], sweep, cfCount, o.bootstrap) : null;
  const top = rankDimensions(sums, layout, null).dims.slice(0, o.dims);
  const all = await directionsSet(readers, names, pop, null, top, o.samples, o, sweep.seed, counterfactual);
  await progress(1);
  const classes = [];
  for (let c = 0; c < K; c++) {
    // A class with fewer than 2 samples in the sweep has no spread to measure (tiny sweeps).
    const have = Array.from(pop.labels).filter((l) => l === c).length;
    const ranked = have >= 2 && sums.count[c] >= 2 ? rankDimensions(sums, layout, c).dims.slice(0, o.classDims) : [];
    classes.push(
      ranked.length
        ? await directionsSet(readers, names, pop, c, ranked, o.classSamples, o, sweep.seed, counterfactual)
        : { classIndex: c, dims: [], result: null, contrastiveOrder: null, why: [], weaknesses: null, strips: [] },
    );
    await progress(c + 2);
  }
  return compactResult({
    schema: DIRECTIONS_RESULT_SCHEMA,
    specHash: resultSpecHash(models, sweep),
    classifiers: names,
    reference: names.length > 1 ? names[1] : null,
    counterfactual,
    all,
    classes,
  });
}

/**
 * One derived result of `kind` with the job's options (JSON, checked): what a runner computes for
 * a job. `compare`: the classifiers an accuracy-curves result measures too, or a directions result's reference readers.
 */
export async function derivedResult(
  kind: DerivedKind,
  input: ResultInput,
  options: Record<string, unknown>,
  compare: readonly ComparedClassifier[] = [],
): Promise<unknown> {
  if (kind === 'histograms') return histogramsResult(input, parseDerivedOptions(kind, options));
  if (kind === 'accuracy-curves' || kind === 'directions') {
    const o = parseDerivedOptions(kind, options);
    if (
      o.compare &&
      (o.compare.length !== compare.length || o.compare.some((id, i) => compare[i].classifierId !== id))
    ) {
      throw new Error(
        `the options compare ${o.compare.join(', ')}, the job names ${compare.map((c) => c.classifierId).join(', ')}`,
      );
    }
    return kind === 'directions'
      ? directionsResult(input, o as DirectionsOptions, compare)
      : accuracyCurvesResult(input, o as AccuracyCurvesOptions, compare);
  }
  if (kind === 'corner-cases') return cornerCasesResult(input, parseDerivedOptions(kind, options));
  throw new Error(`unknown derived result kind "${kind as string}"`);
}
