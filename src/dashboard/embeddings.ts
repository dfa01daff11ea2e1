/**
 * The dashboard's embeddings panel (paper figure 3): UMAP of the sweep head in Z, W and S, coloured by
 * class, by correctness, or by the correctness of this classifier against another one on the same
 * samples, with one legend (the groups and their counts) for the three charts.
 *
 * Inspection: hovering a point, or moving between points with the arrow keys once a chart has the
 * keyboard focus, shows that sample below the charts — its image, its true class and what the
 * classifier reads — rendered and classified live by GET /v1/embeddings/sample exactly as the sweep
 * made it. The live verdict is checked against the cached embeddings' `correct` flag and a
 * disagreement is said, never hidden. Clicking a point or pressing Enter on it opens its class's
 * traversals.
 */
import { PALETTE, getJson } from '../widgets/index.js';
import { aborted, esc, type PageContext, type View } from './context.js';
import type { EmbeddingsPayload } from '../protocol/embeddings-payload.js';

type Payload = EmbeddingsPayload;
/** A kNN AUROC to 2 decimals; null (stored NaN: no mis- or no well-classified point) as a dash. */
const auroc = (v: number | null) => (v === null ? '—' : v.toFixed(2));
interface Sample {
  index: number;
  class: number;
  predicted: number;
  correct: boolean;
  pTrue: number;
  image: string;
}

/** One legend entry and the chart dataset drawn for it. */
interface Group {
  label: string;
  colour: string;
  cross: boolean;
  members: number[];
}

const $ = (id: string) => document.getElementById(id)!;

/** The groups a colouring splits the samples into (a sample is in exactly one). */
function groups(p: Payload, mode: string, other: number[] | null, otherName: string): Group[] {
  const all = p.labels.map((_, i) => i);
  if (mode === 'correct')
    return [
      { label: 'classified correctly', colour: PALETTE[0], cross: false, members: all.filter((i) => p.correct[i]) },
      { label: 'misclassified', colour: PALETTE[1], cross: true, members: all.filter((i) => !p.correct[i]) },
    ];
  if (mode.startsWith('vs:') && other) {
    const g = (label: string, colour: string, cross: boolean, mine: number, theirs: number): Group => ({
      label,
      colour,
      cross,
      members: all.filter((i) => p.correct[i] === mine && other[i] === theirs),
    });
    return [
      g('both correct', '#8a93a6', false, 1, 1),
      g('only this classifier wrong', PALETTE[1], true, 0, 1),
      g(`only ${otherName} wrong`, PALETTE[3], false, 1, 0),
      g('both wrong', '#111111', true, 0, 0),
    ];
  }
  return [
    ...Array.from({ length: 10 }, (_, k) => ({
      label: `class ${k}`,
      colour: PALETTE[k],
      cross: false,
      members: all.filter((i) => p.labels[i] === k && p.correct[i]),
    })),
    { label: 'misclassified (any class)', colour: '#111111', cross: true, members: all.filter((i) => !p.correct[i]) },
  ];
}

/** Per chart id: which sample each (dataset, index) is, for the pointer and the keyboard. */
const sampleAt = new Map<string, number[][]>();
let inspecting: AbortController | null = null;
let current: { ctx: PageContext; view: View; signal: AbortSignal; payload: Payload } | null = null;

/** The colour control's options: the built-in colourings and one per other classifier. */
function colourOptions(ctx: PageContext, view: View): void {
  const sel = $('emb-colour') as HTMLSelectElement;
  const keep = sel.value || 'class';
  sel.innerHTML = `<option value="class">class (misclassified: crosses)</option><option value="correct">correctness</option>${ctx
    .classifiers()
    .filter((c) => c.name !== view.classifier)
    .map((c) => `<option value="vs:${esc(c.name)}">correctness vs ${esc(ctx.shown(c))}</option>`)
    .join('')}`;
  sel.value = Array.from(sel.options).some((o) => o.value === keep) ? keep : 'class';
}

