/**
 * `<faultlines-traversal api classifier class dim seed range>`: one StyleSpace dim from a start
 * style (the class average, or the sample `seed` of the class). A slider sets the shift (in std of
 * the dim); each position calls the live traversal endpoint (3 frames: -|x|, 0, +|x|) and shows the
 * frame at x, its p_true and the class it is read as ("still <class>" while the arg-max is the true
 * class, even below p_true 0.5), next to the start. The std unit and the start are the ones of the
 * cached corner cases (per-class std and class average of the default sweep); the side that lowers
 * p_true (the class ranking's direction) is marked on the slider. A failed slider request keeps the
 * last good frame, says why under it (with a retry) and fires `faultlines-error`; the slider
 * announces its shift, p_true and predicted class to screen readers (aria-valuetext).
 */
import { css, html, type TemplateResult } from 'lit';
import { ApiError, getJson, intAttribute, numAttribute } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';
import type { TraversalFrame } from '../protocol/traversal-frame.js';

const SCALE = 4;
/** p_true to 3 decimals, small values in exponent form (so a change stays visible). */
const fmtP = (p: number) => (p >= 0.01 || p === 0 ? p.toFixed(3) : p.toExponential(2));
const CELL = 32 * SCALE;
const GAP = 2;

type Frame = TraversalFrame;

/** What a frame is read as, honestly: "still 3" while the arg-max is the true class. */
const verdict = (cls: number | null, f: Pick<Frame, 'predicted'>) =>
  f.predicted === cls ? `still ${cls}` : `${cls} → ${f.predicted}`;

export class Traversal extends FaultlinesElement {
  static override properties = {
    ...FaultlinesElement.properties,
    class: { type: String },
    dim: { type: String },
    seed: { type: String },
    range: { type: String },
    shift: { type: Number, reflect: true },
    frame: { state: true },
    frameError: { state: true },
  };
  static override styles = [
    baseStyles,
    css`
      .row { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
      .tile { width: ${CELL}px; height: ${CELL}px; background-repeat: no-repeat; image-rendering: pixelated; border-radius: 4px; background-color: #404040; }
      .tile.busy { opacity: 0.6; }
      dl { margin: 0; display: grid; grid-template-columns: auto auto; gap: 2px 10px; }
      dt { color: var(--faultlines-muted, #5b6475); }
      dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
      input[type='range'] { width: 100%; margin-top: 10px; accent-color: var(--faultlines-accent, #3461c1); }
      .ends { display: flex; justify-content: space-between; font-size: 11px; color: var(--faultlines-muted, #5b6475); }
      .flip { color: #b3261e; }
      .frame-error { margin-top: 8px; }
    `,
  ];

  declare class: string;
  declare dim: string;
  declare seed: string;
  declare range: string;
  declare shift: number;
  declare frame: {
    strip: string;
    index: number;
    frame: Frame;
    start: Frame;
    name: string;
    lowers: 'increase' | 'decrease' | null;
    busy: boolean;
  } | null;
  /** Why the last slider request failed (the frame shown is the last good one); null when it did not. */
  declare frameError: string | null;
  /** The attributes of the frames shown, validated by the last load. */
  private view = { cls: 0, dim: 0, seed: null as number | null, range: 4 };
  private live: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Completed slider requests (for pages and tests). */
  requests = 0;

  constructor() {
    super();
    this.class = '0';
    this.dim = '0';
    this.seed = '';
    this.range = '4';
    this.shift = 0;
    this.frame = null;
    this.frameError = null;
  }

  private get maxShift(): number {
    return this.view.range;
  }

  protected loadKey(): string {
    return `${this.classifier}|${this.class}|${this.dim}|${this.seed}|${this.range}`;
  }

  protected override heading(): string {
    // Only what was validated and drawn: never "class abc" over a frame of class 0.
    if (!this.frame) return 'Traversal';
    return `Traversal of dim ${this.view.dim}${this.frame.name ? ` (${this.frame.name})` : ''}, class ${this.view.cls}`;
  }

  private async fetchFrame(x: number, signal: AbortSignal) {
    const r = Math.max(0.1, Math.abs(x));
    const t = await getJson(
      this.base,
      '/v1/traversal',
      this.scoped({
        classifier: this.classifier,
        class: this.view.cls,
        dim: this.view.dim,
        seed: this.view.seed,
        frames: 3,
        range: Number(r.toFixed(4)),
        scale: SCALE,
      }),
      this.requestOptions(signal),
    );
    const index = x === 0 ? 1 : x > 0 ? 2 : 0;
    return {
      strip: t.strip as string,
      index,
      frame: t.frames[index] as Frame,
      start: t.frames[1] as Frame,
      name: t.name as string,
      lowers: (t.ranking?.direction ?? null) as 'increase' | 'decrease' | null,
      busy: false,
    };
  }

