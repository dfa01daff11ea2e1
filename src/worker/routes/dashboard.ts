/**
 * The Faultlines dashboard: the whole analysis of the built-in default on one page (`/` for
 * browsers — requests that do not accept HTML still get the JSON index — and `/dashboard`). The page
 * is static; src/dashboard/main.ts fills it from the API (same origin).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http.js';
import { widgetsManifest } from '../services/widgets-manifest.js';

/** The method's paper (Le Coz, Herbin, Adjed), found by its title: no identifier is stored in this repository. */
const METHOD_URL =
  'https://arxiv.org/search/?searchtype=title&query=Leveraging+generative+models+to+characterize+the+failure+conditions+of+image+classifiers';

/** Per-section help, for readers who have not read the paper: what the numbers mean. */
const HELP: Record<string, string> = {
  directions:
    '<p><b>Label</b>: computed, never written by hand: the image factor whose change along the dim is largest (in stds of the factor over ' +
    "the samples, per std of the dim), when it is at least 0.25, its 95% interval excludes 0 and it is 1.5x any other family's; “entangled” when " +
    "two families move alike; “no visible change” when none does. <b>Contrastive</b>: how much more this classifier's p_true drops than the " +
    "reference reader's on the same frames: a dim that breaks every reader scores 0. <b>Why it fails</b>: the labels " +
    "ranked by the share of the classifier's decision flips (beyond the reference's) along the dims that carry them.</p>",
  compare:
    '<p><b>Robustness</b>: accuracy as a function of how far a generated sample is from the typical well-classified one, averaged over that ' +
    'distance (1 = never fails, however unusual the image). <b>kNN AUROC</b>: how well the misclassified samples can be ' +
    'told apart from the correct ones by their neighbours in each latent space (0.5 = not at all, 1 = perfectly).</p>',
  ranking:
    "<p>Each StyleSpace dim is one channel of the generator's style (stroke width, slant, blur…). <b>p_true</b> is the probability the " +
    'classifier gives the true class. The <b>score</b> says how strongly moving ' +
    'the dim lowers p_true on average; the arrow is the direction that lowers it.</p>',
  histograms:
    '<p>For one dim, the values it takes on samples the classifier gets right (well) and wrong (mis). <b>KS</b> (Kolmogorov–Smirnov ' +
    'distance, 0 to 1) measures how different the two groups are: the top-ranked dims should separate them far more than random dims.</p>',
  traversals:
    "<p>Each row starts from the class's average image and moves one dim, step by step, until the classifier reads another class " +
    '(the <b>decision corner case</b>); the numbers are p_true at each frame. The slider does the same for any dim and shift, live.</p>',
  sideBySide:
    "<p>The same images, classified by two classifiers: the frames move the slider's dim from the class's average style, in the same unit " +
    "for both, and under each frame are each classifier's <b>p_true</b> and, where it no longer reads the true class, the class it reads. " +
    "Below, each classifier's own corner case for that dim: where its answer changes first, in the direction that lowers its p_true.</p>",
  corner:
    "<p>Per class, the smallest move along each top dim that changes the classifier's answer: the image shown is the first one it reads as " +
    "another class. The <b>p_true = 0.5</b> point is where the true class's probability falls to one half (often still read as the true class).</p>",
  curves:
    '<p>Accuracy of generated samples grouped by their distance (in the top dims) from the well-classified centre of their class; 1 = the ' +
    "95th percentile of the well-classified samples' distances. Shaded: 95% intervals. " +
    'Hollow points: bins with too few samples to count in the robustness score.</p>',
  explain:
    "<p>A real image is <b>projected</b> into the style space: the generator's style s is fitted until the rendering matches the image (pixel " +
    'and feature losses). <b>PSNR</b> says how close the reconstruction is; the explanation is only faithful when the classifier reads the ' +
    'reconstruction as it reads the image (<b>same decision</b>). The dims listed are where the projection deviates most from the well-classified ' +
    "images of its label, in the ranking's std units; for a misread image, the frames move " +
    'those dims back until the classifier reads the label (<b>p_true</b> under each).</p>',
  embeddings:
    '<p>Each point is a generated sample, laid out in 2-D by UMAP from its noise z, its latent w or its style s. Misclassified samples that ' +
    'cluster in one space mean that space explains the failures. Colour the points by class, by correctness, or by which of two classifiers gets ' +
    'each sample wrong; hover a point (or use the arrow keys on a chart) to see the sample, its true class and the class the classifier reads.</p>',
};
const help = (section: string) =>
  `<details class="help"><summary>What does this show?</summary>${HELP[section]}<p>The method: <a href="${METHOD_URL}">“Leveraging ` +
  `generative models to characterize the failure conditions of image classifiers”</a> (Le Coz, Herbin, Adjed).</p></details>`;

