/**
 * `<faultlines-ranking api classifier class top thumb-class>`: the most influential StyleSpace dims
 * (global, or for one class) with their scores, and a thumbnail of what each does: a 5-frame live
 * traversal strip (PNG, so plain <img> tags, no CORS needed) from the class average of `class`
 * (or `thumb-class`, default 0 for the global ranking).
 */
import { css, html, type TemplateResult } from 'lit';
import { ARROW, apiUrl, classifierTitle, getJson, intAttr, pct } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';

// As served by /v1/rankings; a type-only import, so nothing of the core enters the widgets bundle.
import type { RankedDim } from '../core/analysis/ranking.js';

export class Ranking extends FaultlinesElement {
  static override properties = {
    ...FaultlinesElement.properties,
    class: { type: String },
    top: { type: String },
    thumbClass: { type: String, attribute: 'thumb-class' },
    thumbs: { type: String },
  };
  static override styles = [
    baseStyles,
    css`
      table { border-collapse: collapse; width: 100%; }
      th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--faultlines-border, #e6e9ef); vertical-align: middle; }
      th { font-size: 12px; color: var(--faultlines-muted, #5b6475); font-weight: 500; }
      td.num { font-variant-numeric: tabular-nums; text-align: right; }
      .bar { height: 8px; background: var(--faultlines-accent, #3461c1); border-radius: 4px; min-width: 1px; }
      td.thumb img { height: 32px; }
    `,
  ];

  declare class: string;
  declare top: string;
  declare thumbClass: string;
  declare thumbs: string;
  private dims: RankedDim[] = [];
  private accuracy: number | null = null;
  private classifierName = '';

  constructor() {
    super();
    this.class = '';
    this.top = '10';
    this.thumbClass = '';
    this.thumbs = 'true';
  }

  protected loadKey(): string {
    return `${this.classifier}|${this.class}|${this.top}`;
  }

  protected override heading(): string {
    const k = intAttr(this.class);
    return `Most influential dims${k === null ? '' : ` for class ${k}`}${this.classifierName ? ` — ${this.classifierName}` : ''}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const top = Math.min(50, Math.max(1, intAttr(this.top, 10)!));
    const r = await getJson(this.base, '/v1/rankings', { classifier: this.classifier, class: intAttr(this.class), top }, signal);
    this.dims = r.payload.dims;
    this.accuracy = r.accuracy ?? null;
    this.classifierName = classifierTitle(r.classifier);
  }

  protected renderReady(): TemplateResult {
    const max = this.dims.reduce((m, d) => Math.max(m, Math.abs(d.score)), 1e-12);
    const thumbClass = intAttr(this.class) ?? intAttr(this.thumbClass, 0)!;
    const showThumbs = this.thumbs !== 'false';
    return html`${this.accuracy === null ? '' : html`<div class="sub">accuracy on the sweep ${pct(this.accuracy)}${showThumbs ? `; thumbnails: class ${thumbClass}, -3..+3 std` : ''}</div>`}
      <table part="table">
        <thead><tr><th>#</th><th>dim</th><th>layer:ch</th><th></th><th>score</th><th style="width:25%"></th>${showThumbs ? html`<th>what it does</th>` : ''}</tr></thead>
        <tbody>
          ${this.dims.map(
            (d) => html`<tr data-dim=${d.index}>
              <td>${d.rank}</td>
              <td class="mono">${d.index}</td>
              <td class="mono">${d.layer}:${d.channel}</td>
              <td title=${d.direction}>${ARROW[d.direction]}</td>
              <td class="num">${d.score.toExponential(2)}</td>
              <td><div class="bar" style="width:${((100 * Math.abs(d.score)) / max).toFixed(1)}%"></div></td>
              ${showThumbs
                ? html`<td class="thumb"><img class="px" loading="lazy" alt="traversal of dim ${d.index}" src=${apiUrl(this.base, '/v1/traversal', { classifier: this.classifier, class: thumbClass, dim: d.index, frames: 5, range: 3, scale: 1, format: 'png' })} /></td>`
                : ''}
            </tr>`,
          )}
        </tbody>
      </table>`;
  }
}
