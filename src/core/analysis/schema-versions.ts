/**
 * The schema version of every result the core computes, in one file that imports nothing: the result
 * modules re-export their own, and tools that only need the version strings (test stand-ins, checks
 * run outside a bundler) can read them without loading tfjs.
 */
/** accuracy-curve.ts */
export const ACCURACY_CURVE_SCHEMA = 'faultlines.accuracy-curve/2';
/** contrastive-ranking.ts */
export const CONTRASTIVE_RANKING_SCHEMA = 'faultlines.contrastive-ranking/1';
/** corner-cases.ts */
export const CORNER_CASES_SCHEMA = 'faultlines.corner-cases/2';
/** directions.ts */
export const DIRECTIONS_SCHEMA = 'faultlines.directions/1';
/** derived-results.ts: the edge's directions result */
export const DIRECTIONS_RESULT_SCHEMA = 'faultlines.directions-result/1';
/** embedding.ts */
export const EMBEDDING_SCHEMA = 'faultlines.embedding/1';
/** flip-sufficiency.ts */
export const FLIP_SUFFICIENCY_SCHEMA = 'faultlines.flip-sufficiency/1';
/** frontier.ts */
export const FRONTIER_SCHEMA = 'faultlines.frontier/1';
/** histograms.ts */
export const HISTOGRAMS_SCHEMA = 'faultlines.histograms/1';
/** joint.ts */
export const JOINT_SCHEMA = 'faultlines.joint-corner-case/2';
/** population.ts */
export const POPULATION_SCHEMA = 'faultlines.population/1';
/** ranking.ts */
export const RANKING_SUMS_SCHEMA = 'faultlines.ranking-sums/1';
/** ranking.ts */
export const RANKING_SCHEMA = 'faultlines.ranking/1';
/** report.ts */
export const REPORT_SCHEMA = 'faultlines.report/2';
/** traversal.ts */
export const TRAVERSAL_SCHEMA = 'faultlines.traversal/2';
/** projection.ts */
export const PROJECTION_SCHEMA = 'faultlines.projection/1';
/** explain.ts */
export const EXPLANATION_SCHEMA = 'faultlines.explanation/1';
