/**
 * The analysed classifier next to other classifiers (every built-in one, another user model) on
 * the analysed classifier's top dims: per dim and classifier, the ranking score measured on the same
 * samples, and p_true before and after moving the dim t std in the direction that hurts the analysed
 * classifier. It shows at a glance where one classifier is more fragile than the reference.
 */
import * as tf from '../tf.js';
import { pTrueGradient, synthesizeImages, type AnalysisModels } from './analysis-models.js';
import { sampleNoiseStreams } from './noise.js';
import type { Population } from './population.js';
import type { RankedDim } from './ranking.js';

const SIDE_BY_SIDE_SCHEMA = 'faultlines.side-by-side/1';

export interface SideBySideOptions {
  /** Top dims of the ranking compared. */
  dims: number;
  /** Shift of each dim, in std units of its population distribution. */
  t: number;
  /** First samples of the population used (each with its own noise, as in the sweep). */
  samples: number;
  batchSize: number;
}

export const DEFAULT_SIDE_BY_SIDE: SideBySideOptions = { dims: 10, t: 2, samples: 256, batchSize: 32 };

interface SideBySideCell {
  classifier: string;
  /**
   * -mean(d p_true / d s_j) * std(s_j) over the samples: the ranking's score, for this classifier
   * (null: no gradient through this classifier).
   */
  score: number | null;
  /** Mean p_true of the samples, unmoved and with the dim moved t std. */
  pTrue: number;
  pTrueAfter: number;
  /** Share of the samples read as their class, unmoved and moved. */
  accuracy: number;
  accuracyAfter: number;
}

export interface SideBySideResult {
  schema: typeof SIDE_BY_SIDE_SCHEMA;
  /** Whose ranking gave the dims (the analysed classifier's). */
  rankedBy: string;
  classifiers: string[];
  t: number;
  samples: number;
  /** The ranked dim as the ranking gave it (its std is the step), with one cell per classifier in `classifiers` order. */
  dims: Array<
    Pick<RankedDim, 'rank' | 'index' | 'layer' | 'channel' | 'direction' | 'std'> & { cells: SideBySideCell[] }
  >;
}

/** p_true of every classifier on the images of styles s (rendered once, with the samples' noise). */
function pTrues(all: readonly AnalysisModels[], s: tf.Tensor2D, labels: number[], streams: Uint32Array) {
  return tf.tidy(() => {
    const images = synthesizeImages(all[0], s, streams);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), all[0].classifier.numClasses);
    return all.map((m) => {
      const p = tf.softmax(m.classifier.logits(images));
      return { pTrue: tf.sum(tf.mul(p, onehot), 1), predicted: tf.argMax(p, 1) };
    });
  });
}

/**
 * @param all the analysed classifier first (its ranking gave `ranked`), then the others; one
 * generator and one noise for all
 * @example
 * const r = await sideBySide([user, clean, corrupted], ['mine', 'clean', 'corrupted'], pop, report.ranking.dims);
 */
export async function sideBySide(
  all: readonly AnalysisModels[],
  names: readonly string[],
  pop: Population,
  ranked: readonly RankedDim[],
  options: Partial<SideBySideOptions> = {},
): Promise<SideBySideResult> {
  const o = { ...DEFAULT_SIDE_BY_SIDE, ...options };
  const dims = ranked.slice(0, o.dims);
  const n = Math.min(o.samples, pop.count);
  const S = pop.styleSize;
  const C = all.length;
  const D = dims.length;
  // Sums over samples, per classifier (and dim).
  const grad = all.map(() => new Float64Array(S));
  // A user model with an op that has no gradient (tfjs-model.ts records it) gets no score.
  const hasGrad = all.map(
    (m) => (m.classifier as { check?: { differentiable: boolean } }).check?.differentiable !== false,
  );
  const p0 = new Float64Array(C);
  const a0 = new Float64Array(C);
  const p1 = new Float64Array(C * D);
  const a1 = new Float64Array(C * D);
  for (let start = 0; start < n; start += o.batchSize) {
    const b = Math.min(o.batchSize, n - start);
    const labels = Array.from(pop.labels.subarray(start, start + b));
    const streams = sampleNoiseStreams(start, b);
    const styles = pop.styles.subarray(start * S, (start + b) * S);
    for (let c = 0; c < C; c++) {
      if (!hasGrad[c]) continue;
      const g = tf.tidy(() => {
        const r = pTrueGradient(all[c], tf.tensor2d(styles, [b, S]), labels, streams);
        r.probs.dispose();
        return tf.sum(r.grad, 0);
      });
      const v = await g.data();
      g.dispose();
      for (let j = 0; j < S; j++) grad[c][j] += v[j];
    }
    const read = async (
      out: { pTrue: tf.Tensor; predicted: tf.Tensor }[],
      pSum: Float64Array,
      aSum: Float64Array,
      at: (c: number) => number,
    ) => {
      for (let c = 0; c < C; c++) {
        const [pt, pr] = await Promise.all([out[c].pTrue.data(), out[c].predicted.data()]);
        for (let k = 0; k < b; k++) {
          pSum[at(c)] += pt[k];
          if (pr[k] === labels[k]) aSum[at(c)]++;
        }
      }
      for (const x of out) tf.dispose([x.pTrue, x.predicted]);
    };
    const base = tf.tensor2d(styles, [b, S]);
    await read(pTrues(all, base, labels, streams), p0, a0, (c) => c);
    for (let d = 0; d < D; d++) {
      const dim = dims[d];
      const moved = Float32Array.from(styles);
      const shift = o.t * dim.std * (dim.direction === 'increase' ? 1 : -1);
      for (let k = 0; k < b; k++) moved[k * S + dim.index] += shift;
      const s = tf.tensor2d(moved, [b, S]);
      await read(pTrues(all, s, labels, streams), p1, a1, (c) => c * D + d);
      s.dispose();
    }
    base.dispose();
  }
  return {
    schema: SIDE_BY_SIDE_SCHEMA,
    rankedBy: names[0],
    classifiers: [...names],
    t: o.t,
    samples: n,
    dims: dims.map((dim, d) => ({
      rank: dim.rank,
      index: dim.index,
      layer: dim.layer,
      channel: dim.channel,
      direction: dim.direction,
      std: dim.std,
      cells: names.map((classifier, c) => ({
        classifier,
        score: hasGrad[c] ? (-grad[c][dim.index] / n) * dim.std : null,
        pTrue: p0[c] / n,
        pTrueAfter: p1[c * D + d] / n,
        accuracy: a0[c] / n,
        accuracyAfter: a1[c * D + d] / n,
      })),
    })),
  };
}
