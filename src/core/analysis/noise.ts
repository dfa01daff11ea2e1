/**
 * Per-pixel noise of the analysed images: the modes, the default and the noise streams of samples
 * and of styles that are no sample. Pure (no tfjs), so result keys can name it anywhere
 * (src/protocol/result-keys.ts); rendering with it is `synthesizeImages` in analysis-models.ts.
 */

/**
 * Per-pixel noise of the analysed images (the generator's noise inputs).
 *
 * - 'per-sample' (the default): each image's noise is drawn on the host from stream
 *   (seed, stream index) of the project's seeded PRNG (src/core/random.ts, never tf.random), so it
 *   is identical on every backend and independent of batching, and it is carried with the sample:
 *   sample i of a population renders with stream i wherever it is rendered (sweep, population,
 *   another classifier's pass, a traversal that starts from it). Styles that are not a sample (a
 *   class-average style) use the reserved stream of their class (`classNoiseStream`).
 * - 'const': the generator's stored constant noise: every image gets the same fixed pattern, so a
 *   "noise" direction in S can only amplify that one pattern.
 *
 * docs/analysis/noise-modes.md measures both: when the noise inputs carry weight, per-sample noise
 * is as independent between digits as real noise and const noise is one pattern. The built-in
 * generator, though, learned almost no weight for its noise inputs (strengths ~1e-3): both modes
 * render nearly the same images, and the noise-like texture of its noisy digits is synthesised from
 * s, one texture shared by every image whatever the mode.
 */
export type AnalysisNoise = { mode: 'const' } | { mode: 'per-sample'; seed: number };
export type AnalysisNoiseMode = AnalysisNoise['mode'];
export const ANALYSIS_NOISE_MODES: readonly AnalysisNoiseMode[] = ['const', 'per-sample'];

/**
 * Noise seed of the default: 'nois' in ASCII, far from the population seeds in use (1, 0x5eed), so a
 * sample's noise stream (noise seed, i) is not its latent stream (population seed, i).
 */
export const DEFAULT_NOISE_SEED = 0x6e6f6973;

/**
 * The noise of every analysis unless one is chosen. Per-sample (docs/analysis/noise-modes.md): never
 * more correlated between digits than const, as independent as real noise for a generator that uses
 * its noise inputs, and the noise every generator here is trained with.
 */
export const DEFAULT_ANALYSIS_NOISE: AnalysisNoise = { mode: 'per-sample', seed: DEFAULT_NOISE_SEED };

/** Streams at or above this are reserved (never a sample index): populations are smaller. */
export const NOISE_STREAM_LIMIT = 0xffff_0000;

/**
 * The stated stream of styles that are not a sample of a population (a class-average style, a
 * style given by hand) and whose rows name no stream: the reserved stream of their class.
 */
export function classNoiseStream(classIndex: number): number {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= 0xff00)
    throw new RangeError(`class index must be an integer in [0, 65280), got ${classIndex}`);
  return NOISE_STREAM_LIMIT + classIndex;
}

/** The stream of rows of unknown class that name none (`probabilities`, `synthesizeImages`): reserved, one for all. */
export const SHARED_NOISE_STREAM = 0xffff_ffff;

/** Streams of samples [start, start + n) of a population: their global indices. */
export function sampleNoiseStreams(start: number, n: number): Uint32Array {
  if (!Number.isSafeInteger(start) || start < 0 || start + n > NOISE_STREAM_LIMIT)
    throw new RangeError(
      `samples [${start}, ${start + n}) are not below the reserved noise streams (${NOISE_STREAM_LIMIT})`,
    );
  return Uint32Array.from({ length: n }, (_, k) => start + k);
}

/** The reserved class stream of every row (rows that are not samples). */
export function classNoiseStreams(labels: ArrayLike<number>): Uint32Array {
  return Uint32Array.from(labels, (c) => classNoiseStream(c));
}

function checkAnalysisNoise(noise: AnalysisNoise): AnalysisNoise {
  if (noise.mode === 'const') return noise;
  if (noise.mode !== 'per-sample')
    throw new RangeError(
      `noise mode must be one of ${ANALYSIS_NOISE_MODES.join(', ')}, got "${(noise as { mode: unknown }).mode}"`,
    );
  if (!Number.isSafeInteger(noise.seed) || noise.seed < 0 || noise.seed > 0xffffffff)
    throw new RangeError(`noise seed must be an integer in [0, 2^32), got ${noise.seed}`);
  return noise;
}

/** The noise of a mode name (per-sample: with `seed`, default DEFAULT_NOISE_SEED). */
export function analysisNoiseOf(mode: AnalysisNoiseMode, seed = DEFAULT_NOISE_SEED): AnalysisNoise {
  return checkAnalysisNoise(mode === 'const' ? { mode } : ({ mode, seed } as AnalysisNoise));
}

/** The models' noise, the default when they name none. */
export function analysisNoise(models: { noise?: AnalysisNoise }): AnalysisNoise {
  return checkAnalysisNoise(models.noise ?? DEFAULT_ANALYSIS_NOISE);
}
