/**
 * The Faultlines dashboard: the whole analysis of the built-in default on one page (`/` for
 * browsers — requests that do not accept HTML still get the JSON index — and `/dashboard`). The page
 * is static; src/dashboard/main.ts fills it from the API (same origin).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http.js';
import { widgetsManifest } from './widgets.js';

export function dashboardHtml(widgetsUrl: string, dashboardUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faultlines dashboard</title>
<link rel="icon" href="data:,">
<link rel="modulepreload" href="${widgetsUrl}">
<style>
:root{--faultlines-accent:#3461c1;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;background:#f4f6fa}
header{background:#1d2433;color:#fff;padding:14px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{margin:0;font-size:20px}
header .meta{color:#b8c0cf;font-size:12px}
header label{color:#dfe4ee;font-size:13px}
header select{margin-left:6px}
main{padding:16px 24px;display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px;max-width:1600px}
section{background:#fff;border:1px solid #d8dde6;border-radius:10px;padding:14px 16px;min-width:0}
section.wide{grid-column:1/-1}
section h2{margin:0 0 4px;font-size:16px}
section p.note{margin:0 0 10px;color:#5b6475;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px}
.chart{position:relative;height:200px}
.chart.tall{height:300px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ef}
th{font-weight:500;color:#5b6475;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.fig5{display:grid;gap:6px;overflow-x:auto}
.fig5 .row{display:flex;gap:10px;align-items:center}
.fig5 .dim{width:110px;flex:none;font:12px ui-monospace,Menlo,monospace}
.fig5 img{image-rendering:pixelated;display:block}
.fig5 .p{display:flex;font:11px ui-monospace,Menlo,monospace;color:#5b6475}
.fig5 .p span{width:66px;text-align:center}
progress{width:160px}
.err{color:#8a1c1c;background:#fdecec;border:1px solid #f3b6b6;border-radius:6px;padding:8px 10px}
pre.curl{margin:4px 0 0;padding:6px 8px;white-space:pre-wrap;word-break:break-all;font:11px/1.4 ui-monospace,Menlo,monospace;background:#f4f6fa;border:1px solid #d8dde6;border-radius:6px}
faultlines-corner-cases,faultlines-ranking,faultlines-accuracy-curve,faultlines-traversal{border:none;padding:0}
</style>
<script type="module" src="${widgetsUrl}"></script>
<script type="module" src="${dashboardUrl}"></script>
</head><body>
<header><h1>Faultlines</h1><span class="meta" id="models">loading models…</span>
<label>classifier<select id="classifier"></select></label>
<label>class<select id="class">${Array.from({ length: 10 }, (_, k) => `<option value="${k}">${k}</option>`).join('')}</select></label>
<a href="/docs" style="color:#9fc0ff;font-size:13px">API docs</a></header>
<main>
<section class="wide" id="compare"><h2>Classifier comparison</h2><p class="note">Test accuracy of each classifier, its accuracy on the generated sweep, robustness (the accuracy of the samples in its accuracy-vs-distance curve's groups of at least 20, with a 95% bootstrap interval) and how well each latent space separates its mistakes (kNN AUROC).</p><div class="charts"><div class="chart tall"><canvas id="compare-chart"></canvas></div><div id="compare-table"></div></div></section>
<section id="ranking"><h2>Ranking</h2><p class="note">StyleSpace dims whose gradient moves p_true the most (global); thumbnails traverse each dim from the selected class's average.</p><div id="ranking-slot"></div></section>
<section id="histograms"><h2>Histograms (fig. 4)</h2><p class="note" id="hist-note">Values of the top-3 and 3 random dims for well- vs mis-classified samples.</p><div class="charts" id="hist-charts"></div></section>
<section class="wide" id="traversals"><h2>Traversals (fig. 5)</h2><p class="note">From the selected class's average style, the top 10 dims of its ranking, each moved in the direction that lowers p_true until the prediction leaves the class; frames at 0, ¼, ½, ¾, 1, … of that decision shift (of the p_true = 0.5 shift when the decision does not flip; p_true under each frame).</p><div class="fig5" id="fig5"></div><div style="margin-top:12px" id="traversal-slot"></div></section>
<section class="wide" id="corner"><h2>Corner cases (fig. 7)</h2><div id="corner-slot"></div></section>
<section id="curves"><h2>Accuracy curves (fig. 6)</h2><div id="curves-slot"></div></section>
<section id="embeddings"><h2>Embeddings in Z, W, S (fig. 3)</h2><p class="note">UMAP of the first samples of the sweep, coloured by class; misclassified samples are the dark crosses.</p><div class="charts" id="emb-charts"></div></section>
<section class="wide" id="jobs"><h2>Jobs</h2><p class="note">Sweeps submitted to the GPU runners (refreshes every 5 s while any is queued or running).</p><div id="jobs-table"></div></section>
</main>
<noscript><p style="padding:24px">The dashboard needs JavaScript. The API is documented at <a href="/docs">/docs</a>.</p></noscript>
</body></html>`;
}

export function registerDashboard(app: OpenAPIHono<AppEnv>): void {
  const page = async (c: { env: AppEnv['Bindings'] }) => {
    const m = await widgetsManifest(c.env);
    return new Response(dashboardHtml(m.widgets.hashed, m.dashboard.hashed), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
  };
  app.get('/dashboard', page);
  // `/`: browsers get the dashboard; API clients (no text/html in Accept) the JSON index (meta.ts).
  app.get('/', async (c, next) => {
    if ((c.req.header('accept') ?? '').includes('text/html')) {
      const res = await page(c);
      res.headers.set('vary', 'accept');
      return res;
    }
    await next();
    const res = new Response(c.res.body, c.res);
    res.headers.set('vary', 'accept');
    c.res = res;
  });
}
