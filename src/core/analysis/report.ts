/**
 * The whole analysis of one classifier (and optionally a second one to compare), as one typed,
 * versioned result: the paper's figures 3-7 as data. Pure core code, so the CLI, the edge worker
 * and the GPU runner produce the same report.
 */
import * as tf from '../tf.js';
import { contentHash } from '../hash.js';
import { accuracyCurves, type AccuracyCurvesResult, type Robustness } from './accuracy-curve.js';
import { classAverageStyle, CORNER_CASES_SCHEMA, findCornerCases, type CornerCasesResult } from './corner-cases.js';
import { directionsReport, type DirectionsReport } from './directions.js';
import { contrastiveFailures, type ContrastiveFailures } from './contrastive-ranking.js';
import { DEFAULT_COUNTERFACTUAL_SAMPLES } from './counterfactual-options.js';
import type { EmbeddingResult } from './embedding.js';
import { sweepHeadEmbedding } from './embeddings-result.js';
import { styleHistograms, type HistogramsResult } from './histograms.js';
import { flipSufficiency, type FlipSufficiencyResult } from './flip-sufficiency.js';
import { frontierDistance, type FrontierResult } from './frontier.js';
import { jointCornerCase, type JointResult } from './joint.js';
import { analysisNoise, type AnalysisModels, type AnalysisNoise } from './analysis-models.js';
import {
  classifyPopulation,
  emptyPopulation,
  populationAccuracy,
  recordBatch,
  type PopulationSpec,
} from './population.js';
import { rankDimensions, rankingSweep, type Ranking, type RankingSweepFn } from './ranking.js';
import { traverse, type TraversalResult } from './traversal.js';
import { DEFAULT_SIDE_BY_SIDE, sideBySide, type SideBySideResult } from './side-by-side.js';
import type { ClassifierDescription } from '../classifier/description.js';
import { REPORT_SCHEMA } from './schema-versions.js';
import { conv3x3Algorithm, conv3x3KernelActive } from '../nn/conv3x3/conv3x3-kernel.js';

export interface AnalysisOptions {
  seed: number;
  /** Population size. Default 10,000. */
  samples: number;
  /** One class or null for all. */
  classIndex: number | null;
  /** Dims of the accuracy curve (the authors use 100). */
  curveDims: number;
  curveBins: number;
  /**
   * Start class of the figure-5 traversal grid (its class-average style). null (the default): the
   * analysed class when `classIndex` is set, else the generator's default (`generator.classes`: its
   * manifest's `classes.traversalClass`, else min(3, K - 1)). The report records the class used.
   */
  traversalClass: number | null;
  /** Dims in the traversal grid. */
  traversalDims: number;
  cornerCasesPerClass: number;
  /** Bound of traversals and corner cases, std units. */
  maxSteps: number;
  /** Dims moved together by the joint corner case. */
  jointDims: number;
  /** Samples embedded in Z/W/S (UMAP is O(n log n) but the kNN score is O(n^2)). */
  embeddingSamples: number;
  /** Flip sufficiency: dims moved together, their shift in std, samples probed (flip-sufficiency.ts). */
  flipKs: number[];
  flipTs: number[];
  flipSamples: number;
  /** Frontier distance: top dims tried and samples probed per class (frontier.ts). */
  frontierDims: number;
  frontierSamplesPerClass: number;
  /**
   * Naming the failure (directions.ts): top dims described, samples moved along each, the shifts
   * rendered (std units) and the samples per corner-case dim (0: corner cases not described).
   */
  directionDims: number;
  directionSamples: number;
  directionShifts: number[];
  cornerCaseDirectionSamples: number;
  /**
   * Contrastive ranking against the compared classifier (contrastive-ranking.ts): on the first N
   * samples of the population (0: not computed; also skipped without a compared classifier), its
   * top dims described.
   */
  contrastiveSamples: number;
  contrastiveDims: number;
  /**
   * Frames (the contrastive population's first N) the counterfactual attribution edits
   * (counterfactual-attribution.ts); 0: not computed. Default DEFAULT_COUNTERFACTUAL_SAMPLES.
   */
  counterfactualSamples: number;
  batchSize: number;
}

