/**
 * Frontier distance (in the spirit of DeepJanus' frontier of behaviours): how far a typical,
 * correctly classified sample of a class is from a decision flip. For each probed sample, the
 * smallest shift along any of its class's top-k dims (each in the direction that lowers p_true,
 * in the class's std units, from the sample's own style and noise) at which the arg-max leaves
 * the true class; per class, the median over samples. Samples that do not flip within the bound
 * count as farther than the bound (censored), so a median above it is reported as null with the
 * share of censored samples.
 *
 * Several classifiers are measured on the same samples along the same dims (the reference's
 * ranking), each on the samples it classifies correctly: smaller frontier = more fragile.
 */
import type { StyleLayout } from '../generator/style-layout.js';
import { classRanking } from './dim-start.js';
import { evaluateStyles, type AnalysisModels } from './analysis-models.js';
import type { ProbePopulation } from './flip-sufficiency.js';
import type { RankingSums } from './ranking.js';
import { bracketPath, narrowCrossing, type StylePath } from './traversal.js';
import { FRONTIER_SCHEMA } from './schema-versions.js';

export interface FrontierOptions {
  /** Top dims of the class tried per sample. Default 3. */
  topDims?: number;
  /** Samples probed per class (the first ones of the class in the population). Default 20. */
  samplesPerClass?: number;
  /** Bound on the shift, std units. Default 20. */
  maxSteps?: number;
  /** Decision-margin tolerance when narrowing. Default 0.05 (the median needs no finer). */
  tolerance?: number;
}

interface ClassFrontier {
  classIndex: number;
  /** Correctly classified samples probed. */
  samples: number;
  /** Median smallest decision-flipping shift (std units); null when at least half do not flip within maxSteps. */
  median: number | null;
  /** Quartiles (null when beyond the bound). */
  q1: number | null;
  q3: number | null;
  /** Share of probed samples with no flip within maxSteps. */
  censored: number;
}

interface ClassifierFrontier {
  classifier: string;
  classes: ClassFrontier[];
  /** Median over all probed samples of all classes. */
  median: number | null;
}

export interface FrontierResult {
  schema: typeof FRONTIER_SCHEMA;
  topDims: number;
  maxSteps: number;
  /** Dims tried per class (the reference classifier's ranking). */
  dims: number[][];
  classifiers: ClassifierFrontier[];
}

/** Quantile of sorted values where Infinity stands for "beyond the bound" (null there). */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const v = sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
  return Number.isFinite(v) ? v : null;
}

/**
 * @param classifiers the models of every classifier measured (same generator); `sums` are the first one's sweep
 * @example
 * const f = await frontierDistance([models, other], ['classifier-clean', 'classifier-corrupted'], pop, sums, generator.layout);
 */
export async function frontierDistance(
  classifiers: readonly AnalysisModels[],
  names: readonly string[],
  pop: ProbePopulation,
  sums: RankingSums,
  layout: StyleLayout,
  opts: FrontierOptions = {},
): Promise<FrontierResult> {
  const topDims = opts.topDims ?? 3;
  const perClass = opts.samplesPerClass ?? 20;
  const maxSteps = opts.maxSteps ?? 20;
  const tolerance = opts.tolerance ?? 0.05;
  if (!Number.isInteger(topDims) || topDims < 1)
    throw new RangeError(`frontier: topDims must be a positive integer, got ${topDims}`);
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    throw new RangeError(`frontier: maxSteps must be a positive integer, got ${maxSteps}`);
  if (classifiers.length === 0 || classifiers.length !== names.length)
    throw new Error('frontier needs one name per classifier, and at least one');
  const S = pop.styleSize;
  const K = sums.numClasses;
  // Dims of the classes the sums cover (a one-class population has one class's sums).
  const dims = Array.from({ length: K }, (_, c) =>
    sums.count[c] < 2 ? [] : classRanking(sums, layout, c).ranking.dims.slice(0, topDims),
  );
  // The first samples of each class (the same ones for every classifier).
  const members: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < pop.count; i++)
    if (dims[pop.labels[i]].length > 0 && members[pop.labels[i]].length < perClass) members[pop.labels[i]].push(i);

  const out: ClassifierFrontier[] = [];
  for (let m = 0; m < classifiers.length; m++) {
    const models = classifiers[m];
    const all: number[] = [];
    const classes: ClassFrontier[] = [];
    for (let c = 0; c < K; c++) {
      const idx = members[c];
      const shifts: number[] = [];
      if (idx.length > 0) {
        const styles = new Float32Array(idx.length * S);
        idx.forEach((i, r) => styles.set(pop.styles.subarray(i * S, (i + 1) * S), r * S));
        const base = await evaluateStyles(
          models,
          styles,
          idx.map(() => c),
          idx,
        );
        for (let r = 0; r < idx.length; r++) {
          if (base.predicted[r] !== c) continue;
          let best = Infinity;
          for (const d of dims[c]) {
            if (!(d.std > 0)) continue;
            const step = new Float32Array(S);
            step[d.index] = d.std * (d.direction === 'increase' ? 1 : -1);
            const path: StylePath = { s0: styles.slice(r * S, (r + 1) * S), classIndex: c, step, noiseStream: idx[r] };
            // Only shifts shorter than the best so far can lower the minimum.
            const bound = Math.min(maxSteps, Math.ceil(best));
            const steps = await bracketPath(models, path, { maxShift: bound, stepSize: 1 });
            const x = await narrowCrossing(models, path, steps, 'decision', {
              maxShift: bound,
              stepSize: 1,
              tolerance,
              pointsPerRound: 8,
            });
            if (x.reference && x.reference.shift < best) best = x.reference.shift;
          }
          shifts.push(best);
        }
      }
      shifts.sort((a, b) => a - b);
      all.push(...shifts);
      const censored = shifts.length ? shifts.filter((v) => !Number.isFinite(v)).length / shifts.length : NaN;
      classes.push({
        classIndex: c,
        samples: shifts.length,
        median: quantile(shifts, 0.5),
        q1: quantile(shifts, 0.25),
        q3: quantile(shifts, 0.75),
        censored,
      });
    }
    all.sort((a, b) => a - b);
    out.push({ classifier: names[m], classes, median: quantile(all, 0.5) });
  }
  return {
    schema: FRONTIER_SCHEMA,
    topDims,
    maxSteps,
    dims: dims.map((ds) => ds.map((d) => d.index)),
    classifiers: out,
  };
}
