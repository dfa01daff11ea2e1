/**
 * What every Faultlines widget shares: the `api`, `domain` and `classifier` attributes, one load per change
 * of the attributes it depends on (earlier loads aborted), a `state` attribute reflecting
 * loading / ready / error (for pages and tests to wait on), `faultlines-ready` / `faultlines-error`
 * events, and a clear message instead of content when the API is unreachable or refuses. A result
 * not computed yet also shows the command that submits the job computing it (the submitter token
 * as a shell variable, never in the page).
 */
import { LitElement, css, html, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import {
  ApiError,
  AttributeError,
  apiBase,
  numAttribute,
  submitCurl,
  type Params,
  type RequestOptions,
} from './api.js';

export type WidgetState = 'idle' | 'loading' | 'ready' | 'error';

/** What an error panel says above the curl line that submits the missing job. */
const NOT_COMPUTED = 'Not computed yet: a GPU runner computes it once this job is submitted with the submitter token';

export const baseStyles = css`
  :host {
    display: block;
    font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    color: var(--faultlines-fg, #1d2433);
    background: var(--faultlines-bg, #fff);
    border: 1px solid var(--faultlines-border, #d8dde6);
    border-radius: 8px;
    padding: 12px;
    box-sizing: border-box;
  }
  :host([hidden]) { display: none; }
  h3 { margin: 0 0 8px; font-size: 15px; font-weight: 600; }
  .sub { color: var(--faultlines-muted, #5b6475); font-size: 12px; }
  .error { color: #8a1c1c; background: #fdecec; border: 1px solid #f3b6b6; border-radius: 6px; padding: 8px 10px; }
  .loading { color: var(--faultlines-muted, #5b6475); font-style: italic; }
  img.px { image-rendering: pixelated; display: block; }
  .retry {
    margin-left: 6px;
    font: inherit;
    font-size: 12px;
    padding: 1px 8px;
    border: 1px solid #d99;
    border-radius: 4px;
    background: #fff;
    color: #8a1c1c;
    cursor: pointer;
  }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  .how { margin-top: 8px; font-size: 12px; color: var(--faultlines-muted, #5b6475); }
  pre.curl {
    margin: 4px 0 0;
    padding: 6px 8px;
    white-space: pre-wrap;
    word-break: break-all;
    font: 11px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace;
    color: var(--faultlines-fg, #1d2433);
    background: #f4f6fa;
    border: 1px solid var(--faultlines-border, #d8dde6);
    border-radius: 6px;
  }
`;

/** The table of dims the ranking and directions widgets draw, a dim a row, each with its pick button. */
export const dimTableStyles = css`
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--faultlines-border, #e6e9ef); vertical-align: middle; }
  th { font-size: 12px; color: var(--faultlines-muted, #5b6475); font-weight: 500; }
  td.num { font-variant-numeric: tabular-nums; text-align: right; }
  button.pick {
    font: inherit;
    font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
    padding: 0 6px;
    border: 1px solid var(--faultlines-border, #d8dde6);
    border-radius: 4px;
    background: transparent;
    color: inherit;
    cursor: pointer;
  }
  button.pick:hover, button.pick:focus-visible { border-color: var(--faultlines-accent, #3461c1); }
`;

export abstract class FaultlinesElement extends LitElement {
  static override properties: PropertyDeclarations = {
    api: { type: String },
    domain: { type: String },
    classifier: { type: String },
    timeout: { type: String },
    headingLevel: { type: String, attribute: 'heading-level' },
    state: { type: String, reflect: true },
    error: { state: true },
    howTo: { state: true },
  };

  declare api: string;
  /** The image domain (GET /v1/domains) of every request; empty: the API's default (mnist). */
  declare domain: string;
  declare classifier: string;
  /** Seconds each request may take before the widget reports the API as not answering (default 30). */
  declare timeout: string;
  /** The title's level in the page's outline (aria-level; default 3: under a page's h1 and a section's h2). */
  declare headingLevel: string;
  declare state: WidgetState;
  declare error: string | null;
  /** When the result is not computed: the curl line that submits its job. */
  declare howTo: string | null;

  private loadedKey: string | null = null;
  private controller: AbortController | null = null;

  constructor() {
    super();
    this.api = '';
    this.domain = '';
    this.classifier = '';
    this.timeout = '';
    this.headingLevel = '';
    this.state = 'idle';
    this.error = null;
    this.howTo = null;
  }

  /** The API base URL (attribute `api`, default: where the widgets module was served from). */
  get base(): string {
    return apiBase(this.api);
  }

  /** A request's query (or body) with the `domain` attribute, when one is set. */
  protected scoped(params: Params): Params {
    return this.domain ? { ...params, domain: this.domain } : params;
  }

  /** What every request of a load is given: its abort signal and the `timeout` attribute. */
  protected requestOptions(signal: AbortSignal): RequestOptions {
    return { signal, timeoutMs: numAttribute('timeout', this.timeout, 1, 600, 30) * 1000 };
  }

  /** The inputs of a load: a change reloads. */
  protected abstract loadKey(): string;
  /** Fetch and keep what render() needs. */
  protected abstract load(signal: AbortSignal): Promise<void>;
  protected abstract renderReady(): TemplateResult;
  protected heading(): string {
    return '';
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const key = `${this.base}|${this.timeout}|${this.domain}|${this.loadKey()}`;
    if (key !== this.loadedKey) {
      this.loadedKey = key;
      void this.reload();
    }
  }

  /** Loads again (also after an error). */
  async reload(): Promise<void> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.state = 'loading';
    this.error = null;
    this.howTo = null;
    try {
      await this.load(controller.signal);
      if (controller.signal.aborted) return;
      this.state = 'ready';
      await this.updateComplete;
      this.dispatchEvent(new CustomEvent('faultlines-ready', { bubbles: true, composed: true }));
    } catch (e) {
      if (controller.signal.aborted || (e as Error).name === 'AbortError') return;
      this.error =
        e instanceof ApiError || e instanceof AttributeError
          ? e.message
          : `Could not show this widget: ${(e as Error).message}`;
      this.howTo = e instanceof ApiError && e.submit ? submitCurl(this.base, e.submit) : null;
      this.state = 'error';
      this.dispatchEvent(
        new CustomEvent('faultlines-error', {
          bubbles: true,
          composed: true,
          detail: { message: this.error, attribute: e instanceof AttributeError ? e.attribute : undefined },
        }),
      );
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.controller?.abort();
    this.loadedKey = null;
  }

  protected override render(): TemplateResult {
    const title = this.heading();
    const level = /^[1-6]$/.test(this.headingLevel) ? this.headingLevel : undefined;
    const head = title ? html`<h3 part="title" aria-level=${ifDefined(level)}>${title}</h3>` : html``;
    if (this.state === 'error') {
      const how = this.howTo
        ? html`<div class="how" part="how">${NOT_COMPUTED} (<span class="mono">SUBMIT_TOKEN</span>):<pre
            class="curl" part="curl">${this.howTo}</pre></div>`
        : '';
      return html`${head}<div class="error" role="alert" part="error">${this.error} <button class="retry" part="retry"
        @click=${() => void this.reload()}>Retry</button></div>${how}`;
    }
    if (this.state !== 'ready') return html`${head}<div class="loading" part="loading">Loading…</div>`;
    return html`${head}${this.renderReady()}`;
  }
}