function dashboardHtml(widgetsUrl: string, dashboardUrl: string): string {
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Faultlines dashboard</title>
<link rel="icon" href="data:,">
<link rel="modulepreload" href="${widgetsUrl}">
<style>
:root{--faultlines-accent:#3461c1;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;background:#f4f6fa}
header{background:#1d2433;color:#fff;padding:14px 24px;display:flex;gap:8px 24px;align-items:baseline;flex-wrap:wrap}
header p.about{flex-basis:100%;margin:0;color:#dfe4ee;font-size:13px;max-width:70em}
header a{color:#9fc0ff}
header h1{margin:0;font-size:20px}
header .meta{color:#b8c0cf;font-size:12px}
header label{color:#dfe4ee;font-size:13px}
header select{margin-left:6px}#domain{max-width:12em}
main{padding:16px 24px;display:grid;grid-template-columns:repeat(auto-fit,minmax(min(520px,100%),1fr));gap:16px;max-width:1600px}
@media (max-width:600px){header{padding:12px}main{padding:12px 8px;gap:12px}section{padding:12px 10px}}
section{background:#fff;border:1px solid #d8dde6;border-radius:10px;padding:14px 16px;min-width:0}
section.wide{grid-column:1/-1}
section h2{margin:0 0 4px;font-size:16px}
section p.note{margin:0 0 10px;color:#5b6475;font-size:12px}
details.help{margin:0 0 10px;font-size:12px;color:#3d4556}
details.help summary{cursor:pointer;color:#2f57ad}
details.help p{margin:4px 0}
.scroll{overflow-x:auto;max-width:100%}
.muted{color:#5b6475}
button.pick{font:inherit;padding:0 4px;border:1px solid #c9d0dc;border-radius:4px;background:#fff;color:#1d2433;cursor:pointer}
button.pick:hover,button.pick:focus-visible{border-color:#3461c1}
button.retry{margin-left:6px;font:inherit;font-size:12px;padding:1px 8px;border:1px solid #d99;border-radius:4px;background:#fff;color:#8a1c1c;cursor:pointer}
.fig5 .row.selected{outline:2px solid #3461c1;outline-offset:2px;border-radius:4px}
form.dim{display:flex;gap:8px;align-items:center;margin:12px 0 6px;flex-wrap:wrap}
form.dim input{width:6em}
ul.legend{list-style:none;margin:0 0 8px;padding:0;display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px}
ul.legend .swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
ul.legend .cross{margin-right:4px;font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px}
.chart{position:relative;height:200px}
.chart.tall{height:300px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ef}
th{font-weight:500;color:#5b6475;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.fig5{display:grid;gap:6px;overflow-x:auto;max-width:100%}
.fig5 .row{display:flex;gap:10px;align-items:center}
.fig5 .dim{width:110px;flex:none;font:12px ui-monospace,Menlo,monospace}
.fig5 img{image-rendering:pixelated;display:block}
.fig5 .p{display:flex;font:11px ui-monospace,Menlo,monospace;color:#5b6475}
.fig5 .p span{width:66px;text-align:center}
progress{width:160px}
div.tools{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:flex-start;margin-top:8px;font-size:12px}
button.tool{font:inherit;font-size:12px;padding:2px 8px;border:1px solid #c9d0dc;border-radius:4px;background:#fff;color:#1d2433;cursor:pointer}
details.snippet summary{cursor:pointer;color:#2f57ad}
details.snippet label{display:block;margin:4px 0}
details.snippet textarea{display:block;width:min(640px,80vw);font:11px/1.4 ui-monospace,Menlo,monospace}
.chart canvas:focus-visible{outline:3px solid #3461c1;outline-offset:2px}
#emb-inspect{display:flex;gap:12px;align-items:center;min-height:100px;margin-top:8px;font-size:13px}
#emb-inspect img,.sbs-corner img{image-rendering:pixelated;display:block;width:96px;height:96px;border-radius:4px}
#emb-inspect p{margin:0}
.flip{color:#b3261e}
table.sbs-frames{width:auto}
table.sbs-frames td{width:66px;min-width:66px;padding:2px 0;text-align:center;font:11px ui-monospace,Menlo,monospace}
table.sbs-frames tr.strip td{text-align:left}
table.sbs-frames th{white-space:nowrap}
table.sbs-frames caption{text-align:left;font-size:12px;color:#5b6475}
img.sbs-strip{image-rendering:pixelated;display:block}
.sbs-corners{display:flex;flex-wrap:wrap;gap:16px 32px}
.sbs-corner h4{margin:4px 0;font-size:13px}
.sbs-corner .figs{display:flex;gap:10px;flex-wrap:wrap}
.sbs-corner figure{margin:0;font-size:11px;max-width:110px}
.sbs-corner img{width:64px;height:64px}
h3.sbs-sub{font-size:14px;margin:12px 0 4px}
form.explain{display:flex;gap:8px 14px;align-items:center;flex-wrap:wrap;margin:6px 0}
.err{color:#8a1c1c;background:#fdecec;border:1px solid #f3b6b6;border-radius:6px;padding:8px 10px}
pre.curl{margin:4px 0 0;padding:6px 8px;white-space:pre-wrap;word-break:break-all;font:11px/1.4 ` +
    `ui-monospace,Menlo,monospace;background:#f4f6fa;border:1px solid #d8dde6;border-radius:6px}
faultlines-corner-cases,faultlines-ranking,faultlines-accuracy-curve,faultlines-traversal,faultlines-directions,faultlines-explain{border:none;padding:0;overflow-x:auto;max-width:100%}
</style>
<script type="module" src="${widgetsUrl}"></script>
<script type="module" src="${dashboardUrl}"></script>
</head><body>
<header><h1>Faultlines</h1><span class="meta" id="models">loading models…</span>
<label>domain<select id="domain"></select></label><label>classifier<select id="classifier"></select></label>
<label>class<select id="class">${Array.from({ length: 10 }, (_, k) => `<option value="${k}">${k}</option>`).join('')}</select></label>
<label>compare curves with<select id="compare-with"><option value="">every classifier</option></select></label>
<a href="/docs" style="font-size:13px">API docs</a>
<p class="about">Where and why an image classifier fails: a generator (StyleGAN2) draws digits, and the page shows which of its style directions ` +
    `(StyleSpace dims) make the classifier wrong, what the images look like on the way, and how two classifiers compare on the same changes. ` +
    `Showing <strong id="selection">…</strong>; the address bar keeps the view (share ` +
    `it, or use back/forward). <a href="${METHOD_URL}">The method (paper)</a>.</p></header>
<main>
<section class="wide" id="compare"><h2>Classifier comparison</h2><p class="note">Test accuracy of each classifier, its accuracy on the ` +
    `generated sweep, robustness (the accuracy of the samples in its accuracy-vs-distance curve's groups of at least 20, with a 95% bootstrap ` +
    `interval) and how well each latent space separates its mistakes (kNN AUROC).</p>${help('compare')}<div class="charts" ` +
    `id="compare-body"><p class="muted">Loading…</p></div><div class="tools" data-panel="comparison" data-png="charts"></div></section>
<section id="ranking"><h2>Ranking</h2><p class="note">StyleSpace dims whose gradient moves p_true the most (global); thumbnails traverse each ` +
    `dim from the selected class's average. Choose a dim to open its traversal.</p>${help('ranking')}<div id="ranking-slot"></div><div ` +
    `class="tools" data-panel="ranking" data-slot="ranking-slot"><a id="ranking-csv" download>Download the ranking (CSV)</a></div></section>
<section id="histograms"><h2>Histograms (fig. 4)</h2><p class="note" id="hist-note">Values of the top-3 and 3 random dims for well- vs ` +
    `mis-classified samples.</p>${help('histograms')}<div class="charts" id="hist-charts"></div><div ` +
    `class="tools" data-panel="histograms" data-png="charts"></div></section>
<section class="wide" id="directions"><h2>What the top dims do</h2><p class="note">Each top dim of the ranking moved 0–4 std from many samples, ` +
    `the frames measured (noise, sharpness, stroke ink and width, position, size) and labelled by the factor that dominates; p_true of this ` +
    `classifier and of its reference reader on the same frames. Global top dims, then the selected class's. Choose a dim to ` +
    `open its traversal.</p>${help('directions')}<div id="directions-slot"></div><div id="directions-class-slot"></div></section>
<section class="wide" id="traversals"><h2>Traversals (fig. 5)</h2><p class="note">From the selected class's average style, the top 10 dims ` +
    `of its ranking, each moved in the direction that lowers p_true until the prediction leaves the class; frames at 0, ¼, ½, ¾, 1, … of that ` +
    `decision shift (of the p_true = 0.5 shift when the decision does not flip; p_true under each frame). ` +
    `Choose a dim to move along it with the slider.</p>${help('traversals')}<div class="fig5" id="fig5"></div>
<form class="dim" id="dim-form"><h3 id="slider-heading" style="margin:0;font-size:14px">Slider</h3><label>dim <input id="dim" type="number" ` +
    `min="0" step="1" inputmode="numeric"></label><button type="submit">Open</button></form><div id="traversal-slot"></div><div ` +
    `class="tools" data-panel="traversals" data-png="traversals" data-slot="traversal-slot"></div></section>
<section class="wide" id="side-by-side"><h2>Two classifiers on one direction</h2><p class="note">The slider's class and dim, for the selected ` +
    `classifier and another one: the same frames with each classifier's p_true (and the class it reads, where that changed) under each frame, ` +
    `then both corner cases of that dim.</p>${help('sideBySide')}<label>compare with <select id="vs"></select></label><h3 id="sbs-heading" ` +
    `class="sbs-sub">…</h3><div id="sbs-body"></div><div class="tools" data-panel="side-by-side" data-png="traversals"></div></section>
<section class="wide" id="corner"><h2>Corner cases (fig. 7)</h2>${help('corner')}<div ` +
    `id="corner-slot"></div><div class="tools" data-panel="corner-cases" data-slot="corner-slot"></div></section>
<section id="curves"><h2>Accuracy curves (fig. 6)</h2>${help('curves')}<div id="curves-slot"></div><div class="tools" ` +
    `data-panel="accuracy-curves" data-png="charts" data-slot="curves-slot"><a id="curves-csv" download>Download the curves (CSV)</a></div></section>
<section id="embeddings"><h2>Embeddings in Z, W, S (fig. 3)</h2><p class="note">UMAP of the first samples of the sweep. Hover a point to see ` +
    `its sample; click it (or Enter) to open its class.</p>${help('embeddings')}<label>colour by <select id="emb-colour"><option value="class">class ` +
    `(misclassified: crosses)</option></select></label><ul class="legend" id="emb-legend" aria-label="legend"></ul><p class="note" id="emb-keys">Keyboard: ` +
    `Tab to a chart, the arrow keys move between points (the sample shows below), Enter opens its class, Escape leaves it.</p><div class="charts" ` +
    `id="emb-charts"></div><div id="emb-inspect" aria-live="polite" data-state="idle"></div><div ` +
    `class="tools" data-panel="embeddings" data-png="charts"></div></section>
<section class="wide" id="jobs"><h2>Jobs</h2><p class="note">Sweeps submitted to the GPU runners ` +
    `(refreshes every 5 s while any is queued or running).</p><div id="jobs-table"></div></section>
<section class="wide" id="explain"><h2>Explain a real image</h2><p class="note">A PNG the classifier gets wrong (or right), grey 32x32 or 28x28: it is projected into the style space, and the panel shows how faithful the projection is, where it deviates from the well-classified images of its label, and the smallest move back that makes the selected classifier right (docs/explain.md). A runner computes it as a job; submitting needs the submitter token, which this page only sends with the request.</p>${help('explain')}
<form class="explain" id="explain-form"><label>PNG <input id="explain-file" type="file" accept="image/png"></label><label>label <select id="explain-label">${Array.from({ length: 10 }, (_, k) => `<option value="${k}">${k}</option>`).join('')}</select></label><label>steps <input id="explain-steps" type="number" min="0" max="1000" value="100"></label><label>submitter token <input id="explain-token" type="password" autocomplete="off"></label><button type="submit">Explain</button></form>
<form class="explain" id="explain-key-form"><label>or a key <input id="explain-key" size="40" spellcheck="false" autocomplete="off"></label><button type="submit">Show</button></form>
<p id="explain-status" class="muted" role="status"></p><div id="explain-slot"></div></section>
</main>
<noscript><p style="padding:24px">The dashboard needs JavaScript. The API is documented at <a href="/docs">/docs</a>.</p></noscript>
</body></html>`
  );
}

export function registerDashboard(app: OpenAPIHono<AppEnv>): void {
  const page = async (c: { env: AppEnv['Bindings'] }) => {
    const m = await widgetsManifest(c.env);
    return new Response(dashboardHtml(m.widgets.hashed, m.dashboard.hashed), {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
    });
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
