/**
 * `<faultlines-corner-cases api classifier class>`: the paper's figure 7 for one classifier. Per
 * class, the class-average image, then the decision corner case found along each of the top
 * influential dims (the dim, the direction moved, the shift and the class the image is read as
 * there), with the paper's p_true = 0.5 point under it — said as "still <true class>" when the image
 * there is still read as the true class, as it usually is with ten classes. Each corner case is a
 * button: choosing it fires `faultlines-select` ({ class, dim }) for the page to open that traversal.
 */
import { css, html, type TemplateResult } from 'lit';
import { ARROW, getJson } from './api.js';
import { baseStyles } from './base.js';
import { ClassViewElement } from './class-view.js';
import type { ClassCornerCasesJson, CornerCaseJson, CornerCasePointJson } from '../protocol/derived-payloads.js';

/** A decision corner case is read as `predicted`, not the true class; pTrueHalf: p_true = 0.5 (null: below at the start). */
type Case = CornerCaseJson;
type ClassCases = ClassCornerCasesJson;
type Point = CornerCasePointJson;

/** A corner case's tooltip: its dim, rank, the class it is read as, where, and the two probabilities. */
const caseTitle = (x: Case) =>
  `dim ${x.dim.index} (${x.dim.layer}:${x.dim.channel}), rank ${x.dim.rank}: read as ${x.decision.predicted} ` +
  `after ${x.decision.shift.toFixed(2)} std (p_true ${x.decision.pTrue.toFixed(2)}, ` +
  `p_${x.decision.predicted} ${x.decision.pRunnerUp.toFixed(2)})`;

/** Why a class has no corner case: already misread at the start, or still the true class along every dim tried. */
const noneText = (k: ClassCases) =>
  k.skipped[0]?.outcome === 'already-misclassified'
    ? `no corner case: the class average is already read as ${k.start?.predicted ?? 'another class'}`
    : `no decision corner case within the bound: still ${k.classIndex} along every dim tried${k.skipped[0] ? ` (${k.skipped[0].reason})` : ''}`;

/** What the image at p_true = 0.5 is read as, honestly: usually still the true class. */
const halfCaption = (k: number, p: Point | null) =>
  p === null
    ? 'p_true < 0.5 at the start'
    : `p_true 0.5 at ${p.shift.toFixed(2)}: ${p.predicted === k ? `still ${k}` : `→ ${p.predicted}`}`;

export class CornerCases extends ClassViewElement {
  static override styles = [
    baseStyles,
    css`
      .grid { display: grid; gap: 6px; }
      .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
      .label { width: 52px; flex: none; font-weight: 600; padding-top: 18px; }
      figure { margin: 0; text-align: center; font-size: 11px; }
      figure img { width: 64px; height: 64px; border-radius: 3px; }
      figure.start img { outline: 2px solid var(--faultlines-accent, #3461c1); }
      figcaption { line-height: 1.25; }
      figcaption.half { color: var(--faultlines-muted, #5b6475); max-width: 76px; }
      button.pick {
        display: block;
        padding: 2px;
        border: 1px solid transparent;
        border-radius: 4px;
        background: transparent;
        color: inherit;
        font: inherit;
        cursor: pointer;
      }
      button.pick:hover, button.pick:focus-visible { border-color: var(--faultlines-accent, #3461c1); }
      .none { color: var(--faultlines-muted, #5b6475); font-size: 12px; padding-top: 18px; }
    `,
  ];

  private classes: ClassCases[] = [];

  protected override heading(): string {
    const k = this.shownClass;
    return `Corner cases${this.classifierName ? ` — ${this.classifierName}` : ''}${k === null ? '' : `, class ${k}`}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const cls = this.startLoad();
    const r = await getJson(
      this.base,
      '/v1/corner-cases',
      this.scoped({ classifier: this.classifier, class: cls }),
      this.requestOptions(signal),
    );
    this.loaded(r.classifier, cls);
    this.classes = r.payload.classes;
  }

  private pick(cls: number, dim: number): void {
    this.dispatchEvent(
      new CustomEvent('faultlines-select', {
        bubbles: true,
        composed: true,
        detail: { class: cls, dim, classifier: this.classifier },
      }),
    );
  }

  protected renderReady(): TemplateResult {
    return html`<div class="grid" part="grid">
      ${this.classes.map(
        (k) => html`<div class="row" data-class=${k.classIndex}>
          <div class="label">${k.classIndex}</div>
          ${
            k.start
              ? html`<figure class="start"><figcaption>start</figcaption><img class="px" src=${k.start.image}
                alt="class ${k.classIndex} average" /><figcaption>p ${k.start.pTrue.toFixed(2)}</figcaption></figure>`
              : ''
          }
          ${k.cases.map(
            (x) => html`<figure class="case" data-dim=${x.dim.index} title=${caseTitle(x)}>
              <figcaption class="mono">${x.dim.index} ${ARROW[x.dim.direction]}</figcaption>
              <button class="pick" part="pick" data-class=${k.classIndex} data-dim=${x.dim.index}
                @click=${() => this.pick(k.classIndex, x.dim.index)}><img class="px" src=${x.decision.image}
                alt="decision corner case of class ${k.classIndex} along dim ${x.dim.index}: read as ${x.decision.predicted}; open its traversal" /></button>
              <figcaption class="decision">${k.classIndex} → ${x.decision.predicted} at ${x.decision.shift.toFixed(2)}</figcaption>
              <figcaption class="half">${halfCaption(k.classIndex, x.pTrueHalf)}</figcaption>
            </figure>`,
          )}
          ${k.cases.length === 0 ? html`<div class="none">${noneText(k)}</div>` : ''}
        </div>`,
      )}
    </div>`;
  }
}
