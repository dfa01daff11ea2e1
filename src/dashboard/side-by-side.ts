/**
 * Two classifiers on one direction (the slider's class and dim): the same traversal frames with each
 * classifier's p_true and predicted class under every frame, and each classifier's corner case for
 * that (class, dim) next to the other's.
 *
 * The frames are one range traversal per classifier with the same class, dim, range and frames: the
 * start style and the std unit come from the sweep's style moments, which do not depend on the
 * classifier, so both answers hold the same images. The page does not assume it: it compares the two
 * strips and, if they differ, shows both and says so. The range covers both classifiers' decision
 * shifts (from their corner cases) with room on either side, so each flip is in view.
 */
import { ARROW, getJson } from '../widgets/index.js';
import { aborted, esc, type PageContext, type View } from './context.js';

const FRAMES = 13;
/** Display scale of the strips (32 px tiles, 2 px gaps between them). */
const SCALE = 2;

interface Point {
  shift: number;
  pTrue: number;
  predicted: number;
  image: string;
}
interface LiveCorner {
  classifier: string;
  direction: 'increase' | 'decrease';
  start: { pTrue: number; predicted: number; image: string };
  outcome: string;
  cornerCase: { decision: Point; pTrueHalf: Point | null } | null;
  skipped: { reason: string; pTrueHalfShift: number | null } | null;
}
interface RangeTraversal {
  classifier: string;
  strip: string;
  frames: Array<{ shift: number; pTrue: number; predicted: number }>;
}

const $ = (id: string) => document.getElementById(id)!;

/** The range that shows both decision shifts (and p_true = 0.5 points) with room beyond them. */
function rangeFor(corners: Array<LiveCorner | null>): number {
  const shifts = corners.flatMap((c) =>
    c === null
      ? []
      : [c.cornerCase?.decision.shift, c.cornerCase?.pTrueHalf?.shift ?? c.skipped?.pTrueHalfShift ?? undefined].filter(
          (v): v is number => typeof v === 'number',
        ),
  );
  if (shifts.length === 0) return 6;
  const far = Math.max(...shifts.map(Math.abs)) * 1.25;
  return Math.min(20, Math.max(1, Math.ceil(far * 2) / 2));
}

/** The classifier to compare with: the view's `vs`, or the first other one; shown in the `vs` control. */
function other(ctx: PageContext, view: View): string | null {
  const sel = $('vs') as HTMLSelectElement;
  const names = ctx.classifiers().map((c) => c.name);
  const choices = names.filter((n) => n !== view.classifier);
  const keep = view.vs;
  sel.innerHTML =
    `${choices
      .map(
        (n) =>
          `<option value="${esc(n)}">` + `${esc(ctx.shown(ctx.classifiers().find((c) => c.name === n)!))}</option>`,
      )
      .join('')}<option ` + `value="none">none</option>`;
  sel.value = choices.includes(keep) || keep === 'none' ? keep : (choices[0] ?? 'none');
  return sel.value === 'none' ? null : sel.value;
}

const verdict = (cls: number, predicted: number) => (predicted === cls ? `still ${cls}` : `→ ${predicted}`);

function cornerHtml(cls: number, c: LiveCorner): string {
  const fig = (label: string, p: { pTrue: number; predicted: number; image: string }, caption: string) =>
    `<figure><figcaption>${label}</figcaption><img class="px" src="${p.image}" width="64" height="64" ` +
    `alt="${esc(`${c.classifier}, ${label}: ${caption}`)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  const cc = c.cornerCase;
  return (
    `<div class="sbs-corner" data-classifier="${esc(c.classifier)}" data-decision-shift="${cc ? cc.decision.shift : ''}" data-decision-predicted="` +
    `${cc ? cc.decision.predicted : ''}"><h4>${esc(c.classifier)} <span class="muted">(` +
    `${ARROW[c.direction]} ${c.direction}s the dim)</span></h4><div class="figs">${fig(
      'start',
      c.start,
      `p_true ${c.start.pTrue.toFixed(2)}, ${verdict(cls, c.start.predicted)}`,
    )}${
      cc
        ? `${fig('decision corner case', cc.decision, `${cls} → ${cc.decision.predicted} at ${cc.decision.shift.toFixed(2)} std`)}` +
          `${cc.pTrueHalf ? fig('p_true = 0.5', cc.pTrueHalf, `at ${cc.pTrueHalf.shift.toFixed(2)} std, ${verdict(cls, cc.pTrueHalf.predicted)}`) : ''}`
        : `<p class="muted">No corner case: ${esc(c.skipped?.reason ?? c.outcome)}</p>`
    }</div></div>`
  );
}