/** Draws the three charts and the legend in the selected colouring. */
async function draw(): Promise<void> {
  if (!current) return;
  const { ctx, signal, payload: p } = current;
  const mode = ($('emb-colour') as HTMLSelectElement).value || 'class';
  let other: number[] | null = null;
  const otherName = mode.startsWith('vs:') ? mode.slice(3) : '';
  if (otherName) {
    const r = await getJson(ctx.api, '/v1/embeddings', { classifier: otherName, space: 'Z' }, ctx.opts(signal));
    if (signal.aborted || current?.payload !== p) return;
    other = (r.payload as Payload).correct;
  }
  const gs = groups(p, mode, other, otherName);
  $('emb-legend').innerHTML = gs
    .map(
      (g) =>
        `<li data-group="${esc(g.label)}">` +
        `${
          g.cross
            ? `<span class="cross" style="color:${g.colour}" ` + `aria-hidden="true">✕</span>`
            : `<span class="swatch" style="background:${g.colour}"></span>`
        }` +
        `${esc(g.label)} <span class="muted">(${g.members.length})</span></li>`,
    )
    .join('');
  const el = $('emb-charts');
  const misCount = p.correct.filter((c) => !c).length;
  for (const s of p.spaces) {
    const id = `emb-${s.space}`;
    sampleAt.set(
      id,
      gs.map((g) => g.members),
    );
    const datasets = gs.map((g) => ({
      label: g.label,
      data: g.members.map((i) => ({ x: s.points[i][0], y: s.points[i][1], i })),
      backgroundColor: g.cross ? g.colour : `${g.colour}99`,
      borderColor: g.colour,
      pointStyle: g.cross ? ('crossRot' as const) : ('circle' as const),
      pointRadius: g.cross ? 3 : 2,
      // The active point (pointer or keyboard) stands out: larger, with a dark ring.
      pointHoverRadius: 7,
      pointHoverBorderWidth: 2,
      pointHoverBorderColor: '#1d2433',
    }));
    ctx.chart(
      id,
      el,
      {
        type: 'scatter',
        data: { datasets },
        options: {
          plugins: {
            title: { display: true, text: `${s.space} (kNN AUROC ${auroc(s.knnAuroc)})` },
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: (item: { raw: { i: number } }) =>
                  `sample ${item.raw.i}: class ${p.labels[item.raw.i]}, ` +
                  `${p.correct[item.raw.i] ? 'classified correctly' : 'misclassified'} (click: traverse class ${p.labels[item.raw.i]})`,
              },
            },
          },
          scales: { x: { display: false }, y: { display: false } },
          onHover: (_e: unknown, elements: Array<{ datasetIndex: number; index: number }>) => {
            const hit = elements[0];
            if (hit) inspect(sampleAt.get(id)![hit.datasetIndex][hit.index]);
          },
          // Drill-down: a point opens its class's traversals.
          onClick: (_e: unknown, elements: Array<{ datasetIndex: number; index: number }>) => {
            const hit = elements[0];
            if (hit) ctx.select({ cls: p.labels[sampleAt.get(id)![hit.datasetIndex][hit.index]], dim: null });
          },
        },
      },
      `UMAP of ${s.space} for ${s.points.length} samples (${misCount} misclassified), coloured by ` +
        `${mode === 'class' ? 'class' : mode === 'correct' ? 'correctness' : `correctness against ${otherName}`}: ` +
        `${gs.map((g) => `${g.label} ${g.members.length}`).join(', ')}; kNN AUROC of misclassified vs correct ${auroc(s.knnAuroc)}.`,
      'chart tall',
    );
    keyboard(id);
  }
}

/**
 * Makes the chart's canvas operable by keyboard (once per canvas): focusable, the arrow keys move to
 * the nearest point in that direction (on screen), Enter opens its class, Escape leaves it.
 */
function keyboard(id: string): void {
  const canvas = document.querySelector<HTMLCanvasElement>(`[data-chart="${id}"] canvas`)!;
  canvas.setAttribute('role', 'application');
  canvas.setAttribute('aria-roledescription', 'scatter plot');
  canvas.setAttribute('aria-describedby', 'emb-keys');
  canvas.tabIndex = 0;
  if (canvas.dataset.keys) return;
  canvas.dataset.keys = 'on';
  const DIRS: Record<string, [number, number]> = {
    ArrowRight: [1, 0],
    ArrowLeft: [-1, 0],
    ArrowDown: [0, 1],
    ArrowUp: [0, -1],
  };
  canvas.addEventListener('keydown', (e) => {
    const chart = current?.ctx.charts.get(id);
    if (!chart || !current) return;
    const pts: Array<{ d: number; j: number; x: number; y: number }> = [];
    chart.data.datasets.forEach((_, d) => {
      for (const [j, el] of chart.getDatasetMeta(d).data.entries()) pts.push({ d, j, x: el.x, y: el.y });
    });
    if (pts.length === 0) return;
    const active = chart.getActiveElements()[0];
    const at = active ? pts.find((q) => q.d === active.datasetIndex && q.j === active.index) : undefined;
    let next: (typeof pts)[number] | undefined;
    if (e.key in DIRS) {
      e.preventDefault();
      if (!at) {
        // First key: the point nearest the chart's centre.
        const cx = chart.width / 2;
        const cy = chart.height / 2;
        next = pts.reduce((a, b) => (Math.hypot(b.x - cx, b.y - cy) < Math.hypot(a.x - cx, a.y - cy) ? b : a));
      } else {
        const [dx, dy] = DIRS[e.key];
        let best = Infinity;
        for (const q of pts) {
          const along = (q.x - at.x) * dx + (q.y - at.y) * dy;
          if (along <= 0.5) continue;
          const across = Math.abs((q.x - at.x) * dy - (q.y - at.y) * dx);
          // Nearest ahead, preferring points close to the line of the arrow.
          const cost = along + 2 * across;
          if (cost < best) {
            best = cost;
            next = q;
          }
        }
        next ??= at;
      }
    } else if ((e.key === 'Enter' || e.key === ' ') && at) {
      e.preventDefault();
      current.ctx.select({ cls: current.payload.labels[sampleAt.get(id)![at.d][at.j]], dim: null });
      return;
    } else if (e.key === 'Escape') {
      chart.setActiveElements([]);
      chart.tooltip?.setActiveElements([], { x: 0, y: 0 });
      chart.update();
      return;
    } else return;
    const target = [{ datasetIndex: next.d, index: next.j }];
    chart.setActiveElements(target);
    chart.tooltip?.setActiveElements(target, { x: next.x, y: next.y });
    chart.update();
    inspect(sampleAt.get(id)![next.d][next.j]);
  });
}

