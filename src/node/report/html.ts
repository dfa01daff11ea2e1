/**
 * The self-contained `report.html`: every figure of the analysis on one page, opening from disk
 * without a server — the data is embedded as JSON, the images as data URIs and the plots drawn by
 * Chart.js (inlined from its npm package).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AnalysisReport } from '../../core/analysis/report.js';
import { classLabel } from '../../core/generator/classes.js';
import { reportJson } from './figures.js';
import { cornerCaseLabel, dimLabel, directionsSection } from './directions-html.js';

export interface ReportImages {
  traversals: Uint8Array;
  cornerCases: Uint8Array;
  joint: Uint8Array;
}

const dataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const num = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : '—');

function chartJs(): string {
  const require = createRequire(import.meta.url);
  // The UMD build is not in the package's exports map; it sits beside the CommonJS entry.
  return readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

export function reportHtml(report: AnalysisReport, images: ReportImages): string {
  const r = report;
  // Classes by index and name ("3", or "2 (three)" when the generator names its classes).
  const cls = (i: number | null | undefined) =>
    i === null || i === undefined ? '—' : esc(classLabel({ names: r.classNames }, i));
  const rankingRows = r.ranking.dims
    .slice(0, 20)
    .map(
      (d) =>
        `<tr><td>${d.rank}</td><td>${esc(d.layer)}:${d.channel}</td><td>${d.index}</td><td>${num(d.score, 5)}</td><td>${num(d.meanGradient, 5)} ± ` +
        `${num(d.standardError, 5)}</td><td>${d.direction}</td><td>${num(d.std, 3)}</td><td>${esc(dimLabel(r, d.index))}</td></tr>`,
    )
    .join('');
  const traversalRows = r.traversals
    .map(
      (t, i) =>
        `<tr><td>${i + 1}</td><td>${t.dim}</td><td>${t.direction > 0 ? '+' : '−'}</td><td>` +
        `${
          t.outcome === 'already-misclassified'
            ? `misclassified at the start (` + `${cls(t.start.predicted)})`
            : t.decision
              ? `${num(t.decisionShift!, 3)} → ` + `${cls(t.decision.predicted)}`
              : `no flip within ${r.options.maxSteps} std`
        }</td><td>` +
        `${t.pTrueHalfShift === null ? '—' : `${num(t.pTrueHalfShift, 3)} (read as ${cls(t.pTrueHalf?.predicted)})`}</td><td>` +
        `${esc(t.reasons.join('; '))}</td></tr>`,
    )
    .join('');
  const cornerRows = r.cornerCases.classes
    .map(
      (c) =>
        `<tr><td>${cls(c.classIndex)}</td><td>${num(c.start.pTrue, 3)}</td><td>${c.counts.tried}</td><td>${c.counts.pTrueHalf}</td><td>` +
        `${c.counts.decision}</td><td>` +
        `${c.cases
          .map(
            (k) =>
              `${k.dim.index}→${cls(k.decision.predicted)} (${num(k.decision.shift, 2)}` +
              `${cornerCaseLabel(r, c.classIndex, k.dim.index) ? `; ${esc(cornerCaseLabel(r, c.classIndex, k.dim.index))}` : ''}` +
              `${k.pTrueHalf ? `; p<sub>true</sub>=0.5 at ${num(k.pTrueHalf.shift, 2)}` : ''})`,
          )
          .join(', ')}</td></tr>`,
    )
    .join('');
  const jointRows = r.joint
    .map(
      (j) =>
        `<tr><td>${cls(j.classIndex)}</td><td>${j.dims.join(', ')}</td><td>${j.converged ? num(j.norm, 3) : 'not found'}</td><td>` +
        `${j.bestSingle ? `${num(j.bestSingle.shift, 3)} (dim ${j.bestSingle.dim})` : 'none'}</td><td>${j.ratio === null ? '—' : num(j.ratio, 3)}</td><td>` +
        `${j.converged ? cls(j.predicted) : '—'}</td><td>` +
        `${j.pTrueHalf ? `${num(j.pTrueHalf.norm, 3)} (read as ${cls(j.pTrueHalf.predicted)})` : '—'}</td></tr>`,
    )
    .join('');
  const classifierRows = r.classifiers
    .map((c) => {
      const m = c.model;
      const source = !m
        ? '—'
        : m.source === 'built-in'
          ? `built-in, <code>${esc(m.weights)}</code>`
          : `TF.js ${m.format} <code>${esc(m.path)}</code>, adapter <code>${esc(m.adapterPath)}</code>`;
      const sha = !m ? '—' : `<code>${(m.source === 'built-in' ? m.weightsSha256 : m.modelSha256).slice(0, 12)}</code>`;
      return (
        `<tr><td>${esc(c.name)}</td><td>${pct(c.accuracy)}</td><td>${num(c.robustness.score, 4)} <small>[${num(c.robustness.ciLow, 4)}, ` +
        `${num(c.robustness.ciHigh, 4)}]</small></td><td>${source}</td><td><code title="${esc(c.id)}">${c.id.slice(0, 12)}</code></td><td>${sha}</td></tr>`
      );
    })
    .join('');
  const userModels = r.classifiers.flatMap((c) => (c.model?.source === 'tfjs' ? [{ name: c.name, m: c.model }] : []));
  const userSection = userModels
    .map(({ name, m }) => {
      const a = m.adapter;
      const check = m.sanityCheck;
      const checkRows = check
        ? check.splits
            .map(
              (x) =>
                `<tr><td>${x.split}</td><td>${x.count}</td><td>${pct(x.accuracy)}</td><td>` +
                `${cls(x.mostPredicted.classIndex)} (${pct(x.mostPredicted.share)})</td></tr>`,
            )
            .join('')
        : '';
      const verdict = !check
        ? `<p class="note">Adapter check skipped: ${esc(m.sanityCheckSkipped ?? '')}.</p>`
        : check.plausible
          ? `<p class="note">Plausible: clean accuracy at least ${pct(check.threshold)} (chance ${pct(check.chance)}).</p>`
          : `<p class="warning"><strong>Warning:</strong> ${esc(check.warning ?? '')}</p>`;
      return (
        `<h3>${esc(name)}</h3>
<table><tr><th>what</th><th>value</th></tr>
<tr><td>model folder</td><td><code>${esc(m.path)}</code> (${m.format}, input [${m.inputShape.map((d) => d ?? 'N').join(', ')}], ` +
        `${m.outputUnits} outputs${m.differentiable ? '' : `, no gradient through op ${esc(m.nonDifferentiableOp ?? '?')}`})</td></tr>
<tr><td>adapter file</td><td><code>${esc(m.adapterPath)}</code></td></tr>
<tr><td>input</td><td>${a.input.height}x${a.input.width}x${a.input.channels}, range [` +
        `${a.input.range.join(', ')}], mean [${a.input.mean.join(', ')}], std [${a.input.std.join(', ')}]</td></tr>
<tr><td>output</td><td>${a.output.kind} (output ${a.output.index})</td></tr>
<tr><td>class map (generator class → model output)</td><td>` +
        `${a.classes.generatorToModel.map((o, k) => `${cls(k)} → ${o} (${esc(a.classes.names[o])})`).join(', ')}</td></tr>
<tr><td>model sha256 (model.json and its shards)</td><td><code>${m.modelSha256}</code></td></tr>
<tr><td>classifier id (${esc(m.idIs)})</td><td><code>${esc(r.classifiers.find((c) => c.name === name)?.id ?? '')}</code></td></tr>
</table>
${
  check
    ? `<p class="note">Adapter check on real test images: ` +
      `${esc(check.data)}.</p><table><tr><th>split</th><th>images</th><th>accuracy</th><th>most predicted class (share)</th></tr>${checkRows}</table>`
    : ''
}
${verdict}`
      );
    })
    .join('\n');
  const side = r.sideBySide;
  const sideHead = side.classifiers
    .map((c) => `<th>${esc(c)}: score</th><th>${esc(c)}: p<sub>true</sub> → after</th>`)
    .join('');
  const sideRows = side.dims
    .map(
      (d) =>
        `<tr><td>${d.rank}</td><td>${esc(d.layer)}:${d.channel} (${d.index})</td><td>${d.direction === 'increase' ? '+' : '−'}</td>` +
        `${d.cells
          .map(
            (x) =>
              `<td>${x.score === null ? '— (no gradient)' : num(x.score, 4)}</td><td>${num(x.pTrue, 3)} → ` +
              `${num(x.pTrueAfter, 3)} <span class="note">(acc ${pct(x.accuracyAfter)})</span></td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  const timingRows = Object.entries(r.timings)
    .map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(1)} s</td></tr>`)
    .join('');
  const flipHead = r.flipSufficiency.classifiers
    .map((c) => `<th>${esc(c.classifier)}: top dims</th><th>${esc(c.classifier)}: random dims</th>`)
    .join('');
  const flipShare = (x: { share: number; ciLow: number; ciHigh: number }) =>
    `${pct(x.share)} <span class="note">[${pct(x.ciLow)}, ${pct(x.ciHigh)}]</span>`;
  const flipRows = (r.flipSufficiency.classifiers[0]?.cells ?? [])
    .map(
      (cell, i) =>
        `<tr><td>${cell.k}</td><td>${cell.t}</td>` +
        `${r.flipSufficiency.classifiers.map((c) => `<td>${flipShare(c.cells[i].top)}</td><td>${flipShare(c.cells[i].random)}</td>`).join('')}</tr>`,
    )
    .join('');
  const frontierHead = r.frontier.classifiers.map((c) => `<th>${esc(c.classifier)}</th>`).join('');
  const frontierCell = (x: {
    median: number | null;
    q1: number | null;
    q3: number | null;
    censored: number;
    samples: number;
  }) =>
    `${x.median === null ? `&gt; ${r.frontier.maxSteps}` : num(x.median, 2)} <span class="note">(IQR ${x.q1 === null ? '—' : num(x.q1, 2)}–` +
    `${x.q3 === null ? `&gt;${r.frontier.maxSteps}` : num(x.q3, 2)}; n ${x.samples}${x.censored > 0 ? `, ${pct(x.censored)} no flip` : ''})</span>`;
  const frontierRows = (r.frontier.classifiers[0]?.classes ?? [])
    .map(
      (k, i) =>
        `<tr><td>${cls(k.classIndex)}</td>${r.frontier.classifiers.map((c) => `<td>${frontierCell(c.classes[i])}</td>`).join('')}</tr>`,
    )
    .join('');
  const embedRows = r.embedding.spaces
    .map((s) => `<tr><td>${s.space}</td><td>${s.dims}</td><td>${num(s.knnAuroc, 3)}</td></tr>`)
    .join('');
  return (
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultlines report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 2rem;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right} th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left} .grid{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}
.charts{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem} .charts>div{min-height:220px} .note{color:#555}
code{font-size:12px} .warning{background:#fdecea;border:1px solid #d62728;padding:.5rem}
</style></head><body>
<h1>Faultlines report</h1>
<p class="note">Generator <code>${r.generatorId.slice(0, 12)}</code>, ${r.options.samples.toLocaleString('en')} samples (seed ${r.options.seed}, ` +
    `${r.options.classIndex === null ? 'all classes' : `class ${cls(r.options.classIndex)}`}), backend ${r.backend}. ${r.classNames.length} classes: ` +
    `${r.classNames.map((_, i) => cls(i)).join(', ')}. Schema ${r.schema}, spec hash <code>${r.specHash.slice(0, 16)}</code>.</p>

<h2>Classifiers</h2>
<p class="note">Accuracy on the generated population and robustness score with its 95% bootstrap interval (accuracy of the samples in the ` +
    `accuracy-vs-distance curve's groups of at least ${r.accuracyCurves.minCount} samples, figure ` +
    `6; 1 = never fails). Both on the same samples and the same top-${r.options.curveDims} dims.</p>
<table><tr><th>classifier</th><th>accuracy</th><th>robustness</th><th>source</th><th>classifier ` +
    `id (results and API)</th><th>weights sha256</th></tr>${classifierRows}</table>
<p class="note">Classifier id: a built-in classifier's weights sha256; for a TF.js model a hash of its model sha256 and its adapter, the ` +
    `id the edge API gives the same files. Weights sha256: of the weights file (built-in), of model.json followed by its shards (TF.js).</p>
${userModels.length > 0 ? `<h2>Your model${userModels.length > 1 ? 's' : ''}: files, adapter and its check on real images</h2>\n${userSection}` : ''}

<h2>Side by side on ${esc(side.rankedBy)}'s top dims</h2>
<p class="note">Per top dim of ${esc(side.rankedBy)}'s ranking, for each classifier on the same ${side.samples} samples (each with its own ` +
    `noise): the ranking score −mean(∂p<sub>true</sub>/∂s<sub>j</sub>) · std(s<sub>j</sub>), and the mean p<sub>true</sub> before and after moving ` +
    `the dim ${side.t} std in the direction that lowers ${esc(side.rankedBy)}'s p<sub>true</sub> (with ` +
    `the accuracy after). A lower p<sub>true</sub> after the shift: more fragile along that dim.</p>
<table><tr><th>rank</th><th>dim</th><th>dir</th>${sideHead}</tr>${sideRows}</table>

<h2>Most influential StyleSpace dimensions</h2>
<p class="note">score = −mean(∂p<sub>true</sub>/∂s<sub>j</sub>) · std(s<sub>j</sub>) over the population of ` +
    `${r.ranking.count.toLocaleString('en')}; ranked by |score|; direction: how to move s<sub>j</sub> to lower p<sub>true</sub>.</p>
<table><tr><th>rank</th><th>layer:channel</th><th>index</th><th>score</th><th>mean gradient ± ` +
    `s.e.</th><th>direction</th><th>std</th><th>what it does (label)</th></tr>${rankingRows}</table>

<h2>Well- vs mis-classified samples along top and random dims (figure 4)</h2>
<p class="note">Mean KS distance: top dims ${num(r.histograms.meanKsTop, 3)}, random dims ` +
    `${num(r.histograms.meanKsRandom, 3)} (${r.histograms.wellCount} well, ${r.histograms.misCount} mis).</p>
<div class="charts" id="histograms"></div>

<h2>Traversals of the top ${r.traversals.length} dims (figure 5)</h2>
<p class="note">From the class-average style of class ${cls(r.traversals[0]?.classIndex ?? r.options.traversalClass)}; one column per dim ` +
    `(rank order), one row per fraction of the decision shift — the first shift where the prediction leaves the true class; of the shift ` +
    `where p<sub>true</sub> crosses 0.5 when the decision does not flip (${r.traversals[0]?.frames.map((f) => f.fraction).join(', ') ?? ''}).</p>
<img class="grid" alt="traversal grid" src="${dataUri(images.traversals)}">
<table><tr><th>rank</th><th>dim</th><th>dir</th><th>decision flip: shift (std) → class read</th><th>p<sub>true</sub> ` +
    `= 0.5: shift (std), class read there</th><th>what happened</th></tr>${traversalRows}</table>

<h2>Corner cases (figure 7)</h2>
<p class="note">Per class: the class-average digit, then the most influential dims of that class whose prediction really changes within ` +
    `${r.options.maxSteps} std, each at its decision corner case: the first shift where the arg-max leaves the true class (margin p<sub>true</sub> ` +
    `− p<sub>runner-up</sub> within ${r.cornerCases.tolerance} of 0, on the misclassified side). The paper's point, ` +
    `p<sub>true</sub> = 0.5, comes earlier and is usually still read as the true class; the table counts both.</p>
<img class="grid" alt="corner cases" src="${dataUri(images.cornerCases)}">
<table><tr><th>class</th><th>p<sub>true</sub> of average</th><th>dims tried</th><th>reach p<sub>true</sub> ` +
    `= 0.5</th><th>flip the decision</th><th>dim→class read (decision shift, std)</th></tr>${cornerRows}</table>

<h2>Joint corner cases</h2>
<p class="note">Smallest shift over the top-${r.options.jointDims} dims of each class moved together (L2, std units) that flips the decision, ` +
    `against the best single dim's decision shift; along the same direction, where ` +
    `p<sub>true</sub> falls to 0.5. Left: class average; right: joint decision corner case.</p>
<img class="grid" alt="joint corner cases" src="${dataUri(images.joint)}">
<table><tr><th>class</th><th>dims</th><th>joint shift</th><th>best single</th><th>ratio</th><th>class ` +
    `read</th><th>p<sub>true</sub> = 0.5 along it</th></tr>${jointRows}</table>

<h2>Flip sufficiency: are the top dims enough to break it?</h2>
<p class="note">Share of correctly classified samples (first ${r.flipSufficiency.samples} of the population, each with its own noise) whose ` +
    `decision flips when the top-k dims of their class are shifted together by t std each, in the direction that lowers ` +
    `p<sub>true</sub>, against k random dims moved the same way (95% Wilson intervals). Same samples and dims for every classifier.</p>
<table><tr><th>k</th><th>t (std)</th>${flipHead}</tr>${flipRows}</table>

<h2>Frontier distance per class</h2>
<p class="note">Median over correctly classified samples (up to ${r.options.frontierSamplesPerClass} per class) of the smallest shift along ` +
    `any of the class's top-${r.frontier.topDims} dims that flips the decision, in std units (within ${r.frontier.maxSteps} std). Smaller: closer to failing.</p>
<table><tr><th>class</th>${frontierHead}</tr>${frontierRows}<tr><td>all</td>` +
    `${r.frontier.classifiers.map((c) => `<td>${c.median === null ? `&gt; ${r.frontier.maxSteps}` : num(c.median, 2)}</td>`).join('')}</tr></table>

${directionsSection(r)}

<h2>Accuracy vs distance in S (figure 6)</h2>
<div style="height:320px"><canvas id="curve"></canvas></div>
<label>Per class: <select id="classSelect"></select></label>
<div style="height:260px"><canvas id="classCurve"></canvas></div>

<h2>Embeddings of the population in Z, W and S (figure 3)</h2>
<p class="note">UMAP of ${r.embedding.count} samples; red = misclassified. kNN AUROC: how well the k=` +
    `${r.embedding.k} nearest neighbours in the full space tell mis- from well-classified samples (0.5 = not at all).</p>
<table><tr><th>space</th><th>dims</th><th>kNN AUROC</th></tr>${embedRows}</table>
<div class="charts" id="embeddings"></div>

<h2>Timings</h2>
<table>${timingRows}</table>

<script>${chartJs()}</script>
<script type="application/json" id="data">${reportJson(r).replace(/</g, '\\u003c')}</script>
<script>
const R = JSON.parse(document.getElementById('data').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
function canvasIn(parent, h) { const d = document.createElement('div'); d.style.height = (h || 220) + ` +
    `'px'; const c = document.createElement('canvas'); d.appendChild(c); parent.appendChild(d); return c; }
for (const h of R.histograms.dims) {
  const labels = h.edges.slice(0, -1).map((e, i) => ((e + h.edges[i + 1]) / 2).toFixed(2));
  const sw = h.well.reduce((a, b) => a + b, 0) || 1, sm = h.mis.reduce((a, b) => a + b, 0) || 1;
  new Chart(canvasIn(document.getElementById('histograms')), { type: 'bar', data: { labels, datasets: [
    { label: 'well', data: h.well.map((v) => v / sw), backgroundColor: 'rgba(31,119,180,.6)' },
    { label: 'mis', data: h.mis.map((v) => v / sm), backgroundColor: 'rgba(214,39,40,.6)' }] },
    options: { maintainAspectRatio: false, plugins: { title: { display: true, text: h.group + ' dim ' + h.dim + (h.rank ? ' (rank ' + ` +
    `h.rank + ')' : '') + ' — KS ' + h.ks.toFixed(3) + ', AUROC ' + h.auroc.toFixed(3) } }, scales: { x: { ticks: { maxTicksLimit: 6 } } } } });
}
function curveChart(canvas, res, old) {
  if (old) old.destroy();
  const labels = res.curves[0].bins.map((b) => ((b.lo + b.hi) / 2).toFixed(2));
  const datasets = [];
  res.curves.forEach((c, i) => {
    const rb = c.robustness, f3 = (v) => (v === null || !isFinite(v) ? '—' : v.toFixed(3));
    // Sparse bins (out of the score): hollow points, dashed segments.
    const sp = (k) => c.bins[k] && c.bins[k].sparse;
    datasets.push({ label: c.classifier + ' (robustness ' + f3(rb.score) + ' [' + f3(rb.ciLow) + ', ' + f3(rb.ciHigh) + '])', data: c.bins.map((b) ` +
    `=> b.accuracy), borderColor: colors[i], backgroundColor: colors[i], pointBackgroundColor: c.bins.map((b) => (b.sparse ? '#fff' : colors[i])), pointRadius: c.bins.map((b) => (b.sparse ? 4 : 3)), segment: { borderDash: (s) => (sp(s.p0DataIndex) || sp(s.p1DataIndex) ? [4, 4] : undefined) }, spanGaps: true });
    datasets.push({ label: c.classifier + ' 95% CI', data: c.bins.map((b) => b.ciLow), borderColor: colors[i], borderDash: [3, 3], pointRadius: 0, borderWidth: 1, spanGaps: true });
    datasets.push({ label: '', data: c.bins.map((b) => b.ciHigh), borderColor: colors[i], borderDash: [3, 3], pointRadius: 0, borderWidth: 1, spanGaps: true });
  });
  return new Chart(canvas, { type: 'line', data: { labels, datasets }, options: { maintainAspectRatio: false, plugins: { legend: { labels: { filter: (l) => l.text !== '' } }, title: { display: true, text: 'accuracy vs normalised distance to the well-classified centre (' + res.dims.length + ' dims, ' + res.count + ' samples' + (res.classIndex === null ? '' : ', class ' + res.classIndex) + ')' } }, scales: { y: { min: 0, max: 1 }, x: { title: { display: true, text: 'distance / ' + res.normalisation.scale.toFixed(2) + ' (the ' + res.normalisation.percentile + 'th percentile of the well-classified); beyond 1: ' + res.curves.map((c) => c.classifier + ' ' + c.beyond.count + ' samples, accuracy ' + (c.beyond.accuracy === null ? '—' : c.beyond.accuracy.toFixed(3))).join('; ') + '; hollow: under ' + res.minCount + ' samples, out of the score' } } } } });
}
curveChart(document.getElementById('curve'), R.accuracyCurves);
const sel = document.getElementById('classSelect');
let classChart = null;
R.classAccuracyCurves.forEach((c, i) => { const o = document.createElement('option'); o.value = i; o.textContent = 'class ' + c.classIndex + (R.classNames[c.classIndex] === String(c.classIndex) ? '' : ' (' + R.classNames[c.classIndex] + ')'); sel.appendChild(o); });
function showClass() { const c = R.classAccuracyCurves[+sel.value]; if (c) classChart = curveChart(document.getElementById('classCurve'), c, classChart); }
sel.onchange = showClass; showClass();
for (const s of R.embedding.spaces) {
  const well = [], mis = [];
  s.points.forEach((p, i) => (R.embedding.correct[i] ? well : mis).push({ x: p[0], y: p[1] }));
  new Chart(canvasIn(document.getElementById('embeddings'), 300), { type: 'scatter', data: { datasets: [
    { label: 'well', data: well, backgroundColor: 'rgba(31,119,180,.35)', pointRadius: 2 },
    { label: 'mis', data: mis, backgroundColor: 'rgba(214,39,40,.9)', pointRadius: 3 }] },
    options: { maintainAspectRatio: false, plugins: { title: { display: true, text: s.space + ' (' + s.dims + ' dims) — kNN AUROC ' + s.knnAuroc.toFixed(3) } } } });
}
</script>
</body></html>
`
  );
}
