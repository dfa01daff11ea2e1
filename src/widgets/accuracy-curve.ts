/**
 * `<faultlines-accuracy-curve api classifier compare>`: the paper's figure 6 — accuracy against the
 * normalised distance from the well-classified centre (computed on `classifier`'s sweep, top dims),
 * with a 95% band, for `classifier` and, by default, every other classifier the result compares
 * (`compare="name"` keeps one, `compare="none"` none). Sparse bins (too few samples, out of the
 * robustness score) are hollow points on dashed segments; the legend gives each robustness score
 * with its 95% interval, the line above the chart the samples beyond the scale. Bins of fewer than
 * HIDE_BELOW samples are not drawn at all (one sample would be a lone point at 0 or 1); every bin,
 * with its count and interval, is in the table under the chart (its text alternative) and in the
 * tooltips. Text and grid colours follow the page's theme (--faultlines-fg/-muted/-grid).
 */
import { css, html, type PropertyValues, type TemplateResult } from 'lit';
import { classifierTitle, getJson } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';
import { Chart, PALETTE, themeColors } from './chart.js';
import type { AccuracyCurveJson, AccuracyGroupJson } from '../protocol/derived-payloads.js';

type Group = AccuracyGroupJson;
type Curve = AccuracyCurveJson;

const f3 = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** Bins with fewer samples are not drawn: their accuracy is 0 or 1 by chance and their interval spans most of [0, 1]. */
const HIDE_BELOW = 5;
const drawn = (b: Group) => b.count >= HIDE_BELOW && b.accuracy !== null;

export class AccuracyCurve extends FaultlinesElement {
  static override properties = { ...FaultlinesElement.properties, compare: { type: String } };
  static override styles = [
    baseStyles,
    css`
      .chart { position: relative; width: 100%; aspect-ratio: 2 / 1; min-height: 180px; }
      details { margin-top: 6px; font-size: 12px; }
      summary { cursor: pointer; color: var(--faultlines-muted, #5b6475); }
      table { border-collapse: collapse; margin-top: 4px; font-variant-numeric: tabular-nums; }
      th, td { padding: 1px 8px; text-align: right; border-bottom: 1px solid var(--faultlines-border, #e6e9ef); }
      th { font-weight: 500; color: var(--faultlines-muted, #5b6475); }
      tr.hidden-bin td { color: var(--faultlines-muted, #5b6475); font-style: italic; }
    `,
  ];

  declare compare: string;
  curves: Curve[] = [];
  private info = '';
  /** The Chart.js chart drawn (null until ready); public for pages and tests that read what is drawn. */
  chart: Chart | null = null;
  private minCount = 20;

  constructor() {
    super();
    this.compare = '';
  }

  protected loadKey(): string {
    return `${this.classifier}|${this.compare}`;
  }

  protected override heading(): string {
    return 'Accuracy vs distance from the well-classified centre';
  }