/** Shows sample `i` under the charts: what the cached embeddings say at once, then its live render. */
function inspect(i: number): void {
  if (!current) return;
  const { ctx, view, signal, payload: p } = current;
  const box = $('emb-inspect');
  if (box.dataset.index === String(i)) return;
  inspecting?.abort();
  const c = new AbortController();
  inspecting = c;
  signal.addEventListener('abort', () => c.abort(), { once: true });
  box.dataset.index = String(i);
  box.dataset.state = 'loading';
  const cached = `sample ${i}: true class ${p.labels[i]}, ${p.correct[i] ? 'classified correctly' : 'misclassified'} by ${esc(view.classifier)} in the sweep`;
  box.innerHTML = `<div class="emb-img" aria-hidden="true"></div><p>${cached}; rendering it…</p>`;
  getJson(ctx.api, '/v1/embeddings/sample', { classifier: view.classifier, index: i, scale: 3 }, ctx.opts(c.signal))
    .then((r: Sample) => {
      if (c.signal.aborted) return;
      const agrees = r.correct === Boolean(p.correct[i]) && r.class === p.labels[i];
      box.dataset.state = 'ready';
      box.dataset.class = String(r.class);
      box.dataset.predicted = String(r.predicted);
      box.innerHTML =
        `<img class="emb-img" src="${r.image}" width="96" height="96" alt="sample ${i} of the sweep: a generated ${r.class}"><p><b>sample ` +
        `${i}</b>: true class <b>${r.class}</b>, predicted <b class="` +
        `${r.correct ? '' : 'flip'}">${r.predicted}</b> (${r.correct ? 'correct' : 'misclassified'}) ` +
        `by ${esc(view.classifier)}, p_true ${r.pTrue.toFixed(3)}.` +
        `${agrees ? '' : ` <span class="err">The live render disagrees with the cached embeddings (${esc(cached)}).</span>`}</p>`;
    })
    .catch((e: unknown) => {
      if (aborted(e) || c.signal.aborted) return;
      box.dataset.state = 'error';
      box.innerHTML = `<p>${cached}.</p><p class="err" role="alert">${esc((e as Error).message)}</p>`;
    });
}

/** Loads the embeddings of `view`'s classifier and draws them; resolves once drawn (or failed). */
export async function embeddings(ctx: PageContext, view: View, signal: AbortSignal): Promise<void> {
  const el = $('emb-charts');
  el.innerHTML = '';
  current = null;
  const box = $('emb-inspect');
  delete box.dataset.index;
  box.dataset.state = 'idle';
  box.innerHTML = '<p class="muted">Hover a point (or focus a chart and use the arrow keys) to see its sample.</p>';
  colourOptions(ctx, view);
  const sel = $('emb-colour') as HTMLSelectElement;
  if (!sel.dataset.bound) {
    sel.dataset.bound = 'on';
    sel.addEventListener('change', () => {
      draw().catch((e: unknown) => {
        if (current && !aborted(e) && !current.signal.aborted) ctx.fail($('emb-charts'), e, () => void draw());
      });
    });
  }
  try {
    const r = await getJson(ctx.api, '/v1/embeddings', { classifier: view.classifier }, ctx.opts(signal));
    if (signal.aborted) return;
    current = { ctx, view, signal, payload: r.payload as Payload };
    await draw();
  } catch (e) {
    if (aborted(e) || signal.aborted) return;
    ctx.fail(el, e, () => void embeddings(ctx, view, signal));
  }
}
