/**
 * Explaining one real image (issue 20): project it into S (projection.ts), say whether the
 * projection is faithful, and then
 *
 * - the dims on which the projection deviates most from its class's well-classified centre, in the
 *   std units of the ranking (per-class std of s in the sweep), each named by what moving it that
 *   way does to the image (the direction labels of directions.ts, measured live on samples of the
 *   class);
 * - for a misclassified image, a counterfactual: the smallest move of the top-k deviating dims
 *   (k = 1..K) straight back toward the centre that makes the classifier read the true class,
 *   "smallest" in std units (L2), rendered as frames from the projection to the corrected style;
 * - for a correctly classified image, its distance to the nearest decision boundary along the class
 *   ranking's top dims: the corner-case search (corner-cases.ts) started from the projection.
 *
 * The centre is the mean style of the well-classified samples of the class in the population the
 * ranking sums were swept on (same seed and count, so the same styles, with each sample's own
 * noise). Everything renders with the models' noise and the class's reserved stream, as the
 * projection did, so the projection's rendering is frame 0 of every path.
 *
 * Pure core code (tfjs-core), deterministic for given inputs.
 */
import * as tf from '../tf.js';
import { styleDimName } from '../generator/style-layout.js';
import { imageDataUrl } from '../image/png.js';
import { latentBatch } from '../random.js';
import { classRanking, dimStart } from './dim-start.js';
import { cornerCaseAlong } from './corner-cases.js';
import { describeDirections, type DirectionSpec } from './directions.js';
import { evaluateStyles, readEvaluation, type AnalysisModels } from './analysis-models.js';
import { checkPopulationSpec, type PopulationSpec } from './population.js';
import { projectImages, type ProjectionModels, type ProjectionOptions } from './projection.js';
import type { RankingSums } from './ranking.js';
import { evaluatePath, type ShiftEvaluation, type StylePath } from './traversal.js';
import { EXPLANATION_SCHEMA } from './schema-versions.js';
// The defaults need no tfjs (the edge's explain route documents them): explain-defaults.ts.
import { DEFAULT_EXPLAIN } from './explain-defaults.js';
export { DEFAULT_EXPLAIN };

/** Where the ranking sums come from: the sweep's population (its seed and count) and its sums. */
export interface ExplainSweep {
  spec: PopulationSpec;
  sums: RankingSums;
}

export interface ExplainOptions {
  projection?: ProjectionOptions;
  /** Deviating dims reported, and the most a counterfactual moves. Default 10. */
  topDims?: number;
  /** Class-ranking dims searched for the nearest boundary (correct images). Default 10. */
  boundaryDims?: number;
  /** Bound of that search, std units. Default 20. */
  maxSteps?: number;
  /** Samples of the class moved along each deviating dim to name it (0: not named). Default 12. */
  nameSamples?: number;
  /** Counterfactual frames, from the projection to the corrected style. Default 5. */
  frames?: number;
}

interface Verdict {
  predicted: number;
  pTrue: number;
}

interface DeviatingDim {
  index: number;
  /** layer:channel. */
  name: string;
  /** (s_j - centre_j) / std_j. */
  deviation: number;
  value: number;
  centre: number;
  std: number;
  /** Rank in the class ranking (1 = most influential on p_true). */
  classRank: number;
  /** What moving the dim the way the projection deviates does to the image; null when not named. */
  label: string | null;
}

interface Frame extends Verdict {
  /** Fraction of the way from the projection back to the centre on the moved dims. */
  fraction: number;
  image: Float32Array;
}

interface Counterfactual {
  /** Whether some move of the top dims (or, failing that, of all dims) makes the classifier right. */
  found: boolean;
  /** Dims moved (flat indices); all of S when no top-k move sufficed. */
  dims: number[];
  allDims: boolean;
  /** Share of the way back to the centre at the first correct point (narrowed). */
  fraction: number | null;
  /** L2 norm of the move in std units. */
  distance: number | null;
  /** From the projection (fraction 0) to the corrected style. */
  frames: Frame[];
  /** What happened, in words. */
  reason: string;
}

interface BoundaryDim {
  index: number;
  name: string;
  classRank: number;
  /** Shift in std units (ranking direction) where the decision leaves the true class; null: not within maxSteps. */
  shift: number | null;
  /** Class it is read as there. */
  predicted: number | null;
  /** The image there (null: no flip). */
  image: Float32Array | null;
}

interface NearestBoundary {
  /** The smallest shift over the searched dims, null when none flips within maxSteps. */
  nearest: BoundaryDim | null;
  dims: BoundaryDim[];
  maxSteps: number;
}

