/**
 * `<faultlines-explain api key>`: why a classifier decides what it does on one real image (issue 20,
 * docs/explain.md), from GET /v1/explain/{key} (or a `result` property holding that answer): the
 * image beside its projection into S, the faithfulness line (PSNR, feature distance, the decision on
 * the projection; flagged when it differs from the decision on the image, with the warnings), the
 * dims on which the projection deviates most from the class's well-classified centre with their
 * names, and the counterfactual strip with the predicted class and p_true under each frame (or, for
 * a correctly read image, the nearest decision boundary). While the job is queued or running the
 * widget stays `loading` and asks again every few seconds.
 *
 * With the `submit` attribute it also takes the image itself: a drop zone (drop a PNG or choose one),
 * the label, the submitter token (typed; sent with the request, never kept) and Explain, which POSTs
 * /v1/explain with the `classifier`, `steps` and `top` attributes, then shows the answer at once
 * (200) or follows its job (202). The API takes writes from its own origin only, so this mode works
 * in pages the API serves: `/embed/explain?submit=1` in an iframe, or the dashboard.
 */
import { css, html, type TemplateResult } from 'lit';
import { ApiError, classifierTitle, fileBase64, getJson, intAttribute, postJson } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';

// As served by /v1/explain/{key}; type-only imports, so nothing of zod or the core enters the bundle.
import type { ExplainAnswer } from '../protocol/explain.js';

/** Between two asks while the explanation is being computed. */
const POLL_MS = 3000;
const KEY = /^[0-9a-f]{64}$/;

const f = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));

export class Explain extends FaultlinesElement {
  static override properties = {
    ...FaultlinesElement.properties,
    key: { type: String },
    result: { attribute: false },
    submit: { type: Boolean },
    steps: { type: String },
    top: { type: String },
    file: { state: true },
    preview: { state: true },
    submitting: { state: true },
    submitError: { state: true },
  };
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
      form.submit { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin: 0 0 10px; }
      .drop { display: flex; gap: 8px; align-items: center; min-width: 220px; padding: 10px; cursor: pointer; }
      .drop { border: 2px dashed var(--faultlines-border, #c3cad6); border-radius: 8px; }
      .drop { font-size: 12px; color: var(--faultlines-muted, #5b6475); }
      .drop.over { border-color: #3b6fd8; background: #eef3fd; }
      .drop img { width: 48px; height: 48px; }
      .drop input { max-width: 180px; }
      form.submit input[type='number'] { width: 5em; }
      p.submit-error { margin: 0 0 8px; }
    `,
  ];

  declare key: string;
  /** An answer of GET /v1/explain/{key} already at hand: shown without a request. */
  declare result: ExplainAnswer | null;
  /** Show the drop zone and submit images (POST /v1/explain with the submitter token). */
  declare submit: boolean;
  /** Projection steps and deviating dims of a submission (default: the API's). */
  declare steps: string;
  declare top: string;
  declare file: File | null;
  declare preview: string | null;
  declare submitting: boolean;
  declare submitError: string | null;
  private answer: ExplainAnswer | null = null;

  constructor() {
    super();
    this.key = '';
    this.result = null;
    this.submit = false;
    this.steps = '';
    this.top = '';
    this.file = null;
    this.preview = null;
    this.submitting = false;
    this.submitError = null;
  }

  protected loadKey(): string {
    return this.result ? `result:${this.result.key}` : `key:${this.key}`;
  }

  /** The chosen or dropped image (a PNG is checked by the API, which names what is wrong). */
  private async choose(file: File | undefined): Promise<void> {
    if (!file) return;
    this.file = file;
    this.submitError = null;
    this.preview = `data:image/png;base64,${await fileBase64(file)}`;
  }

  private async send(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const token = (form.elements.namedItem('token') as HTMLInputElement).value.trim();
    const labelField = (form.elements.namedItem('label') as HTMLInputElement).value;
    const missing = !this.file
      ? 'Drop a PNG or choose one first.'
      : labelField === ''
        ? "Give the image's label (its true class)."
        : !token
          ? 'Type the submitter token (SUBMIT_TOKEN): submitting needs it.'
          : null;
    if (missing || !this.file) {
      this.submitError = missing;
      return;
    }
    this.submitting = true;
    this.submitError = null;
    try {
      const steps = intAttribute('steps', this.steps, 0, 1000);
      const top = intAttribute('top', this.top, 1, 64);
      const r = await postJson<ExplainAnswer & { key: string }>(
        this.base,
        '/v1/explain',
        {
          image: await fileBase64(this.file),
          label: Number(labelField),
          ...(this.classifier ? { classifier: this.classifier } : {}),
          ...(this.domain ? { domain: this.domain } : {}),
          ...(steps === null ? {} : { steps }),
          ...(top === null ? {} : { top }),
        },
        token,
      );
      // 200: the answer itself (cached, or computed at once); 202: its job, followed by key.
      if (r.status === 200) {
        this.key = '';
        this.result = r.body;
      } else {
        this.result = null;
        this.key = r.body.key;
      }
    } catch (e) {
      this.submitError =
        e instanceof ApiError ? `${e.message}${e.field ? ` (field ${e.field})` : ''}` : (e as Error).message;
    } finally {
      this.submitting = false;
    }
  }

  private form(): TemplateResult {
    if (!this.submit) return html``;
    const over = (on: boolean) => (ev: DragEvent) => {
      ev.preventDefault();
      (ev.currentTarget as HTMLElement).classList.toggle('over', on);
    };
    return html`<form class="submit" part="submit" @submit=${(ev: SubmitEvent) => void this.send(ev)}>
        <label class="drop" part="drop" @dragover=${over(true)} @dragleave=${over(false)}
          @drop=${(ev: DragEvent) => {
            over(false)(ev);
            void this.choose(ev.dataTransfer?.files[0]);
          }}>
          ${this.preview ? html`<img class="px chosen" src=${this.preview} alt="the chosen image" />` : ''}
          <span>${this.file ? this.file.name : 'Drop a PNG here, or choose one:'}</span>
          <input name="file" type="file" accept="image/png"
            @change=${(ev: Event) => void this.choose((ev.target as HTMLInputElement).files?.[0])} />
        </label>
        <label>label <input name="label" type="number" min="0" step="1" required /></label>
        <label>submitter token <input name="token" type="password" autocomplete="off" /></label>
        <button type="submit" ?disabled=${this.submitting}>${this.submitting ? 'Sending…' : 'Explain'}</button>
      </form>
      ${this.submitError ? html`<p class="error submit-error" role="alert" part="submit-error">${this.submitError}</p>` : ''}`;
  }

  protected override render(): TemplateResult {
    return html`${this.form()}${super.render()}`;
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
    // The drop zone alone, until an image is submitted.
    if (this.submit && key === '') return;
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
    const a = this.answer;
    if (!a) return html``;
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
      <p class="sub">${a.request.steps} projection steps, seed ${a.request.seed}${a.computed.inline ? ', computed at once by the edge' : ''}; centre of ${e.centre.wellClassified} well-classified of ${e.centre.samples} samples.</p>`;
  }
}