export const DEFAULT_ANALYSIS: AnalysisOptions = {
  seed: 1,
  samples: 10_000,
  classIndex: null,
  curveDims: 100,
  curveBins: 10,
  traversalClass: null,
  traversalDims: 10,
  cornerCasesPerClass: 10,
  maxSteps: 20,
  jointDims: 5,
  embeddingSamples: 1000,
  flipKs: [1, 3, 5, 10],
  flipTs: [2, 4],
  flipSamples: 1000,
  frontierDims: 3,
  frontierSamplesPerClass: 20,
  directionDims: 20,
  directionSamples: 24,
  directionShifts: [0, 1, 2, 3, 4],
  cornerCaseDirectionSamples: 8,
  contrastiveSamples: 2000,
  contrastiveDims: 10,
  counterfactualSamples: DEFAULT_COUNTERFACTUAL_SAMPLES,
  batchSize: 64,
};

/** The options as they enter a report's specHash: counterfactualSamples only when not the default. */
function hashedOptions<T extends AnalysisOptions>(o: T): Omit<T, 'counterfactualSamples'> | T {
  if (o.counterfactualSamples !== DEFAULT_COUNTERFACTUAL_SAMPLES) return o;
  const { counterfactualSamples: _, ...rest } = o;
  return rest;
}

interface ClassifierSummary {
  name: string;
  /**
   * The classifier's id in result keys and the edge API: a built-in classifier's weights sha256; a
   * TF.js model's `tfjsClassifierId`, a hash of its model's sha256 and its adapter (`model.idIs` says which).
   */
  id: string;
  /** What the classifier is: its files, hashes, adapter and sanity check (set by the caller, who loaded it). */
  model?: ClassifierDescription;
  /** Accuracy on the generated population. */
  accuracy: number;
  /** Robustness score (accuracy over the accuracy curve's non-sparse groups) with its 95% bootstrap interval. */
  robustness: Robustness;
}

export interface AnalysisReport {
  schema: typeof REPORT_SCHEMA;
  specHash: string;
  /** `traversalClass` resolved (never null). */
  options: AnalysisOptions & { traversalClass: number };
  generatorId: string;
  /** Per-pixel noise of every image analysed (analysis-models.ts `AnalysisNoise`; part of specHash). */
  noise: AnalysisNoise;
  /** The generator's class names, by class index (its manifest's `classes.names`, else "0".."K-1"). */
  classNames: string[];
  backend: string;
  /**
   * Present (always 'winograd') when the wasm backend's 3x3 convs ran the opt-in Winograd
   * F(2x2,3x3) (`faultlines analyze --conv winograd`): results then differ from the default's in the
   * last bits. Absent for the default (XNNPACK's bits), so default reports are unchanged.
   */
  conv?: 'winograd';
  classifiers: ClassifierSummary[];
  ranking: Ranking;
  /** Per-class rankings (top 20 dims each). */
  classRankings: Ranking[];
  histograms: HistogramsResult;
  traversals: TraversalResult[];
  cornerCases: CornerCasesResult;
  joint: JointResult[];
  accuracyCurves: AccuracyCurvesResult;
  classAccuracyCurves: AccuracyCurvesResult[];
  /** Share of correct samples whose decision flips when the top-k dims move t std together, against k random dims; per classifier. */
  flipSufficiency: FlipSufficiencyResult;
  /** Per class, the median smallest decision-flipping shift of correct samples; per classifier. */
  frontier: FrontierResult;
  /** The analysed classifier next to the compared and every other given classifier on its top dims (score, p_true after t std). */
  sideBySide: SideBySideResult;
  /**
   * What the top dims and the corner cases' dims do to the image (labels, factor effect sizes), the
   * contrastive ranking against the compared classifier, and why each classifier fails.
   */
  directions: DirectionsReport;
  /**
   * Against the compared classifier: every dim ranked by how much more it lowers this classifier's
   * margin, the image factors its specific weakness follows, and its top dims described; null
   * without a compared classifier or with `contrastiveSamples` 0.
   */
  contrastive: ContrastiveFailures | null;
  embedding: EmbeddingResult;
  /**
   * Seconds per stage; `contrastive.sweep`, `contrastive.directions`, `contrastive.regression` and
   * `contrastive.counterfactual` split the contrastive stage.
   */
  timings: Record<string, number>;
}

