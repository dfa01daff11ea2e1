/**
 * `<faultlines-directions api classifier class top>`: what the classifier's most influential dims do
 * to the image (issue 14, docs/naming.md), from /v1/directions. Per dim: its computed label ("adds
 * noise", "entangled: ...", "no visible change"), the largest factor effects with their 95%
 * intervals (factor stds per std of the dim), p_true from 0 to the last shift for the classifier and
 * its reference reader on the same frames, the contrastive score, and a strip of the frames the
 * effects are measured on. Under the table, "why it fails": the sentence of the classifier's
 * failure summary. Without `class`: the global ranking's top dims (on samples of every class); with
 * it, that class's. Each dim is a button: choosing it fires `faultlines-select` ({ dim, class }).
 */
import { css, html, type TemplateResult } from 'lit';
import { ARROW, getJson, intAttribute } from './api.js';
import { baseStyles, dimTableStyles } from './base.js';
import { ClassViewElement } from './class-view.js';

// As served by /v1/directions; type-only imports, so nothing of zod or the core enters the bundle.
import type {
  DirectionDescriptionJson,
  DirectionsPayload,
  DirectionsSet,
  DirectionWeaknessJson,
} from '../protocol/directions.js';
// Plain functions importing nothing: the same sentences as the CLI and report.html.
import { counterfactualSentence, weaknessText } from '../core/analysis/counterfactual-phrases.js';

/** Effects shown per direction: the largest ones. */
const EFFECTS_SHOWN = 2;

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;

export class Directions extends ClassViewElement {
  static override properties = { ...ClassViewElement.properties, top: { type: String } };
  static override styles = [
    baseStyles,
    dimTableStyles,
    css`
      td.num { white-space: nowrap; }
      td.label { font-weight: 600; }
      td.label.unchanged { font-weight: 400; color: var(--faultlines-muted, #5b6475); }
      td.effects { font-size: 12px; font-variant-numeric: tabular-nums; }
      td.strip img { height: 32px; }
      p.why { margin: 8px 0 0; }
      .none { color: var(--faultlines-muted, #5b6475); }
    `,
  ];

  declare top: string;
  private set: DirectionsSet | null = null;
  private payload: DirectionsPayload | null = null;

  constructor() {
    super();
    this.top = '';
  }

  protected override loadKey(): string {
    return `${super.loadKey()}|${this.top}`;
  }

  protected override heading(): string {
    const k = this.shownClass;
    return `What the top dims do${this.classifierName ? ` — ${this.classifierName}` : ''}${k === null ? '' : `, class ${k}`}`;
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.set = null;
    this.payload = null;
    const cls = this.startLoad();
    intAttribute('top', this.top, 1, 4096);
    const r = await getJson(
      this.base,
      '/v1/directions',
      this.scoped({ classifier: this.classifier, class: cls }),
      this.requestOptions(signal),
    );
    const payload = r.payload as DirectionsPayload;
    this.payload = payload;
    this.loaded(r.classifier, cls);
    this.set = cls === null ? payload.all : (payload.classes.find((c) => c.classIndex === cls) ?? null);
  }

  private pick(dim: number): void {
    this.dispatchEvent(
      new CustomEvent('faultlines-select', {
        bubbles: true,
        composed: true,
        // The global top dims name no class: the page keeps its own.
        detail: { dim, classifier: this.classifier, ...(this.shownClass === null ? {} : { class: this.shownClass }) },
      }),
    );
  }

