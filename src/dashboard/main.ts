/**
 * The dashboard page's script (served at /dashboard/v1/dashboard.<hash>.js): fills the static page
 * of src/worker/routes/dashboard.ts from the same-origin API with the widgets and Chart.js that the
 * widgets module exports (the build rewrites this import to the widgets module's hashed URL).
 * When every section has drawn, it sets `data-ready` on <html> and `window.faultlinesReady` (ms
 * since navigation start) for the browser tests and `npm run bench:dashboard`.
 */
import { ARROW, ApiError, Chart, PALETTE, getJson, pct, submitCurl } from '../widgets/index.js';

const API = location.origin;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const charts = new Map<string, { destroy(): void }>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function chart(id: string, parent: HTMLElement, config: any, cls = 'chart'): void {
  charts.get(id)?.destroy();
  let box = parent.querySelector<HTMLElement>(`[data-chart="${id}"]`);
  if (!box) {
    box = document.createElement('div');
    box.className = cls;
    box.dataset.chart = id;
    box.append(document.createElement('canvas'));
    parent.append(box);
  }
  charts.set(id, new Chart(box.querySelector('canvas')!, { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } }));
}

/** An error in place of a section; a result not computed yet also gets the curl line that submits its job. */
function fail(el: HTMLElement, e: unknown): void {
  const how = e instanceof ApiError && e.submit ? `<p class="note">Not computed yet: a GPU runner computes it once this job is submitted with the submitter token (<code>SUBMIT_TOKEN</code>):</p><pre class="curl">${esc(submitCurl(API, e.submit))}</pre>` : '';
  // One block, also where `el` is a grid of charts.
  el.innerHTML = `<div><div class="err" role="alert">${esc((e as Error).message)}</div>${how}</div>`;
}

interface ClassifierInfo {
  name: string;
  label: string;
  metrics?: Record<string, unknown>;
  /** Registered classifiers (POST /v1/classifiers): `name` is their id, `displayName` the submitter's label. */
  source?: string;
  displayName?: string;
}

/** How a classifier is shown: a built-in one by name, a registered one by its label and short id. */
const shown = (c: ClassifierInfo) => (c.source === 'registered' ? `${c.displayName ?? 'registered'} (${c.name.slice(0, 8)}, registered)` : c.name);

async function comparison(classifiers: ClassifierInfo[]): Promise<void> {
  const rows = await Promise.all(
    classifiers.map(async (c) => {
      const [rank, curves, emb] = await Promise.all([
        getJson(API, '/v1/rankings', { classifier: c.name, top: 1 }).catch(() => null),
        getJson(API, '/v1/accuracy-curves', { classifier: c.name }).catch(() => null),
        getJson(API, '/v1/embeddings', { classifier: c.name }).catch(() => null),
      ]);
      const m = c.metrics ?? {};
      const knn = Object.fromEntries(((emb?.payload.spaces ?? []) as Array<{ space: string; knnAuroc: number }>).map((s) => [s.space, s.knnAuroc]));
      return {
        name: shown(c),
        clean: typeof m.accuracy_test_clean === 'number' ? m.accuracy_test_clean : null,
        corrupted: typeof m.accuracy_test_corrupted === 'number' ? m.accuracy_test_corrupted : null,
        sweep: rank?.accuracy ?? null,
        robustness: (curves?.payload.curves[0]?.robustness ?? null) as { score: number | null; ciLow: number | null; ciHigh: number | null } | null,
        knn,
      };
    }),
  );
  const f = (v: number | null) => (v === null ? '—' : pct(v));
  $('compare-table').innerHTML = `<table><thead><tr><th>classifier</th><th>clean test</th><th>corrupted test</th><th>generated sweep</th><th>robustness [95% CI]</th><th>kNN AUROC Z / W / S</th></tr></thead><tbody>${rows
    .map((r) => `<tr><td>${esc(r.name)}</td><td class="num">${f(r.clean)}</td><td class="num">${f(r.corrupted)}</td><td class="num">${f(r.sweep)}</td><td class="num">${r.robustness?.score == null ? '—' : `${r.robustness.score.toFixed(3)} <small>[${r.robustness.ciLow?.toFixed(3) ?? '—'}, ${r.robustness.ciHigh?.toFixed(3) ?? '—'}]</small>`}</td><td class="num">${['Z', 'W', 'S'].map((s) => (r.knn[s] === undefined ? '—' : r.knn[s].toFixed(2))).join(' / ')}</td></tr>`)
    .join('')}</tbody></table>`;
  const metrics = [
    ['clean test accuracy', (r: (typeof rows)[number]) => r.clean],
    ['corrupted test accuracy', (r: (typeof rows)[number]) => r.corrupted],
    ['accuracy on the generated sweep', (r: (typeof rows)[number]) => r.sweep],
    ['robustness (accuracy-curve score)', (r: (typeof rows)[number]) => r.robustness?.score ?? null],
  ] as const;
  chart('compare', $('compare-chart').parentElement!, {
    type: 'bar',
    data: { labels: metrics.map(([l]) => l), datasets: rows.map((r, i) => ({ label: r.name, data: metrics.map(([, g]) => g(r) ?? 0), backgroundColor: PALETTE[i % PALETTE.length] })) },
    options: { scales: { y: { min: 0, max: 1 } } },
  }, 'chart tall');
  $('compare-chart').remove();
}