export type AnalysisStage =
  | 'sweep'
  | 'compare'
  | 'traversals'
  | 'corner-cases'
  | 'joint'
  | 'flip-sufficiency'
  | 'frontier'
  | 'directions'
  | 'contrastive'
  | 'curves'
  | 'side-by-side'
  | 'embedding';

export interface AnalysisProgress {
  stage: AnalysisStage;
  done: number;
  total: number;
}

/**
 * How the runtime computes what the core asks for; nothing here changes the report's values.
 */
export interface AnalysisRuntime {
  /**
   * The gradient sweep (default: the core's in-process `rankingSweep`). Any function with its
   * contract — the same sums, `onBatch` for every batch in sample order — e.g. the Node CLI's
   * sweep over worker threads (src/node/parallel-sweep.ts).
   */
  sweep?: RankingSweepFn;
}

/**
 * @param models the classifier analysed (its ranking drives every figure)
 * @param compare a second classifier on the same generator, compared on the same samples and dims
 * @param runtime injected implementations (e.g. a threaded sweep); the core's own by default
 * @param alongside more classifiers on the same generator, shown next to the analysed one on its
 * top dims (`sideBySide`; the compared one is always there)
 * @example
 * const report = await analyze(models, DEFAULT_ANALYSIS, other, (p) => console.log(p.stage, p.done));
 */
