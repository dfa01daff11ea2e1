/**
 * Fitting a paint layer's colour pairs (paint.ts) to images that are a shape painted in two
 * colours: estimate each image's (foreground, background) pair, group the estimates into the pairs
 * the data uses, and take each pair's share of the images as its probability (the maximum-likelihood
 * categorical distribution). Pure TypeScript on Float32Arrays, images channels-last in [0, 1].
 */
import type { ColourPair } from '../image/colour-pair.js';

export interface ColourPairFit {
  /** [K * 6]: component k's foreground rgb then background rgb (per-coordinate medians of its images). */
  colours: Float32Array;
  /** Share of the images in each component, summing to 1. */
  weights: number[];
  /** Images in each component. */
  counts: number[];
  /** Largest distance of an image's estimate from its component's colours (how tight the pairs are). */
  maxDistance: number;
  /** Share of the images whose estimate is within 0.05 of its component's colours. */
  exactShare: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function distance(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  let d = 0;
  for (let j = 0; j < 6; j++) d += (a[ao + j] - b[bo + j]) ** 2;
  return Math.sqrt(d);
}

/**
 * Groups the estimates into components: leader clustering at `radius` (an estimate joins the first
 * component whose first member is that close, else starts one), each component's colours the
 * per-coordinate median of its members, then every estimate reassigned to its nearest component,
 * and components holding less than `minShare` of the images merged into their nearest neighbour
 * (images whose ink never reaches full strength give stray estimates between the true pairs).
 * Components are ordered by colours (lexicographically), so the fit does not depend on image order
 * beyond the medians.
 */
export function fitColourPairs(pairs: readonly ColourPair[], radius = 0.2, minShare = 0.002): ColourPairFit {
  const n = pairs.length;
  if (n === 0) throw new RangeError('no images to fit colour pairs on');
  // Pass 1: leaders.
  const leaders: number[] = [];
  const member = new Int32Array(n);
  pairs.forEach((p, i) => {
    let k = leaders.findIndex((l) => distance(pairs[l], 0, p, 0) < radius);
    if (k < 0) {
      k = leaders.length;
      leaders.push(i);
    }
    member[i] = k;
  });
  let centres = mediansOf(pairs, member, leaders.length);
  // Pass 2: nearest centre, then drop components below minShare (their images go to the nearest kept one).
  for (let round = 0; round < 2; round++) {
    assignNearest(pairs, centres, member);
    const counts = countsOf(member, centres.length / 6);
    const kept = counts.map((c, k) => (c >= minShare * n ? k : -1)).filter((k) => k >= 0);
    centres = Float32Array.from(kept.flatMap((k) => Array.from(centres.subarray(k * 6, k * 6 + 6))));
    assignNearest(pairs, centres, member);
    centres = mediansOf(pairs, member, kept.length);
  }
  // Order components by their colours.
  const k = centres.length / 6;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => {
    for (let j = 0; j < 6; j++)
      if (centres[a * 6 + j] !== centres[b * 6 + j]) return centres[a * 6 + j] - centres[b * 6 + j];
    return 0;
  });
  const colours = Float32Array.from(order.flatMap((i) => Array.from(centres.subarray(i * 6, i * 6 + 6))));
  assignNearest(pairs, colours, member);
  const counts = countsOf(member, k);
  let maxDistance = 0;
  let exact = 0;
  pairs.forEach((p, i) => {
    const d = distance(colours, member[i] * 6, p, 0);
    maxDistance = Math.max(maxDistance, d);
    if (d < 0.05) exact++;
  });
  return { colours, weights: counts.map((c) => c / n), counts, maxDistance, exactShare: exact / n };
}

function assignNearest(pairs: readonly ColourPair[], centres: Float32Array, member: Int32Array): void {
  const k = centres.length / 6;
  pairs.forEach((p, i) => {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      const d = distance(centres, c * 6, p, 0);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    member[i] = best;
  });
}

function countsOf(member: Int32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const m of member) counts[m]++;
  return counts;
}

function mediansOf(pairs: readonly ColourPair[], member: Int32Array, k: number): Float32Array {
  const groups: number[][][] = Array.from({ length: k }, () => Array.from({ length: 6 }, () => []));
  pairs.forEach((p, i) => {
    for (let j = 0; j < 6; j++) groups[member[i]][j].push(p[j]);
  });
  return Float32Array.from(groups.flatMap((g) => g.map((v) => (v.length > 0 ? median(v) : NaN))));
}

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative
 * error below 1.2e-9, far below the float32 the edges are stored in).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs p in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** The paint layer's `z_edges` for component weights: Φ⁻¹ of the cumulative weights of all but the last. */
export function zEdges(weights: readonly number[]): Float32Array {
  const edges = new Float32Array(weights.length - 1);
  let cum = 0;
  for (let k = 0; k < weights.length - 1; k++) {
    cum += weights[k];
    edges[k] = normalQuantile(cum);
  }
  return edges;
}