async function histograms(classifier: string): Promise<void> {
  const el = $('hist-charts');
  try {
    const r = await getJson(API, '/v1/histograms', { classifier });
    const p = r.payload as { wellCount: number; misCount: number; meanKsTop: number; meanKsRandom: number; dims: Array<{ dim: number; group: string; rank: number | null; edges: number[]; well: number[]; mis: number[]; ks: number }> };
    $('hist-note').textContent = `Values of the top-3 and 3 random dims of S for ${p.wellCount} well- vs ${p.misCount} mis-classified samples (densities). Mean KS: top ${p.meanKsTop.toFixed(3)}, random ${p.meanKsRandom.toFixed(3)}.`;
    el.innerHTML = '';
    p.dims.forEach((d, i) => {
      const norm = (xs: number[]) => {
        const s = xs.reduce((a, b) => a + b, 0) || 1;
        return xs.map((x) => x / s);
      };
      const labels = d.well.map((_, b) => ((d.edges[b] + d.edges[b + 1]) / 2).toFixed(2));
      chart(`hist-${i}`, el, {
        type: 'bar',
        data: {
          labels,
          datasets: [
            { label: 'well', data: norm(d.well), backgroundColor: 'rgba(52,97,193,0.55)', barPercentage: 1, categoryPercentage: 1 },
            { label: 'mis', data: norm(d.mis), backgroundColor: 'rgba(217,72,15,0.55)', barPercentage: 1, categoryPercentage: 1 },
          ],
        },
        options: {
          plugins: { title: { display: true, text: `dim ${d.dim} (${d.group === 'top' ? `top ${d.rank}` : 'random'}), KS ${d.ks.toFixed(2)}` }, legend: { display: i === 0 } },
          scales: { x: { stacked: false, ticks: { maxTicksLimit: 5 } }, y: { ticks: { maxTicksLimit: 4 } } },
        },
      });
    });
  } catch (e) {
    fail(el, e);
  }
}

