/**
 * What the dashboard's panel modules get from the page (src/dashboard/main.ts): its API origin, its
 * request options, its chart and error helpers and its view. Passed in rather than imported, so each
 * panel is a module of its own and main.ts stays the one place that owns the view and the selection.
 */
import type { Chart, RequestOptions } from '../widgets/index.js';

/** What the page shows; mirrored in the URL. `dim` null: the top dim of the class's ranking. */
export interface View {
  classifier: string;
  cls: number;
  dim: number | null;
  /** The accuracy-curve widget's `compare`: '' (every classifier), 'none' or a classifier name. */
  compare: string;
  /** The classifier shown beside this one on the slider's direction: '' (the first other one), 'none' or a name. */
  vs: string;
}

export interface ClassifierInfo {
  name: string;
  label: string;
  metrics?: Record<string, unknown>;
  /** Registered classifiers (POST /v1/classifiers): `name` is their id, `displayName` the submitter's label. */
  source?: string;
  displayName?: string;
}

export interface PageContext {
  api: string;
  opts(signal?: AbortSignal): RequestOptions;
  /** Draws (or redraws) Chart.js chart `id` in `parent`, with `label` as the canvas's text alternative. */
  // biome-ignore lint/suspicious/noExplicitAny: Chart.js configurations of several chart types pass through unchanged.
  chart(id: string, parent: HTMLElement, config: any, label: string, cls?: string): void;
  charts: Map<string, Chart>;
  /** An error in place of a section, with a Retry when given one. */
  fail(el: HTMLElement, e: unknown, retry?: () => void): void;
  /** Changes the view (as the page's controls do). */
  select(change: Partial<View>): void;
  classifiers(): ClassifierInfo[];
  /** How a classifier is shown. */
  shown(c: ClassifierInfo): string;
}

export const esc = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

export const aborted = (e: unknown) => (e as Error)?.name === 'AbortError';