  protected async load(signal: AbortSignal): Promise<void> {
    this.frame = null;
    this.frameError = null;
    this.view = {
      cls: intAttribute('class', this.class, 0, 9999, 0)!,
      dim: intAttribute('dim', this.dim, 0, 1_000_000, 0)!,
      seed: intAttribute('seed', this.seed, 0, 2 ** 31 - 1),
      range: numAttribute('range', this.range, 0.5, 30, 4),
    };
    this.shift = Math.max(-this.maxShift, Math.min(this.maxShift, this.shift));
    this.frame = await this.fetchFrame(this.shift, signal);
  }

  /** Moves to shift `x` (std units): one live traversal request, the latest wins. */
  async moveTo(x: number): Promise<void> {
    this.shift = x;
    this.live?.abort();
    const c = new AbortController();
    this.live = c;
    if (this.frame) this.frame = { ...this.frame, busy: true };
    try {
      const f = await this.fetchFrame(x, c.signal);
      if (c.signal.aborted) return;
      this.frame = f;
      this.frameError = null;
      this.requests++;
      await this.updateComplete;
      this.dispatchEvent(
        new CustomEvent('faultlines-frame', {
          bubbles: true,
          composed: true,
          detail: { shift: x, pTrue: f.frame.pTrue, predicted: f.frame.predicted },
        }),
      );
    } catch (e) {
      if (c.signal.aborted || (e as Error).name === 'AbortError') return;
      // The last good frame stays (no longer marked busy); the reason goes under it.
      const message = e instanceof ApiError ? e.message : `Could not compute this frame: ${(e as Error).message}`;
      if (this.frame) this.frame = { ...this.frame, busy: false };
      this.frameError = message;
      await this.updateComplete;
      this.dispatchEvent(
        new CustomEvent('faultlines-error', { bubbles: true, composed: true, detail: { message, shift: x } }),
      );
    }
  }

  private onInput(e: Event) {
    const x = Number((e.target as HTMLInputElement).value);
    this.shift = x;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.moveTo(x), 60);
  }

  protected renderReady(): TemplateResult {
    const f = this.frame!;
    const cls = this.view.cls;
    const bg = (i: number) => `background-image:url(${f.strip});background-position:${-i * (CELL + GAP)}px 0`;
    const m = this.maxShift;
    return html`<div class="row">
        <div><div class="sub">start</div><div class="tile" part="start" role="img"
          aria-label="start: p_true ${fmtP(f.start.pTrue)}, ${verdict(cls, f.start)}" style=${bg(1)}></div></div>
        <div><div class="sub">shift ${this.shift >= 0 ? '+' : ''}${this.shift.toFixed(2)} std</div><div class="tile ${f.busy ? 'busy' : ''}"
          part="image" role="img"
          aria-label="frame at shift ${f.frame.shift.toFixed(2)} std: p_true ${fmtP(f.frame.pTrue)}, ${verdict(cls, f.frame)}"
          data-shift=${f.frame.shift} style=${bg(f.index)}></div></div>
        <dl>
          <dt>p_true</dt><dd class="ptrue" part="ptrue">${fmtP(f.frame.pTrue)}</dd>
          <dt>predicted</dt><dd class="predicted ${f.frame.predicted !== cls ? 'flip' : ''}"
            part="predicted" data-class=${f.frame.predicted}>${verdict(cls, f.frame)}</dd>
          <dt>start p_true</dt><dd>${fmtP(f.start.pTrue)}</dd>
          <dt>runner-up</dt><dd>${f.frame.runnerUp} (p ${fmtP(f.frame.pRunnerUp)})</dd>
        </dl>
      </div>
      <input type="range" part="slider" aria-label="shift of dim ${this.view.dim} in std"
        aria-valuetext="${this.shift.toFixed(2)} std: p_true ${fmtP(f.frame.pTrue)}, ${verdict(cls, f.frame)}"
        min=${-m} max=${m} step=${m / 20} .value=${String(this.shift)} @input=${this.onInput} />
      ${
        this.frameError === null
          ? ''
          : html`<div class="error frame-error" role="alert" part="frame-error">${this.frameError} <button class="retry"
        part="retry" @click=${() => void this.moveTo(this.shift)}>Retry</button></div>`
      }
      <div class="ends"><span>${(-m).toFixed(1)} std${
        f.lowers === 'decrease' ? ' (lowers ' + 'p_true)' : ''
      }</span><span>0</span><span>+${m.toFixed(1)} std${f.lowers === 'increase' ? ' (lowers p_true)' : ''}</span></div>`;
  }
}
