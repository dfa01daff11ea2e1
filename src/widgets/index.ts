/**
 * Faultlines widgets: one ES module (served by the worker at /widgets/v1/faultlines-widgets.js)
 * defining <faultlines-corner-cases>, <faultlines-traversal>, <faultlines-ranking>,
 * <faultlines-accuracy-curve>, <faultlines-directions> and <faultlines-explain>. It also exports the API client and Chart.js (registered) for the
 * dashboard, which imports this module instead of bundling them again.
 */
import { AccuracyCurve } from './accuracy-curve.js';
import { CornerCases } from './corner-cases.js';
import { Directions } from './directions.js';
import { Explain } from './explain.js';
import { Ranking } from './ranking.js';
import { Traversal } from './traversal.js';

export const WIDGETS = {
  'faultlines-corner-cases': CornerCases,
  'faultlines-traversal': Traversal,
  'faultlines-ranking': Ranking,
  'faultlines-accuracy-curve': AccuracyCurve,
  'faultlines-directions': Directions,
  'faultlines-explain': Explain,
} as const;

for (const [name, cls] of Object.entries(WIDGETS)) if (!customElements.get(name)) customElements.define(name, cls);

export { AccuracyCurve, CornerCases, Directions, Explain, Ranking, Traversal };
export {
  ApiError,
  AttributeError,
  DEFAULT_TIMEOUT_MS,
  apiBase,
  apiUrl,
  fileBase64,
  getImageUrl,
  getJson,
  pct,
  submitCurl,
  ARROW,
  type RequestOptions,
} from './api.js';
export { Chart, PALETTE, themeColors } from './chart.js';
export { FaultlinesElement, baseStyles } from './base.js';
