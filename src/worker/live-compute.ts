/**
 * The live-compute chunk: everything a live call needs that a cached answer does not (tfjs-core,
 * its wasm backend and kernels, the models, the analyses, the PNG encoder). The worker bundle
 * splits here (esbuild `splitting`): routes reach it only through `liveCompute()`
 * (isolate-models.ts), so an isolate parses and compiles it on its first live call, not at start-up.
 */
export { getClassifier, getFeatureExtractor, getGenerator, getModels, modelInfos } from './live-models.js';
export { backendName, conv3x3Registered, ensureBackend, fusedEpilogueActive, liveTensors } from './wasm/backend.js';
export {
  classification,
  classifyImages,
  evaluateSweepSample,
  imageTile,
  renderStyles,
} from './services/inference.js';
export { applyStyleEdits, rangeShifts, seedStyle } from '../core/analysis/style-edits.js';
export { cornerCaseAlong } from '../core/analysis/corner-cases.js';
export { cornerCaseJson, searchStart, skippedJson, startJson } from '../core/analysis/corner-case-json.js';
export { evaluateShifts, traverse } from '../core/analysis/traversal.js';
export { gridPng } from '../core/image/png.js';
export { explainImage, explanationJson } from '../core/analysis/explain.js';
export { edgeSanityCheck } from './sanity.js';