export interface Explanation {
  schema: typeof EXPLANATION_SCHEMA;
  label: number;
  original: Verdict;
  reconstruction: Verdict & { image: Float32Array; style: Float32Array; psnr: number; featureDistance: number };
  /** The classifier's decision on the reconstruction is the same as on the original. */
  sameDecision: boolean;
  /** Why the explanation should not be trusted (empty when it can be). */
  warnings: string[];
  centre: { samples: number; wellClassified: number };
  deviations: DeviatingDim[];
  /** For a misclassified image (original verdict), else null. */
  counterfactual: Counterfactual | null;
  /** For a correctly classified image, else null. */
  boundary: NearestBoundary | null;
  seconds: { projection: number; explanation: number };
}

/**
 * The well-classified samples of class `c` in population `spec`: their styles and the mean.
 * Sample i is the population's sample i (latent stream (seed, i), noise stream i).
 */
async function wellClassifiedCentre(
  models: AnalysisModels,
  spec: PopulationSpec,
  c: number,
  batchSize = 64,
): Promise<{ centre: Float32Array; styles: Float32Array; samples: number; wellClassified: number }> {
  const g = models.generator;
  checkPopulationSpec(spec, g.arch.numClasses);
  const K = g.arch.numClasses;
  const idx: number[] = [];
  for (let i = 0; i < spec.count; i++) if ((spec.classIndex ?? i % K) === c) idx.push(i);
  if (idx.length === 0) throw new Error(`the sweep's population has no samples of class ${c}`);
  const S = g.styleSize;
  const kept: Float32Array[] = [];
  const centre = new Float64Array(S);
  for (let b = 0; b < idx.length; b += batchSize) {
    const rows = idx.slice(b, b + batchSize);
    const z = new Float32Array(rows.length * g.arch.zDim);
    rows.forEach((i, k) => z.set(latentBatch(spec.seed, i, 1, g.arch.zDim), k * g.arch.zDim));
    const s = tf.tidy(() =>
      g.styles(g.mapping(tf.tensor2d(z, [rows.length, g.arch.zDim]), new Array(rows.length).fill(c))),
    );
    const sv = (await s.data()) as Float32Array;
    s.dispose();
    const ev = await evaluateStyles(models, sv, new Array(rows.length).fill(c), Uint32Array.from(rows));
    for (let k = 0; k < rows.length; k++) {
      if (ev.predicted[k] !== c) continue;
      const row = sv.slice(k * S, (k + 1) * S);
      kept.push(row);
      for (let j = 0; j < S; j++) centre[j] += row[j];
    }
  }
  if (kept.length === 0) throw new Error(`no sample of class ${c} in the sweep's population is well classified`);
  const styles = new Float32Array(kept.length * S);
  kept.forEach((r, k) => styles.set(r, k * S));
  return {
    centre: Float32Array.from(centre, (v) => v / kept.length),
    styles,
    samples: idx.length,
    wellClassified: kept.length,
  };
}

const verdictOf = (e: Pick<ShiftEvaluation, 'predicted' | 'pTrue'>): Verdict => ({
  predicted: e.predicted,
  pTrue: e.pTrue,
});

/**
 * The smallest straight move of the top-k deviating dims back toward the centre that makes the
 * classifier read `label`: every k in 1..K is bracketed at fractions 0, 0.1, ..., 1 (one batch per
 * k), the first correct fraction narrowed by two 8-point rounds, and the move of least L2 (std
 * units) kept. Falls back to all dims when no top-k move suffices.
 */