async function figure5(classifier: string, cls: number): Promise<void> {
  const el = $('fig5');
  try {
    const rank = await getJson(API, '/v1/rankings', { classifier, class: cls, top: 10 });
    const dims = rank.payload.dims as Array<{ index: number; direction: 'increase' | 'decrease'; layer: string; channel: number }>;
    const rows = await Promise.all(
      dims.map((d) =>
        getJson(API, '/v1/traversal', { classifier, class: cls, dim: d.index, mode: 'crossing', frames: 9, range: 20, scale: 2 })
          .then((t) => ({ d, t }))
          .catch((e: Error) => ({ d, t: null, e })),
      ),
    );
    const first = rows.find((r) => r.t)?.t;
    const header = first
      ? `<div class="row"><div class="dim">progress</div><div class="p">${(first.frames as unknown[]).map((_, i, a) => `<span>${((2 * i) / (a.length - 1)).toFixed(2)}</span>`).join('')}</div></div>`
      : '';
    el.innerHTML = header + rows
      .map(({ d, t }) =>
        t
          ? `<div class="row" data-dim="${d.index}"><div class="dim">dim ${d.index} ${ARROW[t.direction as 'increase' | 'decrease']}<br><span style="color:#5b6475">${esc(d.layer)}:${d.channel}</span><br>${t.flipped ? `→ ${t.decision.predicted} at ${Number(t.decisionShift).toFixed(2)} std` : t.outcome === 'already-misclassified' ? `misread at the start (${t.start.predicted})` : t.pTrueHalfShift !== null ? `p_true 0.5 at ${Number(t.pTrueHalfShift).toFixed(2)}, still ${cls}` : `still ${cls}`}</div><div><img src="${t.strip}" alt="traversal of dim ${d.index}"><div class="p">${(t.frames as Array<{ pTrue: number }>).map((f) => `<span>${f.pTrue.toFixed(2)}</span>`).join('')}</div></div></div>`
          : `<div class="row"><div class="dim">dim ${d.index}</div><div class="err">traversal failed</div></div>`,
      )
      .join('');
    const slot = $('traversal-slot');
    slot.innerHTML = '';
    if (dims[0]) {
      const w = document.createElement('faultlines-traversal');
      for (const [k, v] of Object.entries({ api: API, classifier, class: String(cls), dim: String(dims[0].index), range: '6' })) w.setAttribute(k, v);
      slot.append(w);
    }
  } catch (e) {
    fail(el, e);
  }
}

async function embeddings(classifier: string): Promise<void> {
  const el = $('emb-charts');
  try {
    const r = await getJson(API, '/v1/embeddings', { classifier });
    const p = r.payload as { labels: number[]; correct: number[]; spaces: Array<{ space: string; points: Array<[number, number]>; knnAuroc: number }> };
    el.innerHTML = '';
    for (const s of p.spaces) {
      const byClass = Array.from({ length: 10 }, (_, k) => ({
        label: String(k),
        data: s.points.filter((_, i) => p.labels[i] === k && p.correct[i]).map(([x, y]) => ({ x, y })),
        backgroundColor: `${PALETTE[k]}99`,
        pointRadius: 2,
      }));
      const mis = { label: 'misclassified', data: s.points.filter((_, i) => !p.correct[i]).map(([x, y]) => ({ x, y })), backgroundColor: '#111', borderColor: '#111', pointStyle: 'crossRot' as const, pointRadius: 3 };
      chart(`emb-${s.space}`, el, {
        type: 'scatter',
        data: { datasets: [...byClass, mis] },
        options: {
          plugins: { title: { display: true, text: `${s.space} (kNN AUROC ${s.knnAuroc.toFixed(2)})` }, legend: { display: false } },
          scales: { x: { display: false }, y: { display: false } },
        },
      }, 'chart tall');
    }
  } catch (e) {
    fail(el, e);
  }
}

