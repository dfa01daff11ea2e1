/**
 * `<faultlines-explain api key>`: why a classifier decides what it does on one real image (issue 20,
 * docs/explain.md), from GET /v1/explain/{key} (or a `result` property holding that answer): the
 * image beside its projection into S, the faithfulness line (PSNR, feature distance, the decision on
 * the projection; flagged when it differs from the decision on the image, with the warnings), the
 * dims on which the projection deviates most from the class's well-classified centre with their
 * names, and the counterfactual strip with the predicted class and p_true under each frame (or, for
 * a correctly read image, the nearest decision boundary). While the job is queued or running the
 * widget stays `loading` and asks again every few seconds.
 */
import { css, html, type TemplateResult } from 'lit';
import { ApiError, classifierTitle, getJson } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';

// As served by /v1/explain/{key}; type-only imports, so nothing of zod or the core enters the bundle.
import type { ExplainAnswer } from '../protocol/explain.js';

/** Between two asks while the explanation is being computed. */
const POLL_MS = 3000;
const KEY = /^[0-9a-f]{64}$/;

const f = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));

export class Explain extends FaultlinesElement {
  static override properties = { ...FaultlinesElement.properties, key: { type: String }, result: { attribute: false } };
  static override styles = [
    baseStyles,
    css`
      .pair { display: flex; gap: 16px; align-items: flex-start; margin: 4px 0 8px; }
      figure { margin: 0; text-align: center; font-size: 12px; }
      figure img { width: 96px; height: 96px; border: 1px solid var(--faultlines-border, #d8dde6); }
      p.faithful { margin: 4px 0; }
      p.faithful.unfaithful { color: #8a1c1c; font-weight: 600; }
      ul.warnings { margin: 4px 0; padding-left: 18px; color: #8a1c1c; font-size: 12px; }
      table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
      th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--faultlines-border, #e6e9ef); }
      th { font-size: 12px; color: var(--faultlines-muted, #5b6475); font-weight: 500; }
      td.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
      .strip { display: flex; gap: 8px; flex-wrap: wrap; }
      .strip figure img { width: 64px; height: 64px; }
      .strip figure.right figcaption { color: #1d6b2c; font-weight: 600; }
      h4 { margin: 8px 0 4px; font-size: 13px; font-weight: 600; }
    `,
  ];

  declare key: string;
  /** An answer of GET /v1/explain/{key} already at hand: shown without a request. */
  declare result: ExplainAnswer | null;
  private answer: ExplainAnswer | null = null;

  constructor() {
    super();
    this.key = '';
    this.result = null;
  }

  protected loadKey(): string {
    return this.result ? `result:${this.result.key}` : `key:${this.key}`;
  }

  protected override heading(): string {
    const a = this.answer;
    if (!a) return 'Explanation of a real image';
    const e = a.explanation;
    return `Label ${e.label}, read as ${e.original.predicted} — ${classifierTitle(a.classifier)}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.answer = null;
    if (this.result) {
      this.answer = this.result;
      return;
    }
    const key = this.key.trim();
    if (!KEY.test(key))
      throw new ApiError(
        `Invalid attribute key="${this.key}": expected the 64 hex digits POST /v1/explain answered.`,
        null,
        'key',
      );
    for (;;) {
      try {
        this.answer = await getJson<ExplainAnswer>(this.base, `/v1/explain/${key}`, {}, this.requestOptions(signal));
        return;
      } catch (e) {
        // 202: queued or running; ask again until it is done (or this load is replaced).
        if (!(e instanceof ApiError) || e.status !== 202) throw e;
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, POLL_MS);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(new DOMException('aborted', 'AbortError'));
          },
          { once: true },
        );
      });
    }
  }

  private counterfactual(e: ExplainAnswer['explanation']): TemplateResult {
    const c = e.counterfactual;
    if (!c) return html``;
    return html`<h4>Counterfactual</h4>
      <p class="reason" part="reason">${c.reason}</p>
      <div class="strip" part="strip">
        ${c.frames.map(
          (fr) =>
            html`<figure class=${fr.predicted === e.label ? 'frame right' : 'frame'} data-predicted=${fr.predicted}>
              <img class="px" src=${fr.image} alt="${Math.round(fr.fraction * 100)}% of the way back: read as ${fr.predicted}" />
              <figcaption>${Math.round(fr.fraction * 100)}%: <span class="cls">${fr.predicted}</span><br />p_true <span class="ptrue">${f(fr.pTrue, 3)}</span></figcaption>
            </figure>`,
        )}
      </div>`;
  }

  private boundary(e: ExplainAnswer['explanation']): TemplateResult {
    const b = e.boundary;
    if (!b) return html``;
    const n = b.nearest;
    return html`<h4>Nearest decision boundary</h4>
      <p class="boundary" part="boundary">${
        n
          ? html`${f(n.shift)} std along ${n.name} (class rank ${n.classRank}): read as ${n.predicted} there`
          : `none within ${b.maxSteps} std along the top ${b.dims.length} dims of the class ranking`
      }</p>
      ${n?.image ? html`<div class="strip"><figure><img class="px" src=${n.image} alt="the image at the boundary" /><figcaption>read as ${n.predicted}</figcaption></figure></div>` : ''}`;
  }

  protected renderReady(): TemplateResult {
    const a = this.answer!;
    const e = a.explanation;
    const r = e.reconstruction;
    return html`<div class="pair" part="pair">
        <figure><img class="px original" src=${a.image} alt="the image" /><figcaption>image: read as ${e.original.predicted} (p_true ${f(e.original.pTrue, 3)})</figcaption></figure>
        <figure><img class="px reconstruction" src=${r.image} alt="its projection into S" /><figcaption>projection: read as ${r.predicted} (p_true ${f(r.pTrue, 3)})</figcaption></figure>
      </div>
      <p class="faithful ${e.sameDecision ? '' : 'unfaithful'}" part="faithfulness" data-same=${String(e.sameDecision)}>
        Projection: PSNR ${f(r.psnr, 1)} dB, feature distance ${f(r.featureDistance, 3)};
        ${
          e.sameDecision
            ? 'the classifier decides the same on it ' + '(faithful).'
            : 'the classifier decides differently on it: this explanation is of another decision.'
        }
      </p>
      ${e.warnings.length ? html`<ul class="warnings" part="warnings">${e.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
      <h4>Where the projection deviates from the well-classified ${e.label}s</h4>
      <table part="deviations">
        <thead><tr><th>dim</th><th>deviation (std)</th><th>class rank</th><th>moving it this way</th></tr></thead>
        <tbody>${e.deviations.map(
          (d) =>
            html`<tr data-dim=${d.index}><td class="mono" title="dim ${d.index}">${d.name}</td><td class="num">${d.deviation >= 0 ? '+' : '−'}${Math.abs(d.deviation).toFixed(2)}</td><td class="num">${d.classRank}</td><td class="label">${d.label ?? '—'}</td></tr>`,
        )}</tbody>
      </table>
      ${this.counterfactual(e)}${this.boundary(e)}
      <p class="sub">${a.request.steps} projection steps, seed ${a.request.seed}; centre of ${e.centre.wellClassified} well-classified of ${e.centre.samples} samples.</p>`;
  }
}