  protected async load(signal: AbortSignal): Promise<void> {
    const r = await getJson(
      this.base,
      '/v1/accuracy-curves',
      this.scoped({ classifier: this.classifier }),
      this.requestOptions(signal),
    );
    // Results of schema /1 (min-max axis, bin-averaged score) have none of the fields below.
    if (r.payload.schema !== 'faultlines.accuracy-curve/2')
      throw new Error(
        `the stored accuracy curves are of schema ${r.payload.schema}; recompute them (npm run seed:edge or a job)`,
      );
    const all = r.payload.curves as Curve[];
    const want = this.compare.trim();
    this.curves = all.filter(
      (c, i) =>
        i === 0 ||
        want === '' ||
        (want !== 'none' &&
          want
            .split(',')
            .map((s) => s.trim())
            .includes(c.classifier)),
    );
    const n = r.payload.normalisation as { scale: number; percentile: number };
    const beyond = this.curves.map((c) => `${c.classifier} ${f3(c.beyond.accuracy)}`).join(', ');
    this.minCount = r.payload.minCount;
    const hidden = this.curves[0]?.bins.filter((b) => !drawn(b) && b.count > 0).length ?? 0;
    this.info =
      `${r.payload.count} samples of ${classifierTitle(r.classifier)}'s sweep; distance over the top ${r.payload.dims.length} dims, ` +
      `centred on the well-classified, 1 = their ${n.percentile}th percentile; ${this.curves[0]?.beyond.count ?? 0} samples beyond it (accuracy ` +
      `${beyond}); hollow: bins of under ${r.payload.minCount} samples, out of the score` +
      `${hidden ? `; ${hidden} bins of under ${HIDE_BELOW} samples not drawn (see the table)` : ''}`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const canvas = this.renderRoot.querySelector('canvas');
    if (this.state !== 'ready' || !canvas) {
      this.chart?.destroy();
      this.chart = null;
      return;
    }
    if (this.chart?.canvas === canvas) return;
    this.chart?.destroy();
    const datasets = this.curves.flatMap((c, i) => {
      const color = PALETTE[i % PALETTE.length];
      const x = (b: Curve['bins'][number]) => (b.lo + b.hi) / 2;
      const sparse = (k: number) => c.bins[k]?.sparse ?? false;
      const rb = c.robustness;
      return [
        {
          label: `${c.classifier} (robustness ${f3(rb.score)} [${f3(rb.ciLow)}, ${f3(rb.ciHigh)}])`,
          data: c.bins.map((b) => ({ x: x(b), y: drawn(b) ? b.accuracy : null })),
          borderColor: color,
          backgroundColor: color,
          pointBackgroundColor: c.bins.map((b) => (b.sparse ? 'transparent' : color)),
          pointRadius: c.bins.map((b) => (b.sparse ? 4 : 3)),
          segment: {
            borderDash: (s: { p0DataIndex: number; p1DataIndex: number }) =>
              sparse(s.p0DataIndex) || sparse(s.p1DataIndex) ? [4, 4] : undefined,
          },
          tension: 0.2,
        },
        {
          label: `${c.classifier} 95% low`,
          data: c.bins.map((b) => ({ x: x(b), y: drawn(b) ? b.ciLow : null })),
          borderColor: 'transparent',
          pointRadius: 0,
          fill: false,
        },
        {
          label: `${c.classifier} 95% high`,
          data: c.bins.map((b) => ({ x: x(b), y: drawn(b) ? b.ciHigh : null })),
          borderColor: 'transparent',
          backgroundColor: `${color}26`,
          pointRadius: 0,
          fill: '-1',
        },
      ];
    });
    const theme = themeColors(this);
    const axis = (text: string) => ({
      min: 0,
      max: 1,
      title: { display: true, text, color: theme.text },
      ticks: { color: theme.muted },
      grid: { color: theme.grid },
      border: { color: theme.grid },
    });
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { type: 'linear', ...axis('normalised distance from the well-classified centre') },
          y: axis('accuracy'),
        },
        plugins: {
          legend: { labels: { color: theme.text, filter: (item) => !/95%/.test(item.text) } },
          tooltip: {
            filter: (item) => !/95%/.test(item.dataset.label ?? ''),
            callbacks: {
              label: (item) => {
                const c = this.curves[Math.floor(item.datasetIndex / 3)];
                const b = c?.bins[item.dataIndex];
                return b
                  ? `${c.classifier}: accuracy ${f3(b.accuracy)} [${f3(b.ciLow)}, ` +
                      `${f3(b.ciHigh)}], ${b.count} samples${b.sparse ? ' (sparse, out of the score)' : ''}`
                  : '';
              },
            },
          },
        },
      },
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chart?.destroy();
    this.chart = null;
  }

  protected renderReady(): TemplateResult {
    const label =
      `Accuracy against normalised distance: ` +
      `${this.curves
        .map(
          (c) =>
            `${classifierTitle(c.classifier)} robustness ${f3(c.robustness.score)} (95% ` +
            `interval ${f3(c.robustness.ciLow)} to ${f3(c.robustness.ciHigh)})`,
        )
        .join('; ')}. ` +
      `The table below lists every bin.`;
    return html`<div class="sub">${this.info}</div><div class="chart"><canvas part="canvas" role="img" aria-label=${label}></canvas></div>
      <details part="table"><summary>Data table (every bin, with its count)</summary>
        <table>
          <thead><tr><th scope="col">classifier</th><th scope="col">distance</th><th scope="col">samples</th><th
            scope="col">accuracy</th><th scope="col">95% interval</th></tr></thead>
          <tbody>
            ${this.curves.flatMap((c) =>
              c.bins.map(
                (b) =>
                  html`<tr class=${drawn(b) ? '' : 'hidden-bin'}
                    data-count=${b.count}><td>${classifierTitle(c.classifier)}</td><td>${b.lo.toFixed(2)}–${b.hi.toFixed(2)}</td><td
                    >${b.count}</td><td>${f3(b.accuracy)}${
                      drawn(b) ? (b.count < this.minCount ? ' (sparse)' : '') : ' (not ' + 'drawn)'
                    }</td><td>${f3(b.ciLow)}–${f3(b.ciHigh)}</td></tr>`,
              ),
            )}
          </tbody>
        </table>
      </details>`;
  }
}