async function counterfactual(
  models: AnalysisModels,
  s: Float32Array,
  label: number,
  centre: Float32Array,
  deviations: readonly DeviatingDim[],
  /** (s_j - centre_j) / std_j of any dim (0 for a dim without variance). */
  deviationOf: (j: number) => number,
  frames: number,
): Promise<Counterfactual> {
  const S = s.length;
  const pathOf = (dims: readonly number[]): StylePath => {
    const step = new Float32Array(S);
    for (const j of dims) step[j] = centre[j] - s[j];
    return { s0: s, classIndex: label, step };
  };
  const distanceOf = (dims: readonly number[], t: number) => {
    let sq = 0;
    for (const j of dims) sq += deviationOf(j) ** 2;
    return t * Math.sqrt(sq);
  };
  const firstCorrect = async (path: StylePath): Promise<number | null> => {
    const grid = Array.from({ length: 11 }, (_, i) => i / 10);
    const ev = await evaluatePath(models, path, grid);
    const j = ev.findIndex((e) => e.predicted === label);
    if (j < 0) return null;
    if (j === 0) return 0;
    let lo = grid[j - 1];
    let hi = grid[j];
    for (let round = 0; round < 2; round++) {
      const pts = Array.from({ length: 8 }, (_, i) => lo + ((hi - lo) * (i + 1)) / 9);
      const e = await evaluatePath(models, path, pts);
      const k = e.findIndex((x) => x.predicted === label);
      if (k < 0) lo = pts[7];
      else {
        hi = pts[k];
        if (k > 0) lo = pts[k - 1];
      }
    }
    return hi;
  };
  let best: { dims: number[]; t: number; distance: number } | null = null;
  for (let k = 1; k <= deviations.length; k++) {
    const dims = deviations.slice(0, k).map((d) => d.index);
    const t = await firstCorrect(pathOf(dims));
    if (t === null) continue;
    const distance = distanceOf(dims, t);
    if (best === null || distance < best.distance) best = { dims, t, distance };
  }
  let allDims = false;
  let reason: string;
  if (best === null) {
    const dims = [...Array(S).keys()];
    const t = await firstCorrect(pathOf(dims));
    allDims = true;
    if (t === null)
      return {
        found: false,
        dims: [],
        allDims,
        fraction: null,
        distance: null,
        frames: [],
        reason: `no move of the top ${deviations.length} dims, nor of all dims, back to the class centre makes the classifier read ${label}`,
      };
    best = { dims, t, distance: distanceOf(dims, t) };
    reason =
      `no move of the top ${deviations.length} dims suffices; moving all of S ` +
      `${(t * 100).toFixed(1)}% of the way back to the class centre (${best.distance.toFixed(2)} std) does`;
  } else if (best.t === 0)
    reason = `the projection itself is already read as ${label}: nothing to move (see the warnings)`;
  else
    reason =
      `moving ${best.dims.length} dim(s) ${(best.t * 100).toFixed(1)}% of the way back ` +
      `to the class centre (${best.distance.toFixed(2)} std) makes the classifier read ${label}`;
  const fractions = Array.from({ length: frames }, (_, i) => (best!.t * i) / Math.max(1, frames - 1));
  const ev = await evaluatePath(models, pathOf(best.dims), fractions, true);
  return {
    found: true,
    dims: best.dims,
    allDims,
    fraction: best.t,
    distance: best.distance,
    frames: ev.map((e, i) => ({ fraction: fractions[i], ...verdictOf(e), image: e.image! })),
    reason,
  };
}

/**
 * Projects `image` ([R*R*C] in [0, 1]) of class `label` and explains the classifier's decision on it.
 * @example
 * const e = await explainImage(models, { featureExtractor }, sweep, pixels, 7);
 * if (!e.sameDecision) console.warn(e.warnings.join('\n'));
 * else if (e.counterfactual?.found) console.log(e.counterfactual.reason);
 */
