/**
 * Is the noise of generated digits one fixed texture? For a set of noisy digits, the fine-grain
 * residual of each (the image minus its 3x3 median filter: what is left is mostly the per-pixel
 * noise) and the Pearson correlation of the residuals of every pair of different digits. Real
 * corrupted digits have independent noise (about 0); images rendered with the generator's one stored
 * noise pattern correlate strongly. The baseline shifts the second residual by 1 px: the same
 * statistics with the alignment of a shared pattern broken (median residuals of independent noise
 * are slightly anti-correlated at lag 1, hence a small negative value).
 */
import * as tf from '../tf.js';
import { IMAGE_SIZE, type DigitSet } from '../data/digits.js';
import { noiseLevel } from '../data/measures.js';
import type { Generator } from '../generator/generator.js';
import {
  analysisNoise,
  analysisNoiseOf,
  sampleNoiseStreams,
  synthesizeImages,
  type AnalysisNoise,
} from '../analysis/analysis-models.js';
import { populationStyles } from '../analysis/population.js';
import { bestThreshold } from './generator-quality.js';

const NOISE_CORRELATION_SCHEMA = 'faultlines.noise-correlation/1';

/** The image minus its 3x3 median filter (edges replicated), [size * size]. */
function medianResidual(img: Float32Array, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const w = new Float32Array(9);
  const at = (y: number, x: number) =>
    img[Math.min(size - 1, Math.max(0, y)) * size + Math.min(size - 1, Math.max(0, x))];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) w[k++] = at(y + dy, x + dx);
      w.sort();
      out[y * size + x] = img[y * size + x] - w[4];
    }
  }
  return out;
}

interface ResidualCorrelation {
  /** Digits in the set. */
  count: number;
  /** Pairs of different digits (count * (count - 1) / 2). */
  pairs: number;
  /** Pearson r of the residuals of two different digits, over all pairs. */
  mean: number;
  median: number;
  max: number;
  /** The same with the second digit's residual shifted by 1 px (x + 1): no shared alignment. */
  shifted: { mean: number; max: number };
}

/**
 * Residual correlations of `count` images [count, size, size]. Both statistics are taken over the
 * same pixels: rows 1..size-2 and columns 1..size-3 of the first residual, against the same
 * pixels (aligned) or one column to the right (shifted) of the second.
 */
function residualCorrelation(images: Float32Array, count: number, size = IMAGE_SIZE): ResidualCorrelation {
  if (count < 2) throw new RangeError(`need at least 2 images, got ${count}`);
  const px = size * size;
  // Standardised residual over the region at column offset 0 (u) and 1 (v).
  const cells: number[] = [];
  for (let y = 1; y <= size - 2; y++) for (let x = 1; x <= size - 3; x++) cells.push(y * size + x);
  const m = cells.length;
  const standardise = (r: Float32Array, offset: number) => {
    const out = new Float64Array(m);
    let mean = 0;
    for (let k = 0; k < m; k++) mean += r[cells[k] + offset];
    mean /= m;
    let sq = 0;
    for (let k = 0; k < m; k++) {
      out[k] = r[cells[k] + offset] - mean;
      sq += out[k] * out[k];
    }
    const sd = Math.sqrt(sq / m);
    for (let k = 0; k < m; k++) out[k] = sd > 0 ? out[k] / sd : 0;
    return out;
  };
  const u: Float64Array[] = [];
  const v: Float64Array[] = [];
  for (let i = 0; i < count; i++) {
    const r = medianResidual(images.subarray(i * px, (i + 1) * px), size);
    u.push(standardise(r, 0));
    v.push(standardise(r, 1));
  }
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let k = 0; k < m; k++) s += a[k] * b[k];
    return s / m;
  };
  const rs: number[] = [];
  let shiftedSum = 0;
  let shiftedMax = -Infinity;
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      rs.push(dot(u[i], u[j]));
      const s = dot(u[i], v[j]);
      shiftedSum += s;
      shiftedMax = Math.max(shiftedMax, s);
    }
  }
  const sorted = Float64Array.from(rs).sort();
  const round = (x: number) => Number(x.toFixed(4));
  return {
    count,
    pairs: rs.length,
    mean: round(rs.reduce((a, b) => a + b, 0) / rs.length),
    median: round(sorted[Math.floor(sorted.length / 2)]),
    max: round(sorted[sorted.length - 1]),
    shifted: { mean: round(shiftedSum / rs.length), max: round(shiftedMax) },
  };
}

/** Noise-detector threshold on `noiseLevel`, fitted on real digits against their noise metadata. */
function noiseThreshold(real: DigitSet): number {
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const levels = Array.from({ length: real.count }, (_, i) =>
    noiseLevel(real.images.subarray(i * px, (i + 1) * px), IMAGE_SIZE),
  );
  return bestThreshold(
    levels,
    Array.from(real.noise, (s) => s > 0),
  );
}

