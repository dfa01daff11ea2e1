/**
 * `<faultlines-accuracy-curve api classifier compare>`: the paper's figure 6 — accuracy against the
 * normalised distance from the well-classified centre (computed on `classifier`'s sweep, top dims),
 * with a 95% band, for `classifier` and, by default, every other classifier the result compares
 * (`compare="name"` keeps one, `compare="none"` none). Sparse bins (too few samples, out of the
 * robustness score) are hollow points on dashed segments; the legend gives each robustness score
 * with its 95% interval, the line above the chart the samples beyond the scale.
 */
import { css, html, type PropertyValues, type TemplateResult } from 'lit';
import { classifierTitle, getJson } from './api.js';
import { FaultlinesElement, baseStyles } from './base.js';
import { Chart, PALETTE } from './chart.js';

interface Group {
  count: number;
  /** null when empty (stored NaN). */
  accuracy: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  sparse: boolean;
}

interface Curve {
  classifier: string;
  bins: Array<Group & { lo: number; hi: number }>;
  beyond: Group;
  robustness: { score: number | null; ciLow: number | null; ciHigh: number | null; samples: number };
  accuracy: number;
}

const f3 = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(3));

export class AccuracyCurve extends FaultlinesElement {
  static override properties = { ...FaultlinesElement.properties, compare: { type: String } };
  static override styles = [baseStyles, css`.chart { position: relative; width: 100%; aspect-ratio: 2 / 1; min-height: 180px; }`];

  declare compare: string;
  curves: Curve[] = [];
  private info = '';
  private chart: Chart | null = null;

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
    const r = await getJson(this.base, '/v1/accuracy-curves', { classifier: this.classifier }, signal);
    // Results of schema /1 (min-max axis, bin-averaged score) have none of the fields below.
    if (r.payload.schema !== 'faultlines.accuracy-curve/2') throw new Error(`the stored accuracy curves are of schema ${r.payload.schema}; recompute them (npm run seed:edge or a job)`);
    const all = r.payload.curves as Curve[];
    const want = this.compare.trim();
    this.curves = all.filter((c, i) => i === 0 || want === '' || (want !== 'none' && want.split(',').map((s) => s.trim()).includes(c.classifier)));
    const n = r.payload.normalisation as { scale: number; percentile: number };
    const beyond = this.curves.map((c) => `${c.classifier} ${f3(c.beyond.accuracy)}`).join(', ');
    this.info = `${r.payload.count} samples of ${classifierTitle(r.classifier)}'s sweep; distance over the top ${r.payload.dims.length} dims, centred on the well-classified, 1 = their ${n.percentile}th percentile; ${this.curves[0]?.beyond.count ?? 0} samples beyond it (accuracy ${beyond}); hollow: bins of under ${r.payload.minCount} samples, out of the score`;
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
          data: c.bins.map((b) => ({ x: x(b), y: b.accuracy })),
          borderColor: color,
          backgroundColor: color,
          pointBackgroundColor: c.bins.map((b) => (b.sparse ? 'transparent' : color)),
          pointRadius: c.bins.map((b) => (b.sparse ? 4 : 3)),
          segment: { borderDash: (s: { p0DataIndex: number; p1DataIndex: number }) => (sparse(s.p0DataIndex) || sparse(s.p1DataIndex) ? [4, 4] : undefined) },
          tension: 0.2,
        },
        { label: `${c.classifier} 95% low`, data: c.bins.map((b) => ({ x: x(b), y: b.ciLow })), borderColor: 'transparent', pointRadius: 0, fill: false },
        { label: `${c.classifier} 95% high`, data: c.bins.map((b) => ({ x: x(b), y: b.ciHigh })), borderColor: 'transparent', backgroundColor: `${color}26`, pointRadius: 0, fill: '-1' },
      ];
    });
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'normalised distance from the well-classified centre' } },
          y: { min: 0, max: 1, title: { display: true, text: 'accuracy' } },
        },
        plugins: { legend: { labels: { filter: (item) => !/95%/.test(item.text) } } },
      },
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chart?.destroy();
    this.chart = null;
  }

  protected renderReady(): TemplateResult {
    return html`<div class="sub">${this.info}</div><div class="chart"><canvas part="canvas" role="img" aria-label="accuracy curves"></canvas></div>`;
  }
}
