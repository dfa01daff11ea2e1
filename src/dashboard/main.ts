/**
 * The dashboard page's script (served at /dashboard/v1/dashboard.<hash>.js): fills the static page
 * of src/worker/routes/dashboard.ts from the same-origin API with the widgets and Chart.js that the
 * widgets module exports (the build rewrites this import to the widgets module's hashed URL).
 *
 * The view (classifier, class, dim, compare, vs) lives in the URL: a reload or a shared link restores
 * it, and every change is a history entry (back/forward restore the previous view). Each selection
 * has its own AbortController: choosing another classifier or class aborts every request of the
 * previous one, and nothing that finishes for an old selection is drawn. Clicking a ranked dim, a
 * figure-5 row, a corner case or an embedding point opens the traversal slider on that (class, dim).
 *
 * When every section of the current selection has drawn (the slider included), it sets `data-ready`
 * on <html> and `window.faultlinesReady` (ms since navigation start) for the browser tests and
 * `npm run bench:dashboard`; `window.faultlinesCharts` holds the Chart.js charts it drew, by id.
 * `?timeout=<s>` sets how long each request may take before the page reports it (default 30 s).
 * Panels with a module of their own (the page's helpers passed as a PageContext): side-by-side.ts
 * (two classifiers on the slider's direction), embeddings.ts, export.ts (PNG and widget snippets),
 * explain-panel.ts (a real image explained through POST /v1/explain).
 */
import { ARROW, ApiError, Chart, PALETTE, getJson, pct, submitCurl, type RequestOptions } from '../widgets/index.js';
import { aborted, esc, type ClassifierInfo, type PageContext, type View } from './context.js';
import type { DomainsResponse } from '../protocol/domains.js';
import { embeddings } from './embeddings.js';
import { panelTools } from './export.js';
import { sideBySide, sideBySideAgain } from './side-by-side.js';
import { directionsPanel } from './directions-panel.js';
import { explainPanel } from './explain-panel.js';

const API = location.origin;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const charts = new Map<string, Chart>();
(window as unknown as { faultlinesCharts: Map<string, Chart> }).faultlinesCharts = charts;

/** Chart text darker than Chart.js's #666, for 4.5:1 on the white sections. */
Chart.defaults.color = '#4a5263';

const TIMEOUT_S = Number(new URLSearchParams(location.search).get('timeout'));
const TIMEOUT_MS = Number.isFinite(TIMEOUT_S) && TIMEOUT_S > 0 ? TIMEOUT_S * 1000 : undefined;
/**
 * The page's image domain (`?domain=`, GET /v1/domains): read once; choosing another loads the page
 * for it (every section, list and class name is the domain's). The default one is left out of URLs.
 * An unknown one is refused by the API (400 naming `domain`), shown in the sections.
 */
const DOMAIN = new URLSearchParams(location.search).get('domain');
/** The page's requests and widgets name the domain when the URL does (none: the API's default). */
const inDomain = (): Record<string, string> => (DOMAIN ? { domain: DOMAIN } : {});
const opts = (signal?: AbortSignal): RequestOptions => ({ signal, timeoutMs: TIMEOUT_MS, params: inDomain() });

// biome-ignore lint/suspicious/noExplicitAny: Chart.js configurations of several chart types pass through here unchanged.
function chart(id: string, parent: HTMLElement, config: any, label: string, cls = 'chart'): void {
  charts.get(id)?.destroy();
  let box = parent.querySelector<HTMLElement>(`[data-chart="${id}"]`);
  if (!box) {
    box = document.createElement('div');
    box.className = cls;
    box.dataset.chart = id;
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    box.append(canvas);
    parent.append(box);
  }
  const canvas = box.querySelector('canvas')!;
  // The chart's text alternative: its key numbers in words.
  canvas.setAttribute('aria-label', label);
  charts.set(
    id,
    new Chart(canvas, { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } }),
  );
}

/**
 * An error in place of a section, with a Retry when the section can be loaded again; a result not
 * computed yet also gets the curl line that submits its job.
 */
