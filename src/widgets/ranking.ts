/**
 * `<faultlines-ranking api classifier class top thumb-class>`: the most influential StyleSpace dims
 * (global, or for one class) with their scores, and a thumbnail of what each does: a 5-frame live
 * traversal strip (PNG, so plain <img> tags, no CORS needed) from the class average of `class`
 * (or `thumb-class`, default 0 for the global ranking), fetched through the page's live queue
 * with retries (a cold isolate refuses a burst of live computations); a thumbnail that still fails
 * says why and offers a retry. Each dim is a button: choosing it fires `faultlines-select`
 * ({ dim, class }) for the page to open that traversal.
 */
import { css, html, type TemplateResult } from 'lit';
import { ARROW, ApiError, getImageUrl, getJson, intAttribute, pct } from './api.js';
import { baseStyles, dimTableStyles } from './base.js';
import { ClassViewElement } from './class-view.js';

// As served by /v1/rankings; a type-only import, so nothing of the core enters the widgets bundle.
import type { RankedDim } from '../core/analysis/ranking.js';

export class Ranking extends ClassViewElement {
  static override properties = {
    ...ClassViewElement.properties,
    top: { type: String },
    thumbClass: { type: String, attribute: 'thumb-class' },
    thumbs: { type: String },
  };
  static override styles = [
    baseStyles,
    dimTableStyles,
    css`
      .bar { height: 8px; background: var(--faultlines-accent, #3461c1); border-radius: 4px; min-width: 1px; }
      td.thumb img { height: 32px; }
      /* Header text for screen readers only (the column's content speaks for itself visually). */
      .vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
      td.thumb .thumb-err { color: #8a1c1c; font-size: 12px; }
    `,
  ];

  declare top: string;
  declare thumbClass: string;
  declare thumbs: string;
  private dims: RankedDim[] = [];
  private accuracy: number | null = null;
  /** Per dim: the thumbnail's object URL, or why it failed. */
  private thumbUrls = new Map<number, { url: string } | { error: string }>();
  private thumbParams = { classifier: '', class: 0 };

  constructor() {
    super();
    this.top = '10';
    this.thumbClass = '';
    this.thumbs = 'true';
  }

  protected override loadKey(): string {
    return `${super.loadKey()}|${this.top}`;
  }

  protected override heading(): string {
    const k = this.shownClass;
    return `Most influential dims${k === null ? '' : ` for class ${k}`}${this.classifierName ? ` — ${this.classifierName}` : ''}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.clearThumbs();
    const cls = this.startLoad();
    const top = intAttribute('top', this.top, 1, 50, 10)!;
    const thumbClass = cls ?? intAttribute('thumb-class', this.thumbClass, 0, 9999, 0)!;
    const r = await getJson(
      this.base,
      '/v1/rankings',
      this.scoped({ classifier: this.classifier, class: cls, top }),
      this.requestOptions(signal),
    );
    this.dims = r.payload.dims;
    this.accuracy = r.accuracy ?? null;
    this.loaded(r.classifier, cls);
    this.thumbParams = { classifier: this.classifier, class: thumbClass };
    if (this.thumbs !== 'false') await Promise.all(this.dims.map((d) => this.loadThumb(d.index, signal)));
  }

  /** One thumbnail; a failure is kept as its reason (the rest of the table still draws). */
  private async loadThumb(dim: number, signal: AbortSignal): Promise<void> {
    try {
      const url = await getImageUrl(
        this.base,
        '/v1/traversal',
        this.scoped({ ...this.thumbParams, dim, frames: 5, range: 3, scale: 1, format: 'png' }),
        this.requestOptions(signal),
      );
      if (signal.aborted) URL.revokeObjectURL(url);
      else this.thumbUrls.set(dim, { url });
    } catch (e) {
      if (signal.aborted) return;
      this.thumbUrls.set(dim, { error: e instanceof ApiError ? e.message : (e as Error).message });
    }
    this.requestUpdate();
  }

  private retryThumb(dim: number): void {
    this.thumbUrls.delete(dim);
    this.requestUpdate();
    const c = new AbortController();
    void this.loadThumb(dim, c.signal);
  }

  private clearThumbs(): void {
    for (const t of this.thumbUrls.values()) if ('url' in t) URL.revokeObjectURL(t.url);
    this.thumbUrls.clear();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.clearThumbs();
  }

  private pick(dim: number): void {
    this.dispatchEvent(
      new CustomEvent('faultlines-select', {
        bubbles: true,
        composed: true,
        detail: { dim, class: this.thumbParams.class, classifier: this.classifier },
      }),
    );
  }

  private thumb(dim: number): TemplateResult {
    const t = this.thumbUrls.get(dim);
    if (!t) return html`<span class="sub">loading…</span>`;
    if ('error' in t)
      return html`<span class="thumb-err" role="alert" title=${t.error}>⚠ ${t.error}</span> <button class="retry"
        @click=${() => this.retryThumb(dim)}>Retry</button>`;
    return html`<img class="px" alt="traversal of dim ${dim}, class ${this.thumbParams.class}, -3 to +3 std" src=${t.url} />`;
  }

  protected renderReady(): TemplateResult {
    const max = this.dims.reduce((m, d) => Math.max(m, Math.abs(d.score)), 1e-12);
    const thumbClass = this.thumbParams.class;
    const showThumbs = this.thumbs !== 'false';
    return html`${
      this.accuracy === null
        ? ''
        : html`<div class="sub">accuracy on the sweep ${pct(this.accuracy)}${
            showThumbs ? `; ` + `thumbnails: class ${thumbClass}, -3..+3 std` : ''
          }</div>`
    }
      <table part="table">
        <thead><tr><th>#</th><th>dim</th><th>layer:ch</th><th><span class="vh">direction that lowers p_true</span></th><th>score</th><th
          style="width:25%"><span class="vh">score relative to the top dim</span></th>${showThumbs ? html`<th>what it does</th>` : ''}</tr></thead>
        <tbody>
          ${this.dims.map(
            (d) => html`<tr data-dim=${d.index}>
              <td>${d.rank}</td>
              <td><button class="pick" part="pick" data-dim=${d.index}
                aria-label="open the traversal of dim ${d.index}"
                @click=${() => this.pick(d.index)}>${d.index}</button></td>
              <td class="mono">${d.layer}:${d.channel}</td>
              <td title=${d.direction} aria-label=${d.direction}>${ARROW[d.direction]}</td>
              <td class="num">${d.score.toExponential(2)}</td>
               <td><div class="bar" role="presentation" style="width:${((100 * Math.abs(d.score)) / max).toFixed(1)}%"></div></td>
              ${showThumbs ? html`<td class="thumb">${this.thumb(d.index)}</td>` : ''}
            </tr>`,
          )}
        </tbody>
      </table>`;
  }
}