export async function explainImage(
  models: AnalysisModels,
  extra: Pick<ProjectionModels, 'featureExtractor'>,
  sweep: ExplainSweep,
  image: Float32Array,
  label: number,
  opts: ExplainOptions = {},
): Promise<Explanation> {
  const o = { ...DEFAULT_EXPLAIN, ...opts };
  const g = models.generator;
  const { sums, spec } = sweep;
  if (sums.styleSize !== g.styleSize || sums.numClasses !== g.arch.numClasses)
    throw new Error('the ranking sums are not of this generator (style size or classes differ)');
  for (const k of ['topDims', 'boundaryDims', 'frames'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 1 || o[k] > 64) throw new RangeError(`${k} must be an integer in [1, 64]`);
  if (!Number.isInteger(o.nameSamples) || o.nameSamples < 0 || o.nameSamples > 200)
    throw new RangeError('nameSamples must be an integer in [0, 200]');
  const R = g.resolution;
  const t0 = Date.now();
  const projected = await projectImages({ ...models, ...extra }, image, [label], o.projection);
  const p = projected.images[0];
  const t1 = Date.now();

  const probs = tf.tidy(() =>
    tf.softmax(models.classifier.logits(tf.tensor4d(image, [1, R, R, g.arch.imageChannels]))),
  );
  const orig = await readEvaluation(probs as tf.Tensor2D, [label]);
  probs.dispose();
  const rec = await evaluateStyles(models, p.style, [label]);
  const original = { predicted: orig.predicted[0], pTrue: orig.pTrue[0] };
  const reconstruction = {
    predicted: rec.predicted[0],
    pTrue: rec.pTrue[0],
    image: p.image,
    style: p.style,
    psnr: p.psnr,
    featureDistance: p.featureDistance,
  };
  const sameDecision = original.predicted === reconstruction.predicted;
  const warnings: string[] = [];
  if (!sameDecision)
    warnings.push(
      `the classifier reads the reconstruction as ${reconstruction.predicted} but ` +
        `the image as ${original.predicted}: the explanation is of a different decision`,
    );

  const { centre, styles, samples, wellClassified } = await wellClassifiedCentre(models, spec, label);
  const { byIndex } = classRanking(sums, g.layout, label);
  const std = (j: number) => byIndex.get(j)!.std;
  const deviationOf = (j: number) => (std(j) > 0 ? (p.style[j] - centre[j]) / std(j) : 0);
  const order = [...Array(g.styleSize).keys()]
    .filter((j) => std(j) > 0)
    .map((j) => ({ j, dev: deviationOf(j) }))
    .sort((a, b) => Math.abs(b.dev) - Math.abs(a.dev) || a.j - b.j)
    .slice(0, o.topDims);
  const deviations: DeviatingDim[] = order.map(({ j, dev }) => ({
    index: j,
    name: styleDimName(g.layout, j),
    deviation: dev,
    value: p.style[j],
    centre: centre[j],
    std: std(j),
    classRank: byIndex.get(j)!.rank,
    label: null,
  }));
  if (o.nameSamples > 0) {
    const n = Math.min(o.nameSamples, wellClassified);
    if (n >= 2) {
      const S = g.styleSize;
      const dirs: DirectionSpec[] = deviations.map((d) => {
        const step = new Float32Array(S);
        step[d.index] = d.std * Math.sign(d.deviation);
        return { id: `dim:${d.index}`, classIndex: label, dims: [d.index], step };
      });
      const named = await describeDirections(
        [models],
        [models.classifierId],
        { count: n, styleSize: S, labels: new Array(n).fill(label), styles: styles.subarray(0, n * S) },
        dirs,
      );
      named.directions.forEach((d, i) => (deviations[i].label = d.label.text));
    }
  }

  let cf: Counterfactual | null = null;
  let boundary: NearestBoundary | null = null;
  if (original.predicted !== label) {
    cf = await counterfactual(models, p.style, label, centre, deviations, deviationOf, o.frames);
    if (reconstruction.predicted === label)
      warnings.push('the reconstruction is already classified correctly: the counterfactual is empty');
  } else {
    const top = classRanking(sums, g.layout, label).ranking.dims.slice(0, o.boundaryDims);
    const dims: BoundaryDim[] = [];
    for (const d of top) {
      const r = await cornerCaseAlong(models, dimStart(sums, g.layout, label, d.index, { s0: p.style }), {
        maxSteps: o.maxSteps,
      });
      dims.push({
        index: d.index,
        name: styleDimName(g.layout, d.index),
        classRank: d.rank,
        shift: r.cornerCase ? r.cornerCase.decision.shift : null,
        predicted: r.cornerCase ? r.cornerCase.decision.predicted : null,
        image: r.cornerCase ? r.cornerCase.decision.image : null,
      });
    }
    const flips = dims.filter((d) => d.shift !== null);
    const nearest = flips.length ? flips.reduce((a, b) => (b.shift! < a.shift! ? b : a)) : null;
    boundary = { nearest, dims, maxSteps: o.maxSteps };
    if (reconstruction.predicted !== label)
      warnings.push('the reconstruction is misclassified: the boundary distances start past the boundary');
  }
  return {
    schema: EXPLANATION_SCHEMA,
    label,
    original,
    reconstruction,
    sameDecision,
    warnings,
    centre: { samples, wellClassified },
    deviations,
    counterfactual: cf,
    boundary,
    seconds: { projection: (t1 - t0) / 1000, explanation: (Date.now() - t1) / 1000 },
  };
}

/**
 * The explanation as JSON (report.json, the API's answer): images as PNG data URLs, the style as a
 * plain array, numbers as computed.
 */
export function explanationJson(e: Explanation, size: number) {
  return {
    ...e,
    reconstruction: {
      ...e.reconstruction,
      image: imageDataUrl(e.reconstruction.image, size),
      style: Array.from(e.reconstruction.style),
    },
    counterfactual:
      e.counterfactual === null
        ? null
        : {
            ...e.counterfactual,
            frames: e.counterfactual.frames.map((f) => ({ ...f, image: imageDataUrl(f.image, size) })),
          },
    boundary:
      e.boundary === null
        ? null
        : {
            ...e.boundary,
            nearest: e.boundary.nearest && {
              ...e.boundary.nearest,
              image: e.boundary.nearest.image && imageDataUrl(e.boundary.nearest.image, size),
            },
            dims: e.boundary.dims.map((d) => ({ ...d, image: d.image && imageDataUrl(d.image, size) })),
          },
  };
}
export type ExplanationJson = ReturnType<typeof explanationJson>;
