/**
 * The `directions` section of report.html (issue 14: naming the failure): per top dim its label and
 * factor effect sizes, the gradient and contrastive rankings side by side, each classifier's "why
 * it fails" table and sentence; plus the label lookups the ranking and corner-case tables show.
 */
import type { AnalysisReport } from '../../core/analysis/report.js';
import type { DirectionDescription, FactorEffect } from '../../core/analysis/directions.js';
import { FACTOR_MEANING } from '../../core/image/factors.js';
import { counterfactualSentence, weaknessText } from '../../core/analysis/counterfactual-phrases.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const n2 = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(2));

/** The label of top dim `dim` (global ranking), or '' when it was not described. */
export function dimLabel(r: AnalysisReport, dim: number): string {
  return (
    r.directions.result.directions.find((d) => d.classIndex === null && d.dims.length === 1 && d.dims[0] === dim)?.label
      .text ?? ''
  );
}

/** The label of the corner case of class `classIndex` along `dim`, or '' when corner cases were not described. */
export function cornerCaseLabel(r: AnalysisReport, classIndex: number, dim: number): string {
  return (
    r.directions.cornerCases?.directions.find((d) => d.classIndex === classIndex && d.dims[0] === dim)?.label.text ?? ''
  );
}

const effectCell = (e: FactorEffect) =>
  `${esc(e.factor)} ${e.effect >= 0 ? '+' : '−'}${n2(Math.abs(e.effect))} <span class="note">[${n2(e.ciLow)}, ${n2(e.ciHigh)}]</span>`;

function directionRow(r: AnalysisReport, d: DirectionDescription, rank: number): string {
  const last = r.directions.result.shifts.length - 1;
  const cls = d.classifiers
    .map(
      (c) =>
        `<td>${n2(c.pTrue[0])} → ${n2(c.pTrue[last])} <span class="note">(${c.flipped}/${c.correctAtStart} flip)</span></td>`,
    )
    .join('');
  return (
    `<tr><td>${rank}</td><td>${esc(d.id)}</td><td><b>${esc(d.label.text)}</b>` +
    `${d.label.kind === 'unchanged' ? '' : ` <span class="note">(margin ${n2(d.label.margin)})</span>`}</td><td>` +
    `${d.effects.slice(0, 3).map(effectCell).join('<br>')}</td>${cls}<td>${n2(d.contrastive)}</td></tr>`
  );
}

export function directionsSection(r: AnalysisReport): string {
  const x = r.directions;
  const res = x.result;
  const byId = new Map(res.directions.map((d) => [d.id, d]));
  const head =
    `<tr><th>rank</th><th>direction</th><th>label</th><th>largest factor effects (factor stds per std, 95% CI)</th>` +
    `${res.classifiers.map((c) => `<th>${esc(c)}: p<sub>true</sub> 0 → ${res.shifts[res.shifts.length - 1]} std</th>`).join('')}<th>contrastive ` +
    `(drop − ${esc(res.reference ?? 'no reference')}'s)</th></tr>`;
  const gradient = x.gradientOrder.map((id, i) => directionRow(r, byId.get(id)!, i + 1)).join('');
  const contrastive = x.contrastiveOrder
    ? x.contrastiveOrder
        .map(
          (id, i) =>
            `<tr><td>${i + 1}</td><td>${esc(id)}</td><td>${esc(byId.get(id)!.label.text)}</td><td>${n2(byId.get(id)!.contrastive)}</td></tr>`,
        )
        .join('')
    : '';
  const gradientShort = x.gradientOrder
    .map(
      (id, i) =>
        `<tr><td>${i + 1}</td><td>${esc(id)}</td><td>${esc(byId.get(id)!.label.text)}</td><td>${n2(byId.get(id)!.classifiers[0].drop)}</td></tr>`,
    )
    .join('');
  const why = x.why
    .map(
      (w) =>
        `<h3>${esc(w.classifier)}</h3><p><b>${esc(w.sentence)}</b></p><table><tr><th>label</th><th>share of ` +
        `${w.counted === 'flips' ? 'flips' : 'flips beyond the reference'}</th><th>flips</th><th>directions</th></tr>` +
        `${w.factors
          .map(
            (f) =>
              `<tr><td>${esc(f.label)}</td><td>${(100 * f.share).toFixed(0)}%</td><td>` +
              `${f.flips}</td><td>${esc(f.directions.join(', '))}</td></tr>`,
          )
          .join('')}</table>`,
    )
    .join('');
  const factors = res.factors.map((f) => `<tr><td>${f}</td><td>${esc(FACTOR_MEANING[f])}</td></tr>`).join('');
  return (
    `<h2>What the directions do to the image, and whom they break</h2>
<p class="note">Each of the top ${res.directions.length} dims moved ${res.shifts.join(', ')} std in the direction that lowers p<sub>true</sub>, ` +
    `from the first ${res.samples} samples of the population (each with its own noise); every frame measured (image factors below) and read by ` +
    `every classifier. Effect: mean slope of the factor per std, in stds of the factor over the samples at the start ` +
    `(log scale for magnitudes), with a seeded ${res.bootstrap}-resample bootstrap 95% interval. ${esc(res.rule)}</p>
<table>${head}${gradient}</table>
<h3>Gradient ranking and contrastive ranking side by side</h3>
<p class="note">Contrastive: how much more the direction lowers ${esc(res.classifiers[0])}'s p<sub>true</sub> than ` +
    `${esc(res.reference ?? '(no reference)')}'s — directions that break this classifier rather than every reader.</p>
<div style="display:flex;gap:2rem"><table><tr><th>gradient rank</th><th>direction</th><th>label</th><th>p<sub>true</sub> drop</th></tr>` +
    `${gradientShort}</table>` +
    `${contrastive ? `<table><tr><th>contrastive rank</th><th>direction</th><th>label</th><th>contrastive</th></tr>${contrastive}</table>` : ''}</div>
<h3>Why each classifier fails</h3>
${why}
${specificWeakness(r)}
<details><summary>Image factors</summary><table><tr><th>factor</th><th>what it measures</th></tr>${factors}</table></details>`
  );
}