  private row(d: DirectionDescriptionJson, i: number, set: DirectionsSet, last: number): TemplateResult {
    const dim = set.dims[i];
    const own = d.classifiers[0];
    const ref = d.classifiers[1];
    const effects = d.effects.slice(0, EFFECTS_SHOWN);
    return html`<tr data-dim=${dim.index}>
      <td><button class="pick" part="pick" data-dim=${dim.index} title="dim ${dim.index} (${dim.layer}:${dim.channel}), rank ${dim.rank}, moved ${dim.direction === 'increase' ? 'up' : 'down'}: open its traversal" @click=${() => this.pick(dim.index)}>${dim.index} ${ARROW[dim.direction]}</button></td>
      <td class="label ${d.label.kind}" data-kind=${d.label.kind}>${d.label.text}</td>
      <td class="effects">${effects.map(
        (e, k) =>
          html`${k ? html`<br />` : ''}<span class="effect" data-factor=${e.factor}>${e.factor} ${signed(e.effect)} [${e.ciLow.toFixed(2)}, ${e.ciHigh.toFixed(2)}]</span>`,
      )}</td>
      <td class="num ptrue" title="mean p_true at shift 0 and ${last} std, ${own.classifier}">${own.pTrue[0].toFixed(2)} → ${own.pTrue[own.pTrue.length - 1].toFixed(2)}</td>
      ${ref ? html`<td class="num ref" title="mean p_true at shift 0 and ${last} std, ${ref.classifier} (same frames)">${ref.pTrue[0].toFixed(2)} → ${ref.pTrue[ref.pTrue.length - 1].toFixed(2)}</td><td class="num contrastive">${d.contrastive === null ? '' : signed(d.contrastive)}</td>` : ''}
      ${set.weaknesses ? this.weaknessCell(set.weaknesses[i], own.classifier) : ''}
      <td class="strip">${set.strips[i] ? html`<img class="px" src=${set.strips[i]} alt="dim ${dim.index}: one sample at shifts ${set.result?.shifts.join(', ')} std" />` : ''}</td>
    </tr>`;
  }

  /** Of the changes the dim makes, the one the counterfactual edits show the classifier is specifically weak to. */
  private weaknessCell(w: DirectionWeaknessJson | undefined, classifier: string): TemplateResult {
    const title =
      `of the changes this dim makes, the one the counterfactual edits show ${classifier} is specifically ` +
      'weak to (how many times more of it the reference tolerates)';
    return html`<td class="weakness" data-edit=${w?.edit?.label ?? ''} title=${title}>${weaknessText(w)}</td>`;
  }

  /** Each factor edited alone (the payload's counterfactual), in the CLI's words. */
  private counterfactualLine(classifier: string, reference: string | null): TemplateResult | string {
    const cf = this.payload?.counterfactual;
    if (!cf || !reference) return '';
    return html`<p class="why counterfactual" part="counterfactual">
      <strong>Each factor edited alone:</strong> ${counterfactualSentence(cf, classifier, reference)}.
    </p>`;
  }

  protected renderReady(): TemplateResult {
    const set = this.set;
    const r = set?.result;
    if (!set || !r || !this.payload)
      return html`<p class="none">No directions described${
        this.shownClass === null ? '' : ` for ` + `class ${this.shownClass}`
      }: the sweep has too few samples.</p>`;
    const top = intAttribute('top', this.top, 1, 4096) ?? r.directions.length;
    const last = r.shifts[r.shifts.length - 1];
    const ref = r.reference;
    const why = set.why.find((w) => w.classifier === r.classifiers[0]);
    const weakHead = set.weaknesses ? html`<th>breaks it via</th>` : '';
    return html`<p class="sub">Label: the factor that dominates the frames' change (${r.samples} samples, 0–${last} std; effects in factor stds per std, 95% interval). p_true at 0 → ${last} std${
      ref ? `; ` + `${ref} reads the same frames (contrastive: the drop beyond its)` : ''
    }.</p>
      <table part="table">
        <thead><tr><th>dim</th><th>label</th><th>largest effects</th><th>p_true ${r.classifiers[0]}</th>${ref ? html`<th>p_true ${ref}</th><th>contrastive</th>` : ''}${weakHead}<th>frames 0–${last} std</th></tr></thead>
        <tbody>${r.directions.slice(0, top).map((d, i) => this.row(d, i, set, last))}</tbody>
      </table>
      ${why ? html`<p class="why" part="why"><strong>Why it fails:</strong> ${why.sentence}</p>` : ''}
      ${this.counterfactualLine(r.classifiers[0], ref)}`;
  }
}