/** The p_true (and predicted class where it is not the true one) of each classifier under each frame. */
function framesTable(cls: number, ts: RangeTraversal[], strips: Array<[string, string]>): string {
  const head = ts[0].frames
    .map((f) => `<th scope="col" class="num">${f.shift >= 0 ? '+' : ''}${f.shift.toFixed(2)}</th>`)
    .join('');
  const rows = ts
    .map(
      (t) =>
        `<tr data-classifier="${esc(t.classifier)}"><th scope="row">${esc(t.classifier)}</th>${t.frames
          .map(
            (f) =>
              `<td class="num${f.predicted === cls ? '' : ' flip'}" data-ptrue="${f.pTrue}" data-predicted="` +
              `${f.predicted}">${f.pTrue.toFixed(2)}${f.predicted === cls ? '' : `<br>→ ${f.predicted}`}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  // The strips sit in the table, one column per frame, so each number is under its image.
  const stripRows = strips
    .map(
      ([label, img]) =>
        `<tr class="strip"><th scope="row">${esc(label)}</th><td colspan="${ts[0].frames.length}">${img}</td></tr>`,
    )
    .join('');
  return (
    `<table class="sbs-frames png-figure"><caption>p_true of class ${cls} under each frame (shift in std); → the class ` +
    `read instead</caption><thead><tr><th scope="col">classifier</th>${head}</tr></thead><tbody>${stripRows}${rows}</tbody></table>`
  );
}

/** What the panel shows now, for the `vs` control to redraw it. */
let shownFor: { ctx: PageContext; view: View; dim: number; signal: AbortSignal } | null = null;
/** The latest call: an earlier one (another `vs` of the same selection) that finishes later is not drawn. */
let latest: object | null = null;

/** Draws the panel again for `view` (another `vs`) on the dim and selection it shows. */
export function sideBySideAgain(view: View): Promise<void> {
  if (!shownFor || shownFor.signal.aborted) return Promise.resolve();
  return sideBySide(shownFor.ctx, view, shownFor.dim, shownFor.signal);
}

/** Draws the panel for (view's class, dim); resolves once drawn (or failed, or the selection left). */
export async function sideBySide(ctx: PageContext, view: View, dim: number, signal: AbortSignal): Promise<void> {
  shownFor = { ctx, view, dim, signal };
  const call = {};
  latest = call;
  const stale = () => signal.aborted || latest !== call;
  const vs = $('vs');
  if (!vs.dataset.bound) {
    vs.dataset.bound = 'on';
    // A view change (in the URL and the history); the page then calls sideBySideAgain.
    vs.addEventListener('change', () => shownFor?.ctx.select({ vs: (vs as HTMLSelectElement).value }));
  }
  const el = $('sbs-body');
  const b = other(ctx, view);
  const names = [view.classifier, ...(b ? [b] : [])];
  $('sbs-heading').textContent =
    `Dim ${dim} from the class ${view.cls} average: ${names.length > 1 ? `${names[0]} and ${names[1]}` : names[0]}`;
  el.dataset.state = 'loading';
  el.innerHTML = '<p class="muted">Searching each classifier’s corner case…</p>';
  const q = { class: view.cls, dim };
  try {
    // A classifier that cannot be searched (no ranking direction) still gets its frames.
    const corners = await Promise.all(
      names.map((c) =>
        getJson(ctx.api, '/v1/corner-case', { ...q, classifier: c }, ctx.opts(signal)).then(
          (r: LiveCorner) => r,
          (e: unknown) => {
            if (aborted(e)) throw e;
            return e as Error;
          },
        ),
      ),
    );
    if (stale()) return;
    const found = corners.map((c) => (c instanceof Error ? null : c));
    const range = rangeFor(found);
    const ts = (await Promise.all(
      names.map((c) =>
        getJson(
          ctx.api,
          '/v1/traversal',
          { ...q, classifier: c, mode: 'range', frames: FRAMES, range, scale: SCALE },
          ctx.opts(signal),
        ),
      ),
    )) as RangeTraversal[];
    if (stale()) return;
    const same = ts.every((t) => t.strip === ts[0].strip);
    const strip = (t: RangeTraversal) =>
      `<img class="px sbs-strip" src="${t.strip}" alt="` +
      `${esc(
        `frames of dim ${dim} from the class ${view.cls} average, shifts ` +
          `${t.frames[0].shift.toFixed(2)} to +${t.frames[t.frames.length - 1].shift.toFixed(2)} std`,
      )}">`;
    const strips: Array<[string, string]> = same
      ? [['frames', strip(ts[0])]]
      : ts.map((t) => [`${t.classifier}’s frames`, strip(t)]);
    el.innerHTML =
      `<div class="scroll" tabindex="0" role="region" aria-label="frames and each classifier’s ` +
      `p_true (scrolls sideways)">${framesTable(view.cls, ts, strips)}</div><p class="note" data-same-frames="${same}">${
        same
          ? `The same ${FRAMES} images for ${names.length > 1 ? 'both classifiers' : 'the classifier'} (checked: ` +
            `identical strips), ${range} std either side of the class average.`
          : 'The classifiers’ frames differ (their style statistics differ): each classifier’s own frames are shown.'
      }</p><h3 class="sbs-sub">Corner cases of dim ${dim}, class ${view.cls}</h3><div class="sbs-corners">${corners
        .map((c, i) =>
          c instanceof Error
            ? `<div class="sbs-corner" data-classifier="${esc(names[i])}"><h4>${esc(names[i])}</h4><p class="err" role="alert">${esc(c.message)}</p></div>`
            : cornerHtml(view.cls, c),
        )
        .join('')}</div>`;
    el.dataset.state = 'ready';
  } catch (e) {
    if (aborted(e) || stale()) return;
    el.dataset.state = 'error';
    ctx.fail(el, e, () => void sideBySide(ctx, view, dim, signal));
  }
}
