/**
 * <faultlines-directions> and the dashboard's "What the top dims do" panel in Debian's chromium
 * (playwright-core) against the built worker in workerd: on a page of another origin the widget
 * shows what /v1/directions serves (each dim's label, its largest effects with their intervals,
 * p_true of the classifier and its reference reader, a strip of decoded frames, the "why it fails"
 * sentence), one class with `class`, a clear message for a bad attribute, and a dim click fires
 * `faultlines-select`; on the dashboard the panel follows the classifier and class selection and a
 * click opens that dim's traversal slider. Screenshots go to test/browser/screenshots/.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterfactualSentence } from '../../src/core/analysis/counterfactual-phrases.js';
import type { DirectionsPayload } from '../../src/protocol/directions.js';
import { startEdge, type EdgeServer } from '../worker/harness.js';
import { SCREENSHOTS, launchChromium, staticSite, watchConsole, type StaticSite } from './browser.js';
import { READY, newPage, waitReady } from './dashboard-page.js';
import { servableResults } from './fixtures.js';

let edge: EdgeServer;
let browser: Browser;
let site: StaticSite;
let api: string;

const shot = (name: string) => path.join(SCREENSHOTS, `${name}.png`);

async function directions(classifier: string, cls?: number): Promise<DirectionsPayload> {
  const q = cls === undefined ? '' : `&class=${cls}`;
  return ((await (await edge.fetch(`/v1/directions?classifier=${classifier}${q}`)).json()) as any).payload;
}

beforeAll(async () => {
  [edge, browser] = await Promise.all([startEdge(servableResults), launchChromium()]);
  api = edge.url.origin;
  const w = `${api}/widgets/v1/faultlines-widgets.js`;
  site = await staticSite({
    '/': `<!doctype html><html><head><meta charset="utf-8"><title>A third-party page</title><link rel="icon" href="data:,">
<script type="module" src="${w}"></script></head><body>
<faultlines-directions id="all" api="${api}" classifier="classifier-clean"></faultlines-directions>
<faultlines-directions id="cls" api="${api}" classifier="classifier-corrupted" class="3" top="2"></faultlines-directions>
<faultlines-directions id="bad" api="${api}" classifier="classifier-clean" class="ten"></faultlines-directions>
</body></html>`,
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await edge?.close();
});

const ready = (page: Page, sel: string) =>
  page.waitForFunction((s) => document.querySelector(s)?.getAttribute('state') === 'ready', sel, { timeout: READY });

/** What a widget shows per row: dim, label, effects text, p_true texts, strip size once decoded. */
function rows(page: Page, sel: string) {
  return page.evaluate((s) => {
    const root = document.querySelector(s)!.shadowRoot!;
    return Array.from(root.querySelectorAll('tbody tr')).map((tr) => {
      const img = tr.querySelector<HTMLImageElement>('td.strip img');
      return {
        dim: Number(tr.getAttribute('data-dim')),
        label: tr.querySelector('td.label')!.textContent!.trim(),
        effects: Array.from(tr.querySelectorAll('.effect')).map((e) => e.textContent!.trim()),
        pTrue: tr.querySelector('td.ptrue')!.textContent!.trim(),
        ref: tr.querySelector('td.ref')?.textContent?.trim() ?? null,
        strip: img?.complete ? { w: img.naturalWidth, h: img.naturalHeight } : null,
      };
    });
  }, sel);
}