/** The first `count` digits of `real` with noise (metadata severity > 0), [count, 32, 32]. */
function realNoisyDigits(real: DigitSet, count: number): Float32Array {
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const out = new Float32Array(count * px);
  let k = 0;
  for (let i = 0; i < real.count && k < count; i++)
    if (real.noise[i] > 0) out.set(real.images.subarray(i * px, (i + 1) * px), px * k++);
  if (k < count) throw new RangeError(`only ${k} noisy digits in the real set, ${count} asked for`);
  return out;
}

/**
 * The first `count` noisy digits (noiseLevel > threshold) of the population (seed, all classes)
 * rendered with `noise` exactly as the analyses render them (sample i with noise stream i).
 */
async function generatedNoisyDigits(
  generator: Generator,
  noise: AnalysisNoise,
  opts: { seed: number; count: number; threshold: number; maxScan?: number; batch?: number },
): Promise<{ images: Float32Array; scanned: number }> {
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const models = { generator, noise: analysisNoise({ noise }) };
  const maxScan = opts.maxScan ?? 50 * opts.count;
  const batch = opts.batch ?? 100;
  const out = new Float32Array(opts.count * px);
  let k = 0;
  let scanned = 0;
  for (let start = 0; k < opts.count && start < maxScan; start += batch) {
    const n = Math.min(batch, maxScan - start);
    const { s, w } = populationStyles(models, { seed: opts.seed, count: maxScan, classIndex: null }, start, n);
    const img = tf.tidy(() => synthesizeImages(models, s, sampleNoiseStreams(start, n)));
    const v = (await img.data()) as Float32Array;
    tf.dispose([s, w, img]);
    for (let i = 0; i < n && k < opts.count; i++) {
      scanned = start + i + 1;
      const one = v.subarray(i * px, (i + 1) * px);
      if (noiseLevel(one, IMAGE_SIZE) > opts.threshold) out.set(one, px * k++);
    }
  }
  if (k < opts.count)
    throw new RangeError(
      `only ${k} noisy digits in the first ${maxScan} samples (${noise.mode} noise), ${opts.count} asked for`,
    );
  return { images: out, scanned };
}

export interface NoiseCorrelationReport {
  schema: typeof NOISE_CORRELATION_SCHEMA;
  generatorId: string;
  /** Population seed of the generated digits (samples 0, 1, ... scanned in order). */
  seed: number;
  /** Noisy digits per set. */
  count: number;
  residual: string;
  /** The generator's learned noise strength per conv layer (the weight of its noise inputs). */
  noiseStrengths: Record<string, number>;
  /** The noise detector (noiseLevel > threshold), fitted on the real digits' metadata. */
  noiseThreshold: number;
  sets: Array<ResidualCorrelation & { name: string; noise?: AnalysisNoise; scanned?: number }>;
}

/**
 * Residual correlations of `count` noisy generated digits per noise mode and of `count` real noisy
 * digits (the first ones of `real` whose metadata says noised).
 * @example
 * const r = await measureNoiseCorrelation(generator, id, loadDigits('test', 'corrupted'), { seed: 1, count: 200 });
 */
export async function measureNoiseCorrelation(
  generator: Generator,
  generatorId: string,
  real: DigitSet,
  opts: { seed: number; count: number; modes?: AnalysisNoise[] },
): Promise<NoiseCorrelationReport> {
  const threshold = noiseThreshold(real);
  const modes = opts.modes ?? [analysisNoiseOf('const'), analysisNoiseOf('per-sample')];
  const sets: NoiseCorrelationReport['sets'] = [];
  for (const noise of modes) {
    const g = await generatedNoisyDigits(generator, noise, { seed: opts.seed, count: opts.count, threshold });
    sets.push({
      name: `generated, ${noise.mode} noise`,
      noise,
      scanned: g.scanned,
      ...residualCorrelation(g.images, opts.count),
    });
  }
  sets.push({
    name: 'real corrupted MNIST (test split, noised)',
    ...residualCorrelation(realNoisyDigits(real, opts.count), opts.count),
  });
  const noiseStrengths = Object.fromEntries(
    generator.params
      .names()
      .filter((n) => n.endsWith('/noise_strength'))
      .map((n) => [
        n.slice(0, -'/noise_strength'.length),
        Number((generator.params.get(n).dataSync() as Float32Array)[0].toPrecision(4)),
      ]),
  );
  return {
    schema: NOISE_CORRELATION_SCHEMA,
    generatorId,
    seed: opts.seed,
    count: opts.count,
    residual: 'image minus its 3x3 median filter',
    noiseStrengths,
    noiseThreshold: Number(threshold.toFixed(5)),
    sets,
  };
}
