/**
 * The defaults of an explanation (explain.ts) and of the projection it starts with (projection.ts),
 * without either computation: no tfjs here (the edge's explain route documents them).
 */
import type { ProjectionOptions } from './projection.js';

export const DEFAULT_EXPLAIN = { topDims: 10, boundaryDims: 10, maxSteps: 20, nameSamples: 12, frames: 5 };

export const DEFAULT_PROJECTION: Required<Omit<ProjectionOptions, 'onStep'>> = {
  steps: 100,
  wShare: 0.5,
  learningRateW: 0.1,
  learningRateS: 0.05,
  featureWeight: 0.05,
  priorWeight: 0.01,
  seed: 1,
  initSamples: 64,
};
