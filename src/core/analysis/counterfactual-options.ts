/**
 * The counterfactual attribution's defaults without its code (no tfjs): the analysis options, the
 * edge's directions options and the CLI share them.
 */

/** Frames edited by default (the population's first): the planted-failure table was measured on 256. */
export const DEFAULT_COUNTERFACTUAL_SAMPLES = 256;

/**
 * How many frames a directions result's counterfactual is measured on: the sweep's first
 * `counterfactualSamples` (default above), 0 when there is no reference reader or fewer than 2
 * frames. What a runner computes and what the edge checks its payload against.
 */
export function counterfactualFrames(
  sweepCount: number,
  counterfactualSamples: number | undefined,
  readers: number,
): number {
  const n = Math.min(sweepCount, counterfactualSamples ?? DEFAULT_COUNTERFACTUAL_SAMPLES);
  return readers > 1 && n >= 2 ? n : 0;
}