/** The contrastive ranking against the compared classifier (margin-based, every dim) and its factor attribution. */
function specificWeakness(r: AnalysisReport): string {
  const c = r.contrastive;
  if (!c) return '';
  const a = c.attribution;
  const named = a.named
    ? `<b>${esc(c.ranking.classifier)} fails more than ${esc(c.ranking.reference)} where the image ${esc(a.named.label)}</b> ` +
      `(margin over the runner-up ${n2(a.named.margin)}, first in ${Math.round(100 * a.named.firstShare)}% of bootstrap resamples)`
    : `No factor named: the largest coefficient's interval includes 0.`;
  const factors = a.factors
    .map(
      (f) =>
        `<tr><td>${esc(f.factor)}</td><td>${esc(f.label)}</td><td>${n2(f.coefficient)} [` +
        `${n2(f.ciLow)}, ${n2(f.ciHigh)}]</td><td>${Math.round(100 * f.firstShare)}%</td></tr>`,
    )
    .join('');
  const cf = c.counterfactual;
  const edits = cf
    ? `<h4>Counterfactual edits</h4>
<p class="note">Each factor of the first ${cf.samples} frames changed alone, at growing strengths, read by both; per edit the strength ` +
      `at which each loses ${cf.threshold} of its typical margin, and their ratio (how many times more of the change the reference ` +
      `tolerates; seeded bootstrap 95% interval). Named when the largest ratio's interval lies above 1.</p>
<p>${esc(counterfactualSentence(cf, c.ranking.classifier, c.ranking.reference))}</p>
<table><tr><th>edit</th><th>breaks at (this / reference)</th><th>ratio</th><th>first in</th></tr>${cf.edits
        .map(
          (e) =>
            `<tr><td>${esc(e.label)}</td><td>${e.breaks.classifier === null ? 'never' : n2(e.breaks.classifier)} / ` +
            `${e.breaks.reference === null ? 'beyond the ladder' : n2(e.breaks.reference)}</td><td>${n2(e.ratio)} [${n2(e.ciLow)}, ` +
            `${n2(e.ciHigh)}]</td><td>${Math.round(100 * e.firstShare)}%</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const label = new Map((c.directions?.directions ?? []).map((d) => [d.dims[0], d.label.text]));
  const weakness = new Map((c.directions?.directions ?? []).map((d, i) => [d.dims[0], c.weaknesses?.[i]]));
  const dims = c.ranking.dims
    .slice(0, 10)
    .map(
      (d) =>
        `<tr><td>${d.rank}</td><td>${esc(d.layer)}:${d.channel} (${d.index}) ${d.direction}</td><td>${n2(d.contrastive)} ± ` +
        `${n2(d.standardError)}</td><td>${n2(d.score)} / ${n2(d.referenceScore)}</td><td>${esc(label.get(d.index) ?? '')}</td>` +
        `${c.weaknesses ? `<td>${label.has(d.index) ? esc(weaknessText(weakness.get(d.index))) : ''}</td>` : ''}</tr>`,
    )
    .join('');
  return (
    `<h3>Specific weakness against ${esc(c.ranking.reference)}</h3>
<p class="note">Both classifiers' log-odds margins on the same ${c.ranking.spec.count} generated samples. Attribution: the per-sample margin ` +
    `deficit (the reference's margin share minus this classifier's) regressed on the image factors of the samples, one per family, z-scored; ` +
    `coefficient in shares of the typical margin per factor std, seeded bootstrap 95% interval. Contrastive ranking: every ` +
    `dim by how much more one std of it removes of this classifier's typical margin than of the reference's (docs/naming.md).</p>
${edits}
<h4>Regression at rest</h4>
<p>${named}</p>
<div style="display:flex;gap:2rem"><table><tr><th>factor</th><th>harmful change</th><th>coefficient</th><th>first in</th></tr>${factors}</table>
<table><tr><th>contrastive rank</th><th>dim</th><th>contrastive</th><th>score / reference</th><th>label</th>${
      c.weaknesses
        ? '<th title="of its changes, the edit this classifier is specifically weak to (ratio)">breaks it via</th>'
        : ''
    }</tr>${dims}</table></div>`
  );
}