describe('<faultlines-directions>', () => {
  it('on another origin: the served labels, effects, p_true of both readers, decoded strips and the why sentence', async () => {
    const page = await newPage(browser, { width: 1300, height: 1400 });
    const errors = watchConsole(page);
    await page.goto(site.url);
    await ready(page, '#all');
    await ready(page, '#cls');
    await page.waitForFunction(
      () =>
        Array.from(document.querySelector('#all')!.shadowRoot!.querySelectorAll('td.strip img')).every(
          (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0,
        ),
      undefined,
      { timeout: READY },
    );
    await page.screenshot({ path: shot('directions-widget'), fullPage: true });

    const served = await directions('classifier-clean');
    const r = served.all.result!;
    const shown = await rows(page, '#all');
    expect(shown.map((x) => x.dim)).toEqual(served.all.dims.map((d) => d.index));
    expect(shown.map((x) => x.label)).toEqual(r.directions.map((d) => d.label.text));
    const frames = r.shifts.length;
    shown.forEach((x, i) => {
      const d = r.directions[i];
      const e = d.effects[0];
      expect(x.effects[0]).toBe(
        `${e.factor} ${e.effect >= 0 ? '+' : '−'}${Math.abs(e.effect).toFixed(2)} [${e.ciLow.toFixed(2)}, ${e.ciHigh.toFixed(2)}]`,
      );
      const p = d.classifiers[0].pTrue;
      expect(x.pTrue).toBe(`${p[0].toFixed(2)} → ${p[p.length - 1].toFixed(2)}`);
      const q = d.classifiers[1].pTrue;
      expect(x.ref).toBe(`${q[0].toFixed(2)} → ${q[q.length - 1].toFixed(2)}`);
      // One 32x32 frame per shift, 1 px apart: the strip decoded in the browser.
      expect(x.strip).toEqual({ w: frames * 32 + frames - 1, h: 32 });
    });
    const why = await page.locator('#all p.why:not(.counterfactual)').textContent();
    expect(why).toContain(served.all.why[0].sentence);
    // The counterfactual naming (the edits against the reference reader), in the shared wording.
    const cf = (await page.locator('#all p.counterfactual').textContent())!.replace(/\s+/g, ' ');
    expect(cf).toContain(counterfactualSentence(served.counterfactual!, 'classifier-clean', 'classifier-corrupted'));
    expect(await page.locator('#all h3').textContent()).toContain('classifier-clean');

    // One class, the first `top` of its dims.
    const cls = await directions('classifier-corrupted', 3);
    const clsRows = await rows(page, '#cls');
    expect(clsRows.map((x) => x.dim)).toEqual(cls.classes[0].dims.slice(0, 2).map((d) => d.index));
    expect(clsRows.map((x) => x.label)).toEqual(cls.classes[0].result!.directions.slice(0, 2).map((d) => d.label.text));
    expect(await page.locator('#cls h3').textContent()).toContain('class 3');

    // A bad attribute: a message naming it, no table.
    await page.waitForFunction(() => document.querySelector('#bad')?.getAttribute('state') === 'error', undefined, {
      timeout: READY,
    });
    expect(await page.locator('#bad .error').textContent()).toContain('class');
    expect(await page.locator('#bad table').count()).toBe(0);

    // A dim is a button: faultlines-select names it (and no class for the global top dims).
    const detail = page.evaluate(
      () =>
        new Promise((resolve) =>
          document.addEventListener('faultlines-select', (e) => resolve((e as CustomEvent).detail), { once: true }),
        ),
    );
    await page.locator(`#all button.pick[data-dim="${shown[1].dim}"]`).click();
    expect(await detail).toEqual({ dim: shown[1].dim, classifier: 'classifier-clean' });
    expect(errors).toEqual([]);
    // Bounds for a loaded machine (each wait is bounded by READY), not timings.
  }, 400_000);
});

describe('dashboard: What the top dims do', () => {
  it('follows the classifier and class, and a dim opens its traversal', async () => {
    const page = await newPage(browser, { width: 1400, height: 1000 });
    const errors = watchConsole(page);
    await page.goto(`${api}/?classifier=classifier-corrupted&class=5`);
    await waitReady(page);
    const panel = page.locator('#directions');
    expect(await panel.locator('faultlines-directions[state="ready"]').count()).toBe(2);
    const global = await directions('classifier-corrupted');
    const five = await directions('classifier-corrupted', 5);
    expect((await rows(page, '#directions-slot faultlines-directions')).map((x) => x.label)).toEqual(
      global.all.result!.directions.map((d) => d.label.text),
    );
    expect((await rows(page, '#directions-class-slot faultlines-directions')).map((x) => x.dim)).toEqual(
      five.classes[0].dims.map((d) => d.index),
    );
    await panel.screenshot({ path: shot('dashboard-directions') });

    // Another class: the class widget follows, the global one stays the classifier's.
    await page.selectOption('#class', '7');
    await waitReady(page);
    await page.waitForSelector('#directions-class-slot faultlines-directions[class="7"][state="ready"]', {
      timeout: READY,
    });
    const seven = await directions('classifier-corrupted', 7);
    expect((await rows(page, '#directions-class-slot faultlines-directions')).map((x) => x.dim)).toEqual(
      seven.classes[0].dims.map((d) => d.index),
    );

    // A dim of the class's directions opens its traversal slider on that class.
    const dim = seven.classes[0].dims[1].index;
    await page.locator(`#directions-class-slot faultlines-directions button.pick[data-dim="${dim}"]`).click();
    await page.waitForSelector(`faultlines-traversal[class="7"][dim="${dim}"][state="ready"]`, { timeout: READY });
    expect(new URL(page.url()).searchParams.get('dim')).toBe(String(dim));
    expect(errors).toEqual([]);
  }, 400_000);
});