let jobsTimer: ReturnType<typeof setTimeout> | null = null;
async function jobs(): Promise<void> {
  const el = $('jobs-table');
  try {
    const r = await getJson(API, '/v1/jobs', { limit: 20 });
    const list = r.jobs as Array<{ id: string; kind: string; status: string; progress: { done: number; total: number }; spec?: { classifier?: string; seed?: number; count?: number }; updatedAt?: number | string; createdAt?: number | string; runners?: { note: string | null } }>;
    el.innerHTML = list.length
      ? `<table><thead><tr><th>job</th><th>kind</th><th>classifier</th><th>sweep</th><th>status</th><th>progress</th></tr></thead><tbody>${list
          .map(
            (j) =>
              `<tr data-job="${esc(j.id)}" data-status="${esc(j.status)}"><td class="mono" title="${esc(j.id)}">${esc(j.id.slice(0, 8))}</td><td>${esc(j.kind)}</td><td>${esc(j.spec?.classifier ?? '')}</td><td>${j.spec ? `seed ${j.spec.seed}, ${j.spec.count} samples` : ''}</td><td>${esc(j.status)}${j.runners?.note ? `<br><span class="note" data-runner-note>${esc(j.runners.note)}</span>` : ''}</td><td><progress max="${j.progress.total || 1}" value="${j.progress.done}"></progress> ${j.progress.total ? pct(j.progress.done / j.progress.total) : ''}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '<p class="note">No jobs yet. Submit one with <code>POST /v1/jobs</code>; the built-in results are precomputed.</p>';
    if (list.some((j) => j.status === 'queued' || j.status === 'running')) {
      if (jobsTimer) clearTimeout(jobsTimer);
      jobsTimer = setTimeout(() => void jobs(), 5000);
    }
  } catch (e) {
    fail(el, e);
  }
}

function widget(slot: string, tag: string, attrs: Record<string, string>): Promise<void> {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries({ api: API, ...attrs })) el.setAttribute(k, v);
  const done = new Promise<void>((resolve) => {
    el.addEventListener('faultlines-ready', () => resolve(), { once: true });
    el.addEventListener('faultlines-error', () => resolve(), { once: true });
  });
  $(slot).replaceChildren(el);
  return done;
}

async function render(classifier: string, cls: number): Promise<void> {
  await Promise.all([
    widget('ranking-slot', 'faultlines-ranking', { classifier, top: '10', 'thumb-class': String(cls) }),
    widget('corner-slot', 'faultlines-corner-cases', { classifier }),
    widget('curves-slot', 'faultlines-accuracy-curve', { classifier }),
    histograms(classifier),
    embeddings(classifier),
    figure5(classifier, cls),
  ]);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const sel = $<HTMLSelectElement>('classifier');
  const clsSel = $<HTMLSelectElement>('class');
  let classifiers: ClassifierInfo[] = [];
  try {
    const [cl, models] = await Promise.all([getJson(API, '/v1/classifiers'), getJson(API, '/v1/models')]);
    classifiers = cl.classifiers;
    // `/?classifier=<name or registered id>` opens the dashboard on that classifier.
    const wanted = new URLSearchParams(location.search).get('classifier');
    const selected = classifiers.some((c) => c.name === wanted) ? wanted : cl.defaultClassifier;
    sel.innerHTML = classifiers.map((c) => `<option value="${esc(c.name)}"${c.name === selected ? ' selected' : ''} title="${esc(c.label)}">${esc(shown(c))}</option>`).join('');
    const g = (models.models as Array<{ kind: string; name: string; label: string }>).find((m) => m.kind === 'generator');
    const registered = classifiers.filter((c) => c.source === 'registered').length;
    $('models').textContent = `generator: ${g ? `${g.name} — ${g.label}` : 'none'}; ${classifiers.length} classifiers${registered ? ` (${registered} registered)` : ''}`;
  } catch (e) {
    fail($('models'), e);
  }
  await Promise.all([comparison(classifiers), render(sel.value, Number(clsSel.value)), jobs()]);
  const ready = performance.now();
  (window as unknown as { faultlinesReady: number; faultlinesScriptStart: number }).faultlinesReady = ready;
  (window as unknown as { faultlinesScriptStart: number }).faultlinesScriptStart = t0;
  document.documentElement.dataset.ready = 'true';
  const rerender = () => {
    document.documentElement.dataset.ready = 'false';
    void render(sel.value, Number(clsSel.value)).then(() => (document.documentElement.dataset.ready = 'true'));
  };
  sel.addEventListener('change', rerender);
  clsSel.addEventListener('change', rerender);
}

void main();