function fail(el: HTMLElement, e: unknown, retry?: () => void): void {
  const how =
    e instanceof ApiError && e.submit
      ? `<p class="note">Not computed yet: a GPU runner computes it once this job is submitted with the ` +
        `submitter token (<code>SUBMIT_TOKEN</code>):</p><pre class="curl">${esc(submitCurl(API, e.submit))}</pre>`
      : '';
  // One block, also where `el` is a grid of charts.
  el.innerHTML =
    `<div><div class="err" role="alert">${esc((e as Error).message)}` +
    `${retry ? ' <button type="button" class="retry">Retry</button>' : ''}</div>${how}</div>`;
  if (retry) el.querySelector<HTMLButtonElement>('button.retry')!.addEventListener('click', retry, { once: true });
}

/** How a classifier is shown: a built-in one by name, a registered one by its label and short id. */
const shown = (c: ClassifierInfo) =>
  c.source === 'registered' ? `${c.displayName ?? 'registered'} (${c.name.slice(0, 8)}, registered)` : c.name;

let classifiers: ClassifierInfo[] = [];
/** Why the classifier list could not be read (the comparison then says so). */
let classifiersError: unknown = null;

async function comparison(): Promise<void> {
  const el = $('compare-body');
  if (classifiersError || classifiers.length === 0) {
    // Without the list no section could load: a retry reloads the page.
    fail(el, classifiersError ?? new Error('No classifiers to compare.'), () => location.reload());
    return;
  }
  let firstError: unknown = null;
  const get = (path: string, params: Record<string, string | number>) =>
    getJson(API, path, params, opts()).catch((e: unknown) => {
      firstError ??= e;
      return null;
    });
  const rows = await Promise.all(
    classifiers.map(async (c) => {
      const [rank, curves, emb] = await Promise.all([
        get('/v1/rankings', { classifier: c.name, top: 1 }),
        get('/v1/accuracy-curves', { classifier: c.name }),
        get('/v1/embeddings', { classifier: c.name }),
      ]);
      const m = c.metrics ?? {};
      const knn = Object.fromEntries(
        ((emb?.payload.spaces ?? []) as Array<{ space: string; knnAuroc: number }>).map((s) => [s.space, s.knnAuroc]),
      );
      return {
        name: shown(c),
        answered: rank !== null || curves !== null || emb !== null,
        clean: typeof m.accuracy_test_clean === 'number' ? m.accuracy_test_clean : null,
        corrupted: typeof m.accuracy_test_corrupted === 'number' ? m.accuracy_test_corrupted : null,
        sweep: (rank?.accuracy ?? null) as number | null,
        robustness: (curves?.payload.curves[0]?.robustness ?? null) as {
          score: number | null;
          ciLow: number | null;
          ciHigh: number | null;
        } | null,
        knn,
      };
    }),
  );
  // Nothing answered: an error, not an empty chart.
  if (!rows.some((r) => r.answered)) {
    fail(el, firstError, () => void comparison());
    return;
  }
  el.innerHTML = '<div class="chart tall" id="compare-chart-box"></div><div class="scroll" id="compare-table"></div>';
  const f = (v: number | null) => (v === null ? '—' : pct(v));
  $('compare-table').innerHTML =
    `<table><thead><tr><th scope="col">classifier</th><th scope="col">clean test</th><th scope="col">corrupted test</th><th ` +
    `scope="col">generated sweep</th><th scope="col">robustness [95% CI]</th><th scope="col">kNN AUROC Z / W / S</th></tr></thead><tbody>${rows
      .map(
        (r) =>
          `<tr><td>${esc(r.name)}</td><td class="num">${f(r.clean)}</td><td class="num">${f(r.corrupted)}</td><td class="num">${f(r.sweep)}</td><td ` +
          `class="num">${
            r.robustness?.score == null
              ? '—'
              : `${r.robustness.score.toFixed(3)} <small>[` +
                `${r.robustness.ciLow?.toFixed(3) ?? '—'}, ${r.robustness.ciHigh?.toFixed(3) ?? '—'}]</small>`
          }</td><td ` +
          `class="num">${['Z', 'W', 'S'].map((s) => (r.knn[s] === undefined ? '—' : r.knn[s].toFixed(2))).join(' / ')}</td></tr>`,
      )
      .join('')}</tbody></table>`;
  const metrics = [
    ['clean test accuracy', (r: (typeof rows)[number]) => r.clean],
    ['corrupted test accuracy', (r: (typeof rows)[number]) => r.corrupted],
    ['accuracy on the generated sweep', (r: (typeof rows)[number]) => r.sweep],
    ['robustness (accuracy-curve score)', (r: (typeof rows)[number]) => r.robustness?.score ?? null],
  ] as const;
  const label =
    `Bar chart of the table beside it: ` +
    `${rows.map((r) => `${r.name}: ${metrics.map(([l, g]) => `${l} ${g(r) === null ? 'missing' : (g(r) as number).toFixed(3)}`).join(', ')}`).join('; ')}`;
  chart(
    'compare',
    $('compare-chart-box'),
    {
      type: 'bar',
      // A missing metric is no bar (null), as the table's "—", never a bar at 0.
      data: {
        labels: metrics.map(([l]) => l),
        datasets: rows.map((r, i) => ({
          label: r.name,
          data: metrics.map(([, g]) => g(r)),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        scales: { y: { min: 0, max: 1, title: { display: true, text: 'accuracy / robustness score (0-1)' } } },
      },
    },
    label,
    'chart tall',
  );
}

async function histograms(view: View, signal: AbortSignal): Promise<void> {
  const el = $('hist-charts');
  const note = $('hist-note');
  // Nothing of the previous selection stays while this one loads or if it fails.
  note.textContent = `Loading the histograms of ${view.classifier}…`;
  el.innerHTML = '';
  try {
    const r = await getJson(API, '/v1/histograms', { classifier: view.classifier }, opts(signal));
    if (signal.aborted) return;
    const p = r.payload as {
      wellCount: number;
      misCount: number;
      meanKsTop: number;
      meanKsRandom: number;
      dims: Array<{
        dim: number;
        group: string;
        rank: number | null;
        edges: number[];
        well: number[];
        mis: number[];
        ks: number;
      }>;
    };
    note.textContent =
      `Values of the top-3 and 3 random dims of S for ${p.wellCount} well- vs ${p.misCount} mis-classified samples of ` +
      `${view.classifier} (each bar: the share of its group in that bin). Mean KS: top ${p.meanKsTop.toFixed(3)}, random ${p.meanKsRandom.toFixed(3)}.`;
    p.dims.forEach((d, i) => {
      const share = (xs: number[]) => {
        const s = xs.reduce((a, b) => a + b, 0) || 1;
        return xs.map((x) => x / s);
      };
      const labels = d.well.map((_, b) => ((d.edges[b] + d.edges[b + 1]) / 2).toFixed(2));
      const title = `dim ${d.dim} (${d.group === 'top' ? `top ${d.rank}` : 'random'}), KS ${d.ks.toFixed(2)}`;
      chart(
        `hist-${i}`,
        el,
        {
          type: 'bar',
          data: {
            labels,
            datasets: [
              {
                label: 'well',
                data: share(d.well),
                backgroundColor: 'rgba(52,97,193,0.55)',
                barPercentage: 1,
                categoryPercentage: 1,
              },
              {
                label: 'mis',
                data: share(d.mis),
                backgroundColor: 'rgba(217,72,15,0.55)',
                barPercentage: 1,
                categoryPercentage: 1,
              },
            ],
          },
          options: {
            plugins: { title: { display: true, text: title }, legend: { display: i === 0 } },
            scales: {
              x: { stacked: false, ticks: { maxTicksLimit: 5 }, title: { display: true, text: `s_${d.dim}` } },
              y: { ticks: { maxTicksLimit: 4 }, title: { display: true, text: 'share of group' } },
            },
          },
        },
        `Histogram of ${title}: well-classified (${p.wellCount}) vs misclassified (${p.misCount}) samples, share per bin.`,
      );
    });
  } catch (e) {
    if (aborted(e) || signal.aborted) return;
    note.textContent = 'Values of the top-3 and 3 random dims for well- vs mis-classified samples.';
    fail(el, e, () => void histograms(view, signal));
  }
}

type Traversal = {
  direction: 'increase' | 'decrease';
  flipped: boolean;
  outcome: string;
  decision: { predicted: number };
  decisionShift: number;
  pTrueHalfShift: number | null;
  start: { predicted: number };
  strip: string;
  frames: Array<{ pTrue: number }>;
};
type RankedDim = { index: number; direction: 'increase' | 'decrease'; layer: string; channel: number };

/** One figure-5 row: the live traversal of `d`, or why it failed and a retry. */
async function figure5Row(row: HTMLElement, view: View, d: RankedDim, signal: AbortSignal): Promise<void> {
  const label =
    `<button type="button" class="pick" data-dim="${d.index}" aria-label="open the traversal of dim ` +
    `${d.index}">dim ${d.index}</button> ${ARROW[d.direction]}<br><span class="muted">${esc(d.layer)}:${d.channel}</span>`;
  row.innerHTML = `<div class="dim">${label}</div><div class="muted">computing…</div>`;
  try {
    const t = (await getJson(
      API,
      '/v1/traversal',
      { classifier: view.classifier, class: view.cls, dim: d.index, mode: 'crossing', frames: 9, range: 20, scale: 2 },
      opts(signal),
    )) as Traversal;
    if (signal.aborted) return;
    const cls = view.cls;
    const what = t.flipped
      ? `→ ${t.decision.predicted} at ${Number(t.decisionShift).toFixed(2)} std`
      : t.outcome === 'already-misclassified'
        ? `misread at the start (${t.start.predicted})`
        : t.pTrueHalfShift !== null
          ? `p_true 0.5 at ${Number(t.pTrueHalfShift).toFixed(2)}, still ${cls}`
          : `still ${cls}`;
    const ps = t.frames.map((f) => f.pTrue.toFixed(2));
    row.innerHTML =
      `<div class="dim">${label}<br>${what}</div><div><img src="${t.strip}" alt="traversal of dim ${d.index} from the class ` +
      `${cls} average: ${esc(what)}; p_true ${ps.join(', ')}"><div class="p" aria-hidden="true">${ps.map((p) => `<span>${p}</span>`).join('')}</div></div>`;
    row.dataset.state = 'ready';
  } catch (e) {
    if (aborted(e) || signal.aborted) return;
    row.dataset.state = 'error';
    row.innerHTML =
      `<div class="dim">${label}</div><div class="err" role="alert">` +
      `${esc((e as Error).message)} <button type="button" class="retry">Retry</button></div>`;
    row
      .querySelector<HTMLButtonElement>('button.retry')!
      .addEventListener('click', () => void figure5Row(row, view, d, signal), { once: true });
  }
}

/** The figure-5 grid, then the slider on the view's dim (default: the class's top dim). */
async function figure5(view: View, signal: AbortSignal): Promise<void> {
  const el = $('fig5');
  el.innerHTML = '<p class="muted">Loading the ranking…</p>';
  $('traversal-slot').replaceChildren();
  try {
    const rank = await getJson(
      API,
      '/v1/rankings',
      { classifier: view.classifier, class: view.cls, top: 10 },
      opts(signal),
    );
    if (signal.aborted) return;
    const dims = rank.payload.dims as RankedDim[];
    el.innerHTML =
      `<div class="row" aria-hidden="true"><div class="dim">progress</div><div class="p">` +
      `${Array.from({ length: 9 }, (_, i) => `<span>${(i / 4).toFixed(2)}</span>`).join('')}</div></div>`;
    const rows = dims.map((d) => {
      const row = document.createElement('div');
      row.className = 'row';
      row.dataset.dim = String(d.index);
      el.append(row);
      return figure5Row(row, view, d, signal);
    });
    const dim = view.dim ?? dims[0]?.index ?? null;
    markDim(dim);
    await Promise.all([...rows, dim === null ? Promise.resolve() : slider(view, dim, signal)]);
  } catch (e) {
    if (aborted(e) || signal.aborted) return;
    fail(el, e, () => void figure5(view, signal));
  }
}

/** The traversal slider on `dim`; resolves once it has drawn its first frame (or failed). */
function slider(view: View, dim: number, signal: AbortSignal): Promise<void> {
  ($('dim') as HTMLInputElement).value = String(dim);
  $('slider-heading').textContent = `Slider: dim ${dim} from the class ${view.cls} average`;
  return Promise.all([
    widget(
      'traversal-slot',
      'faultlines-traversal',
      { classifier: view.classifier, class: String(view.cls), dim: String(dim), range: '6' },
      signal,
    ),
    // The same (class, dim) for two classifiers side by side.
    sideBySide(ctx, view, dim, signal),
  ]).then(() => undefined);
}

function markDim(dim: number | null): void {
  for (const r of Array.from(document.querySelectorAll<HTMLElement>('#fig5 .row[data-dim]')))
    r.classList.toggle('selected', Number(r.dataset.dim) === dim);
}

let jobsTimer: ReturnType<typeof setTimeout> | null = null;
async function jobs(): Promise<void> {
  const el = $('jobs-table');
  try {
    const r = await getJson(API, '/v1/jobs', { limit: 20 }, opts());
    const list = r.jobs as Array<{
      id: string;
      kind: string;
      status: string;
      progress: { done: number; total: number };
      spec?: { classifier?: string; seed?: number; count?: number };
      runners?: { note: string | null };
    }>;
    el.innerHTML = list.length
      ? `<div class="scroll"><table><thead><tr><th scope="col">job</th><th scope="col">kind</th><th scope="col">classifier</th><th ` +
        `scope="col">sweep</th><th scope="col">status</th><th scope="col">progress</th></tr></thead><tbody>${list
          .map(
            (j) =>
              `<tr data-job="${esc(j.id)}" data-status="${esc(j.status)}"><td class="mono" title="${esc(j.id)}">${esc(j.id.slice(0, 8))}</td><td>` +
              `${esc(j.kind)}</td><td>${esc(j.spec?.classifier ?? '')}</td><td>${j.spec ? `seed ${j.spec.seed}, ${j.spec.count} samples` : ''}</td><td>` +
              `${esc(j.status)}${j.runners?.note ? `<br><span class="note" data-runner-note>${esc(j.runners.note)}</span>` : ''}</td><td><progress max="` +
              `${j.progress.total || 1}" value="${j.progress.done}" aria-label="job ${esc(j.id.slice(0, 8))} progress"></progress> ` +
              `${j.progress.total ? pct(j.progress.done / j.progress.total) : ''}</td></tr>`,
          )
          .join('')}</tbody></table></div>`
      : '<p class="note">No jobs yet. Submit one with <code>POST /v1/jobs</code>; the built-in results are precomputed.</p>';
    if (list.some((j) => j.status === 'queued' || j.status === 'running')) {
      if (jobsTimer) clearTimeout(jobsTimer);
      jobsTimer = setTimeout(() => void jobs(), 5000);
    }
  } catch (e) {
    fail(el, e, () => void jobs());
  }
}

/** Puts a widget in `slot`; resolves when it is ready or failed, or when the selection is left. */
function widget(slot: string, tag: string, attrs: Record<string, string>, signal: AbortSignal): Promise<void> {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries({
    api: API,
    ...inDomain(),
    ...attrs,
    ...(TIMEOUT_MS ? { timeout: String(TIMEOUT_MS / 1000) } : {}),
  }))
    el.setAttribute(k, v);
  const done = new Promise<void>((resolve) => {
    el.addEventListener('faultlines-ready', () => resolve(), { once: true });
    el.addEventListener('faultlines-error', () => resolve(), { once: true });
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  $(slot).replaceChildren(el);
  return done;
}

// --- the view, the URL and the selection ---

let view: View = { classifier: '', cls: 0, dim: null, compare: '', vs: '' };
let selection: AbortController | null = null;
/** The selection whose sections have drawn (data-ready is set for it). */
let drawnFor: AbortController | null = null;

function viewFromUrl(): View {
  const q = new URLSearchParams(location.search);
  const known = (name: string | null) => (name !== null && classifiers.some((c) => c.name === name) ? name : null);
  const int = (v: string | null, max: number) => (v !== null && /^\d+$/.test(v) && Number(v) <= max ? Number(v) : null);
  const compare = q.get('compare');
  const vs = q.get('vs');
  return {
    classifier: known(q.get('classifier')) ?? defaultClassifier,
    cls: int(q.get('class'), 9) ?? 0,
    dim: int(q.get('dim'), 1_000_000),
    compare: compare === 'none' || known(compare) ? compare! : '',
    vs: vs === 'none' || known(vs) ? vs! : '',
  };
}

function urlOf(v: View): string {
  const q = new URLSearchParams(location.search);
  q.set('classifier', v.classifier);
  q.set('class', String(v.cls));
  if (v.dim === null) q.delete('dim');
  else q.set('dim', String(v.dim));
  if (v.compare === '') q.delete('compare');
  else q.set('compare', v.compare);
  if (v.vs === '') q.delete('vs');
  else q.set('vs', v.vs);
  return `${location.pathname}?${q}`;
}

function showControls(v: View): void {
  $<HTMLSelectElement>('classifier').value = v.classifier;
  $<HTMLSelectElement>('class').value = String(v.cls);
  $<HTMLSelectElement>('compare-with').value = v.compare;
}

function setReady(ready: boolean): void {
  document.documentElement.dataset.ready = String(ready);
  if (ready) (window as unknown as { faultlinesReady: number }).faultlinesReady ??= performance.now();
}

/** Draws every section of `v` for a new selection (the previous one is aborted). */
async function renderAll(v: View): Promise<void> {
  selection?.abort();
  const c = new AbortController();
  selection = c;
  setReady(false);
  $('selection').textContent = `${v.classifier}, class ${v.cls}`;
  // Per-panel export: the flat tables of the same results (src/worker/routes/tables.ts).
  $<HTMLAnchorElement>('ranking-csv').href =
    `/v1/rankings/rows?${new URLSearchParams({ ...inDomain(), classifier: v.classifier, top: '50', format: 'csv' })}`;
  $<HTMLAnchorElement>('curves-csv').href =
    `/v1/accuracy-curves/rows?${new URLSearchParams({ ...inDomain(), classifier: v.classifier, format: 'csv' })}`;
  await Promise.all([
    widget(
      'ranking-slot',
      'faultlines-ranking',
      { classifier: v.classifier, top: '10', 'thumb-class': String(v.cls) },
      c.signal,
    ),
    widget('corner-slot', 'faultlines-corner-cases', { classifier: v.classifier }, c.signal),
    widget('curves-slot', 'faultlines-accuracy-curve', { classifier: v.classifier, compare: v.compare }, c.signal),
    directionsPanel(widget, v, c.signal),
    histograms(v, c.signal),
    embeddings(ctx, v, c.signal),
    figure5(v, c.signal),
  ]);
  if (c.signal.aborted) return;
  drawnFor = c;
  setReady(true);
}

/** Only the slider moves to another dim (same classifier and class): the other sections stay. */
async function openDim(v: View): Promise<void> {
  const c = selection!;
  if (v.dim === null || drawnFor !== c) {
    await renderAll(v);
    return;
  }
  setReady(false);
  markDim(v.dim);
  await slider(v, v.dim, c.signal);
  if (view === v && !c.signal.aborted) setReady(true);
}

/** Changes the view: records it in the history (unless restoring one) and redraws what depends on what changed. */
function select(change: Partial<View>, history: 'push' | 'none' = 'push'): void {
  const prev = view;
  const next: View = { ...view, ...change };
  view = next;
  showControls(next);
  if (history === 'push' && urlOf(next) !== `${location.pathname}${location.search}`)
    window.history.pushState(null, '', urlOf(next));
  if (
    next.classifier !== prev.classifier ||
    next.cls !== prev.cls ||
    next.compare !== prev.compare ||
    drawnFor === null
  )
    void renderAll(next);
  else if (next.dim !== prev.dim) {
    if (next.dim !== null) $('traversals').scrollIntoView({ block: 'start' });
    void openDim(next);
  } else if (next.vs !== prev.vs) void otherClassifier(next);
}

/** Only the classifier beside this one changed: the side-by-side panel alone is drawn again. */
async function otherClassifier(v: View): Promise<void> {
  const c = selection!;
  if (drawnFor !== c) return;
  setReady(false);
  await sideBySideAgain(v);
  if (view === v && !c.signal.aborted) setReady(true);
}

let defaultClassifier = '';

/** What the panel modules (embeddings, side by side) use of the page. */
const ctx: PageContext = {
  api: API,
  opts,
  chart,
  charts,
  fail,
  select: (change) => select(change),
  classifiers: () => classifiers,
  shown,
};

/**
 * The domain picker and the class names: GET /v1/domains fills the picker (the page's domain
 * selected) and names the classes of the class selects (Fashion-MNIST's "3 Dress"; digits stay
 * digits). Choosing another domain loads the page for it, without the other domain's view.
 */
let defaultDomain = '';

async function loadDomains(): Promise<void> {
  const sel = $<HTMLSelectElement>('domain');
  try {
    const d = (await getJson(API, '/v1/domains', {}, { timeoutMs: TIMEOUT_MS })) as DomainsResponse;
    const current = DOMAIN ?? d.defaultDomain;
    defaultDomain = d.defaultDomain;
    sel.innerHTML = d.domains
      .map(
        (x) =>
          `<option value="${esc(x.name)}"${x.name === current ? ' selected' : ''}>${esc(x.title)}` +
          `${x.generator ? '' : ' (no generator yet)'}</option>`,
      )
      .join('');
    const classes = d.domains.find((x) => x.name === current)?.classes;
    if (classes)
      for (const id of ['class', 'explain-label'])
        $<HTMLSelectElement>(id).innerHTML = classes
          .map((name, k) => `<option value="${k}">${name === String(k) ? k : `${k} ${esc(name)}`}</option>`)
          .join('');
  } catch (e) {
    fail($('models'), e);
  }
  sel.addEventListener('change', () => {
    const q = new URLSearchParams(TIMEOUT_MS ? { timeout: String(TIMEOUT_MS / 1000) } : {});
    if (sel.value !== defaultDomain) q.set('domain', sel.value);
    location.assign(`${location.pathname}${q.size ? `?${q}` : ''}`);
  });
}

async function loadClassifiers(): Promise<void> {
  const sel = $<HTMLSelectElement>('classifier');
  const cmp = $<HTMLSelectElement>('compare-with');
  try {
    const [cl, models] = await Promise.all([
      getJson(API, '/v1/classifiers', {}, opts()),
      getJson(API, '/v1/models', {}, opts()),
    ]);
    classifiers = cl.classifiers;
    classifiersError = null;
    defaultClassifier = cl.defaultClassifier;
    sel.innerHTML = classifiers
      .map((c) => `<option value="${esc(c.name)}" title="${esc(c.label)}">${esc(shown(c))}</option>`)
      .join('');
    cmp.innerHTML =
      `<option value="">every classifier</option><option value="none">none</option>` +
      `${classifiers.map((c) => `<option value="${esc(c.name)}">${esc(shown(c))}</option>`).join('')}`;
    const g = (models.models as Array<{ kind: string; name: string; label: string }>).find(
      (m) => m.kind === 'generator',
    );
    const registered = classifiers.filter((c) => c.source === 'registered').length;
    $('models').textContent =
      `generator: ${g ? `${g.name} — ${g.label}` : 'none'}; ${classifiers.length} classifiers${registered ? ` (${registered} registered)` : ''}`;
  } catch (e) {
    classifiersError = e;
    fail($('models'), e);
  }
}

async function main(): Promise<void> {
  (window as unknown as { faultlinesScriptStart: number }).faultlinesScriptStart = performance.now();
  panelTools(
    API,
    (panel) =>
      `faultlines-${panel}-${view.classifier}-class${view.cls}${view.dim === null ? '' : `-dim${view.dim}`}.png`,
  );
  explainPanel(API, () => ({ classifier: view.classifier, ...inDomain() }));
  await Promise.all([loadDomains(), loadClassifiers()]);
  view = viewFromUrl();
  showControls(view);
  window.history.replaceState(null, '', urlOf(view));
  $<HTMLSelectElement>('classifier').addEventListener('change', (e) =>
    select({ classifier: (e.target as HTMLSelectElement).value, dim: null }),
  );
  $<HTMLSelectElement>('class').addEventListener('change', (e) =>
    select({ cls: Number((e.target as HTMLSelectElement).value), dim: null }),
  );
  $<HTMLSelectElement>('compare-with').addEventListener('change', (e) =>
    select({ compare: (e.target as HTMLSelectElement).value }),
  );
  $('dim-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = ($('dim') as HTMLInputElement).valueAsNumber;
    if (Number.isInteger(v) && v >= 0) select({ dim: v });
  });
  // Drill-down: the ranking and corner-case widgets fire faultlines-select; figure-5 rows are buttons.
  document.addEventListener('faultlines-select', (e) => {
    const d = (e as CustomEvent<{ dim: number; class?: number }>).detail;
    select({ dim: d.dim, ...(d.class !== undefined ? { cls: d.class } : {}) });
  });
  $('fig5').addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button.pick');
    if (b) select({ dim: Number(b.dataset.dim) });
  });
  window.addEventListener('popstate', () => select(viewFromUrl(), 'none'));
  if (classifiers.length === 0) {
    // No classifier list: the sections cannot load; the comparison says why and offers a retry.
    await comparison();
    setReady(true);
    return;
  }
  await Promise.all([comparison(), renderAll(view), jobs()]);
}

void main();