export async function analyze(
  models: AnalysisModels,
  options: Partial<AnalysisOptions> = {},
  compare?: AnalysisModels,
  onProgress?: (p: AnalysisProgress) => void,
  runtime: AnalysisRuntime = {},
  alongside: readonly AnalysisModels[] = [],
): Promise<AnalysisReport> {
  const given: AnalysisOptions = { ...DEFAULT_ANALYSIS, ...options };
  const K = models.generator.arch.numClasses;
  const classCount = `the generator has ${K} classes: ${models.generator.classes.names.join(', ')}`;
  if (compare && compare.generatorId !== models.generatorId)
    throw new Error('classifiers can only be compared on the same generator');
  if (compare && contentHash(analysisNoise(compare)) !== contentHash(analysisNoise(models)))
    throw new Error('classifiers can only be compared on the same images (their noise differs)');
  for (const m of alongside)
    if (m.generatorId !== models.generatorId) throw new Error('classifiers can only be compared on the same generator');
  for (const m of [models, ...(compare ? [compare] : []), ...alongside]) {
    if (m.classifier.numClasses !== K)
      throw new RangeError(`classifier ${m.classifier.name} has ${m.classifier.numClasses} classes, ${classCount}`);
  }
  if (
    given.classIndex !== null &&
    (!Number.isInteger(given.classIndex) || given.classIndex < 0 || given.classIndex >= K)
  )
    throw new RangeError(
      `classIndex must be null or an integer in [0, ${K - 1}] (${classCount}), got ${given.classIndex}`,
    );
  // A one-class population only has that class's average style to start traversals from.
  const traversalClass = given.traversalClass ?? given.classIndex ?? models.generator.classes.traversalClass;
  if (!Number.isInteger(traversalClass) || traversalClass < 0 || traversalClass >= K)
    throw new RangeError(`traversalClass must be an integer in [0, ${K - 1}] (${classCount}), got ${traversalClass}`);
  if (given.classIndex !== null && traversalClass !== given.classIndex)
    throw new RangeError(
      `traversalClass ${traversalClass} differs from classIndex ${given.classIndex}: a one-class population has only class ${given.classIndex}'s average style`,
    );
  const o = { ...given, traversalClass };
  const layout = models.generator.layout;
  const spec: PopulationSpec = { seed: o.seed, count: o.samples, classIndex: o.classIndex };
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    timings[name] = (Date.now() - t0) / 1000;
    return r;
  };
  const progress = (stage: AnalysisStage) => (p: { done: number; total: number }) =>
    onProgress?.({ stage, done: p.done, total: p.total });

  // One pass: the gradient sweep also records the population (styles and verdicts).
  const pop = emptyPopulation(models, spec);
  const sweep = runtime.sweep ?? rankingSweep;
  const sums = await timed('sweep', () =>
    sweep(models, spec, {
      batchSize: o.batchSize,
      onProgress: progress('sweep'),
      onBatch: (b) => recordBatch(pop, b.start, b.labels, b.styles, b.evaluation),
    }),
  );
  const other = compare ? await timed('compare', () => classifyPopulation(compare, pop)) : null;

  const ranking = rankDimensions(sums, layout, o.classIndex);
  const classes = o.classIndex === null ? [...Array(K).keys()] : [o.classIndex];
  const classRankings = classes.map((c) => {
    const r = rankDimensions(sums, layout, c);
    return { ...r, dims: r.dims.slice(0, 20) };
  });
  const histograms = styleHistograms(pop, { ranking: ranking.dims, top: 3, random: 3, seed: o.seed });

  const traversals = await timed('traversals', async () => {
    const s0 = classAverageStyle(sums, layout, traversalClass);
    const out: TraversalResult[] = [];
    for (const d of ranking.dims.slice(0, o.traversalDims)) {
      out.push(
        await traverse(models, {
          s0,
          classIndex: traversalClass,
          dim: d.index,
          std: d.std,
          direction: d.direction === 'increase' ? 1 : -1,
          maxSteps: o.maxSteps,
        }),
      );
      onProgress?.({ stage: 'traversals', done: out.length, total: o.traversalDims });
    }
    return out;
  });

  const cornerCases = await timed('corner-cases', async () => {
    const result: CornerCasesResult = {
      schema: CORNER_CASES_SCHEMA,
      specHash: sums.specHash,
      maxSteps: o.maxSteps,
      tolerance: 0.01,
      classes: [],
    };
    for (const c of classes) {
      const one = await findCornerCases(models, sums, layout, {
        classes: [c],
        perClass: o.cornerCasesPerClass,
        maxSteps: o.maxSteps,
      });
      result.classes.push(...one.classes);
      onProgress?.({ stage: 'corner-cases', done: result.classes.length, total: classes.length });
    }
    return result;
  });

  const joint = await timed('joint', async () => {
    const out: JointResult[] = [];
    for (const c of classes) {
      const dims = rankDimensions(sums, layout, c).dims.slice(0, o.jointDims);
      out.push(
        await jointCornerCase(models, {
          s0: classAverageStyle(sums, layout, c),
          classIndex: c,
          dims,
          maxSteps: o.maxSteps,
        }),
      );
      onProgress?.({ stage: 'joint', done: out.length, total: classes.length });
    }
    return out;
  });

  // Both classifiers on the same samples and the same dims (this classifier's ranking).
  const probed = compare ? [models, compare] : [models];
  const probedNames = probed.map((m) => m.classifier.name);
  const flip = await timed('flip-sufficiency', async () => {
    onProgress?.({ stage: 'flip-sufficiency', done: 0, total: 1 });
    const r = await flipSufficiency(probed, probedNames, pop, sums, layout, {
      ks: o.flipKs,
      ts: o.flipTs,
      samples: o.flipSamples,
      seed: o.seed,
    });
    onProgress?.({ stage: 'flip-sufficiency', done: 1, total: 1 });
    return r;
  });
  const frontier = await timed('frontier', async () => {
    onProgress?.({ stage: 'frontier', done: 0, total: 1 });
    const r = await frontierDistance(probed, probedNames, pop, sums, layout, {
      topDims: o.frontierDims,
      samplesPerClass: o.frontierSamplesPerClass,
      maxSteps: o.maxSteps,
    });
    onProgress?.({ stage: 'frontier', done: 1, total: 1 });
    return r;
  });

  // The compared classifier is the reference reader of the contrastive ranking.
  const directions = await timed('directions', () =>
    directionsReport(
      probed,
      probedNames,
      pop,
      ranking.dims,
      cornerCases.classes.map((c) => ({ classIndex: c.classIndex, dims: c.cases.map((k) => k.dim) })),
      {
        dims: o.directionDims,
        samples: o.directionSamples,
        shifts: o.directionShifts,
        cornerCaseSamples: o.cornerCaseDirectionSamples,
        seed: o.seed,
        batchSize: o.batchSize,
      },
      (done, total) => onProgress?.({ stage: 'directions', done, total }),
    ),
  );

  const contrastive =
    compare && o.contrastiveSamples > 0
      ? await timed('contrastive', () =>
          contrastiveFailures(
            [models, compare],
            [models.classifier.name, compare.classifier.name],
            { ...spec, count: Math.min(o.contrastiveSamples, spec.count) },
            {
              dims: o.contrastiveDims,
              samples: o.directionSamples,
              shifts: o.directionShifts,
              seed: o.seed,
              batchSize: o.batchSize,
              sweepBatchSize: o.batchSize,
              counterfactualSamples: o.counterfactualSamples,
              onProgress: progress('contrastive'),
              // The labelling's share of the stage, for the cost of naming (docs/naming.md).
              onPhase: (phase, seconds) => (timings[`contrastive.${phase}`] = seconds),
            },
          ),
        )
      : null;

  const others = other && compare ? { [compare.classifier.name]: other.correct } : {};
  const curves = accuracyCurves(
    pop,
    models.classifier.name,
    { ranking: ranking.dims, topDims: o.curveDims, bins: o.curveBins, labels: pop.labels },
    others,
  );
  const classCurves =
    o.classIndex === null
      ? classes.map((c) =>
          accuracyCurves(
            pop,
            models.classifier.name,
            {
              ranking: rankDimensions(sums, layout, c).dims,
              topDims: o.curveDims,
              bins: o.curveBins,
              classIndex: c,
              labels: pop.labels,
            },
            others,
          ),
        )
      : [];

  // The compared classifier and the others, each once, on the same images (the analysed one's noise).
  const sideModels = [models, ...(compare ? [compare] : []), ...alongside].filter(
    (m, i, a) => a.findIndex((x) => x.classifierId === m.classifierId) === i,
  );
  const side = await timed('side-by-side', async () => {
    onProgress?.({ stage: 'side-by-side', done: 0, total: 1 });
    const r = await sideBySide(
      sideModels.map((m) => ({ ...m, noise: models.noise })),
      sideModels.map((m) => m.classifier.name),
      pop,
      ranking.dims,
      { ...DEFAULT_SIDE_BY_SIDE, dims: o.traversalDims, batchSize: Math.min(o.batchSize, 32) },
    );
    onProgress?.({ stage: 'side-by-side', done: 1, total: 1 });
    return r;
  });

  const embedding = await timed('embedding', async () => {
    const n = Math.min(o.embeddingSamples, pop.count);
    onProgress?.({ stage: 'embedding', done: 0, total: 1 });
    // The first n samples again, with their z and w (sample i does not depend on the count); the
    // edge's embeddings jobs compute with the same function (embeddings-result.ts).
    const e = await sweepHeadEmbedding(models, spec, n, { seed: o.seed, batchSize: 256 });
    onProgress?.({ stage: 'embedding', done: 1, total: 1 });
    return e;
  });

  const summaries: ClassifierSummary[] = [
    {
      name: models.classifier.name,
      id: models.classifierId,
      accuracy: populationAccuracy(pop),
      robustness: curves.curves[0].robustness,
    },
  ];
  if (compare && other)
    summaries.push({
      name: compare.classifier.name,
      id: compare.classifierId,
      accuracy: populationAccuracy({ correct: other.correct, count: pop.count }),
      robustness: curves.curves[1].robustness,
    });

  return {
    schema: REPORT_SCHEMA,
    specHash: contentHash({
      kind: 'report',
      generator: models.generatorId,
      classifier: models.classifierId,
      compare: compare?.classifierId ?? null,
      // Only when given, so that reports without them keep their hash.
      ...(alongside.length > 0 ? { alongside: alongside.map((m) => m.classifierId) } : {}),
      noise: analysisNoise(models),
      // counterfactualSamples only when not the default, so that reports from before it keep their hash.
      options: hashedOptions(o),
    }),
    options: o,
    generatorId: models.generatorId,
    noise: analysisNoise(models),
    classNames: [...models.generator.classes.names],
    backend: tf.getBackend(),
    ...(conv3x3KernelActive() && conv3x3Algorithm() === 'winograd' ? { conv: 'winograd' as const } : {}),
    classifiers: summaries,
    ranking,
    classRankings,
    histograms,
    traversals,
    cornerCases,
    joint,
    accuracyCurves: curves,
    classAccuracyCurves: classCurves,
    flipSufficiency: flip,
    frontier,
    directions,
    sideBySide: side,
    contrastive,
    embedding,
    timings,
  };
}
