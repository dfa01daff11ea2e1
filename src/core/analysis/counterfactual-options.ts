/**
 * The counterfactual attribution's defaults without its code (no tfjs): the analysis options, the
 * edge's directions options and the CLI share them.
 */

/** Frames edited by default (the population's first): the planted-failure table was measured on 256. */
export const DEFAULT_COUNTERFACTUAL_SAMPLES = 256;
