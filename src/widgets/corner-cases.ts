/**
 * `<faultlines-corner-cases api classifier class>`: the paper's figure 7 for one classifier. Per
 * class, the class-average image, then the corner case found along each of the top influential dims
 * (the dim, the direction moved, p_true at the corner and the class it turns into).
 */
import { css, html, type TemplateResult } from 'lit';
import { ARROW, classifierTitle, getJson, intAttr } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';

interface Case {
  dim: { index: number; rank: number; layer: string; channel: number; direction: 'increase' | 'decrease' };
  shift: number;
  pTrue: number;
  newClass: number;
  image: string;
}
interface ClassCases {
  classIndex: number;
  start?: { pTrue: number; predicted: number; image: string };
  cases: Case[];
  skipped: Array<{ dim: number; reason: string }>;
}

export class CornerCases extends FaultlinesElement {
  static override properties = { ...FaultlinesElement.properties, class: { type: String } };
  static override styles = [
    baseStyles,
    css`
      .grid { display: grid; gap: 6px; }
      .row { display: flex; gap: 8px; align-items: flex-start; }
      .label { width: 52px; flex: none; font-weight: 600; padding-top: 18px; }
      figure { margin: 0; text-align: center; font-size: 11px; }
      figure img { width: 64px; height: 64px; border-radius: 3px; }
      figure.start img { outline: 2px solid var(--faultlines-accent, #3461c1); }
      figcaption { line-height: 1.25; }
      .none { color: var(--faultlines-muted, #5b6475); font-size: 12px; padding-top: 18px; }
    `,
  ];

  declare class: string;
  private classes: ClassCases[] = [];
  private classifierName = '';

  constructor() {
    super();
    this.class = '';
  }

  protected loadKey(): string {
    return `${this.classifier}|${this.class}`;
  }

  protected override heading(): string {
    const k = intAttr(this.class);
    return `Corner cases${this.classifierName ? ` — ${this.classifierName}` : ''}${k === null ? '' : `, class ${k}`}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const r = await getJson(this.base, '/v1/corner-cases', { classifier: this.classifier, class: intAttr(this.class) }, signal);
    this.classifierName = classifierTitle(r.classifier);
    this.classes = r.payload.classes;
  }

  protected renderReady(): TemplateResult {
    return html`<div class="grid" part="grid">
      ${this.classes.map(
        (k) => html`<div class="row" data-class=${k.classIndex}>
          <div class="label">${k.classIndex}</div>
          ${k.start
            ? html`<figure class="start"><figcaption>start</figcaption><img class="px" src=${k.start.image} alt="class ${k.classIndex} average" /><figcaption>p ${k.start.pTrue.toFixed(2)}</figcaption></figure>`
            : ''}
          ${k.cases.map(
            (x) => html`<figure title="dim ${x.dim.index} (${x.dim.layer}:${x.dim.channel}), rank ${x.dim.rank}, shift ${x.shift.toFixed(2)} std">
              <figcaption class="mono">${x.dim.index} ${ARROW[x.dim.direction]}</figcaption>
              <img class="px" src=${x.image} alt="corner case of class ${k.classIndex} along dim ${x.dim.index}" />
              <figcaption>p ${x.pTrue.toFixed(2)} → ${x.newClass}</figcaption>
            </figure>`,
          )}
          ${k.cases.length === 0 ? html`<div class="none">no corner case within the bound${k.skipped[0] ? ` (${k.skipped[0].reason})` : ''}</div>` : ''}
        </div>`,
      )}
    </div>`;
  }
}
