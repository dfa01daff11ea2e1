/**
 * What issue #17 asks of the dashboard as an analyst's tool, in Debian's chromium (playwright-core)
 * against the built worker in workerd: linked drill-down (ranked dim, figure-5 row, corner case,
 * embedding point → the traversal slider on that class and dim), the view in the URL (reload and
 * back/forward restore it), the header line and per-section help, accessibility (axe-core finds
 * no violations on the dashboard and the embeds; keyboard operation; text alternatives for the
 * charts), and desktop and phone screenshots compared against committed references.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from '../worker/harness.js';
import { servableResults } from './fixtures.js';
import { newPage, READY, topDims, waitReady } from './dashboard-page.js';
import { launchChromium } from './browser.js';
import { compareWithReference } from './screenshot-compare.js';

let edge: EdgeServer;
let browser: Browser;
let api: string;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

beforeAll(async () => {
  [edge, browser] = await Promise.all([startEdge(servableResults), launchChromium()]);
  api = edge.url.origin;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await edge?.close();
});

const query = (page: Page) => Object.fromEntries(new URL(page.url()).searchParams);

/** Waits until the slider shows (class, dim) of `classifier` and the page is ready. */
async function sliderOn(page: Page, cls: number, dim: number): Promise<void> {
  await page.waitForSelector(`faultlines-traversal[class="${cls}"][dim="${dim}"][state="ready"]`, { timeout: READY });
  await waitReady(page);
}

describe('drill-down (feature 8)', () => {
  it('a ranked dim, a figure-5 row, a corner case and an embedding point open the traversal on them', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const top = await topDims(edge, 'classifier-clean', 0);
    expect(await page.locator('faultlines-traversal').getAttribute('dim')).toBe(String(top[0]));

    // A ranked dim (the global ranking; the slider stays on the selected class).
    const pick = page.locator('faultlines-ranking button.pick').nth(3);
    const rankedDim = Number(await pick.getAttribute('data-dim'));
    await pick.click();
    await sliderOn(page, 0, rankedDim);
    expect(query(page).dim).toBe(String(rankedDim));

    // A figure-5 row.
    await page.locator(`#fig5 button.pick[data-dim="${top[5]}"]`).click();
    await sliderOn(page, 0, top[5]);
    expect(await page.locator(`#fig5 .row.selected`).getAttribute('data-dim')).toBe(String(top[5]));

    // A corner case of another class: class and dim.
    const corner = page.locator('faultlines-corner-cases button.pick:not([data-class="0"])').first();
    const [cls, dim] = [Number(await corner.getAttribute('data-class')), Number(await corner.getAttribute('data-dim'))];
    await corner.click();
    await sliderOn(page, cls, dim);
    expect(await page.locator('#class').inputValue()).toBe(String(cls));
    expect(query(page)).toMatchObject({ class: String(cls), dim: String(dim) });

    // An embedding point of yet another class (the one farthest from other classes' points, so the click hits it).
    await page.locator('[data-chart="emb-S"] canvas').scrollIntoViewIfNeeded();
    const target = await page.evaluate((current) => {
      const chart = (window as unknown as { faultlinesCharts: Map<string, any> }).faultlinesCharts.get('emb-S');
      const pts: Array<{ k: number; x: number; y: number }> = [];
      for (let k = 0; k <= 10; k++) for (const e of chart.getDatasetMeta(k).data) pts.push({ k, x: e.x, y: e.y });
      let best = { k: -1, x: 0, y: 0, gap: -1 };
      for (const p of pts) {
        if (p.k === 10 || p.k === current) continue;
        let gap = Infinity;
        for (const q of pts) if (q.k !== p.k) gap = Math.min(gap, Math.hypot(q.x - p.x, q.y - p.y));
        if (gap > best.gap) best = { ...p, gap };
      }
      const r = chart.canvas.getBoundingClientRect();
      return { k: best.k, x: r.left + best.x, y: r.top + best.y };
    }, cls);
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction(
      (k) => (document.querySelector('#class') as HTMLSelectElement).value === String(k),
      target.k,
      { timeout: 30_000 },
    );
    await waitReady(page);
    expect(await page.locator('faultlines-traversal').getAttribute('class')).toBe(String(target.k));
    await page.context().close();
  }, 300_000);
});

describe('shareable state (feature 11)', () => {
  it('the URL restores classifier, class, dim and compare; back/forward and reload restore the view', async () => {
    const dim = (await topDims(edge, 'classifier-corrupted', 3))[4];
    const page = await newPage(browser);
    await page.goto(`${api}/?classifier=classifier-corrupted&class=3&dim=${dim}&compare=none`);
    await sliderOn(page, 3, dim);
    expect(await page.locator('#classifier').inputValue()).toBe('classifier-corrupted');
    expect(await page.locator('#class').inputValue()).toBe('3');
    expect(await page.locator('#compare-with').inputValue()).toBe('none');
    expect(await page.locator('faultlines-traversal').getAttribute('classifier')).toBe('classifier-corrupted');
    expect(await page.locator('faultlines-accuracy-curve').getAttribute('compare')).toBe('none');

    // Per-panel export of the same view: the flat CSV tables.
    for (const id of ['#ranking-csv', '#curves-csv']) {
      const href = (await page.locator(id).getAttribute('href'))!;
      expect(href).toContain('classifier=classifier-corrupted');
      const csv = await (await edge.fetch(href)).text();
      expect(csv.split('\r\n').length, id).toBeGreaterThan(2);
    }
    await page.selectOption('#class', '5');
    await waitReady(page);
    expect(query(page)).toMatchObject({ classifier: 'classifier-corrupted', class: '5' });
    expect(query(page).dim).toBeUndefined();

    await page.goBack();
    await sliderOn(page, 3, dim);
    expect(await page.locator('#class').inputValue()).toBe('3');
    await page.goForward();
    await page.waitForSelector('faultlines-traversal[class="5"][state="ready"]', { timeout: READY });
    await waitReady(page);
    await page.reload();
    await page.waitForSelector('faultlines-traversal[class="5"][state="ready"]', { timeout: READY });
    expect(await page.locator('#class').inputValue()).toBe('5');
    expect(await page.locator('#classifier').inputValue()).toBe('classifier-corrupted');
    await page.context().close();
  }, 300_000);
});

describe('what the page is (feature 12)', () => {
  it('a header line and per-section help that explain p_true, KS, AUROC and robustness, with the method', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    expect((await page.locator('header .about').textContent())!.length).toBeGreaterThan(80);
    const sections = await page.locator('section').evaluateAll((els) =>
      els.map((s) => ({
        id: s.id,
        help: s.querySelector('details.help')?.textContent ?? null,
        link: s.querySelector('details.help a[href]') !== null,
      })),
    );
    for (const s of sections.filter((x) => x.id !== 'jobs')) {
      expect(s.help, s.id).not.toBeNull();
      expect(s.link, s.id).toBe(true);
    }
    const help = sections.map((s) => s.help ?? '').join(' ');
    for (const term of ['p_true', 'KS', 'AUROC', 'Robustness']) expect(help).toContain(term);
    await page.context().close();
  }, 120_000);
});

describe('accessibility (feature 13)', () => {
  async function axe(page: Page): Promise<string[]> {
    await page.addScriptTag({ content: AXE });
    const r = await page.evaluate(async () => {
      const res = await (
        window as unknown as {
          axe: {
            run(
              ctx: Document,
              o: object,
            ): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown[] }> }> }>;
          };
        }
      ).axe.run(document, { resultTypes: ['violations'] });
      return res.violations.map(
        (v) =>
          `${v.id}: ${v.nodes
            .slice(0, 3)
            .map((n) => JSON.stringify(n.target))
            .join(' ')}`,
      );
    });
    return r;
  }

  it('axe-core reports no violations on the dashboard', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    expect(await axe(page)).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('axe-core reports no violations on the embeds (light and dark)', async () => {
    const dim = (await topDims(edge, 'classifier-clean', 0))[0];
    const page = await newPage(browser, { width: 800, height: 700 });
    for (const q of [
      `traversal?classifier=classifier-clean&class=0&dim=${dim}`,
      'ranking?classifier=classifier-clean&top=5',
      'corner-cases?classifier=classifier-clean&class=1',
      'accuracy-curve?classifier=classifier-clean&theme=dark',
    ]) {
      await page.goto(`${api}/embed/${q}`);
      await page.waitForFunction(
        () => ['ready', 'error'].includes(document.querySelector('main > [state]')?.getAttribute('state') ?? ''),
        null,
        { timeout: 60_000 },
      );
      expect(await page.locator('main > [state]').first().getAttribute('state'), q).toBe('ready');
      expect(await axe(page), q).toEqual([]);
    }
    await page.context().close();
  }, 180_000);

  it('keyboard: a ranked dim opens with Enter; the slider moves with the arrow keys and announces p_true', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const pick = page.locator('faultlines-ranking button.pick').nth(2);
    const dim = Number(await pick.getAttribute('data-dim'));
    await pick.focus();
    await page.keyboard.press('Enter');
    await sliderOn(page, 0, dim);
    const slider = page.locator('faultlines-traversal input[type="range"]');
    const requests = await page
      .locator('faultlines-traversal')
      .evaluate((el) => (el as unknown as { requests: number }).requests);
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(
      (n) => (document.querySelector('faultlines-traversal') as unknown as { requests: number }).requests > n,
      requests,
      { timeout: 60_000 },
    );
    expect(await page.locator('faultlines-traversal').getAttribute('shift')).not.toBe('0');
    expect(await slider.getAttribute('aria-valuetext')).toMatch(/std: p_true [0-9.e-]+, /);
    await page.context().close();
  }, 180_000);

  it('every chart has a text alternative with its key numbers', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const canvases = await page.locator('canvas').evaluateAll((els) =>
      els.map((c) => ({
        role: c.getAttribute('role'),
        label: c.getAttribute('aria-label') ?? '',
        embedding: c.closest('#emb-charts') !== null,
      })),
    );
    expect(canvases.length).toBe(1 + 6 + 3 + 1);
    for (const c of canvases) {
      // The embeddings are operable (keyboard, dashboard-analyst.test.ts): an application, not an image.
      expect(c.role).toBe(c.embedding ? 'application' : 'img');
      expect(c.label).toMatch(/\d/);
    }
    expect(await page.locator('faultlines-accuracy-curve canvas').getAttribute('aria-label')).toMatch(
      /robustness \d\.\d{3}/,
    );
    expect(await page.locator('faultlines-accuracy-curve details table tbody tr').count()).toBeGreaterThan(0);
    await page.context().close();
  }, 120_000);
});

describe('screenshots against committed references', () => {
  for (const [name, viewport] of [
    ['dashboard-desktop', { width: 1366, height: 900 }],
    ['dashboard-phone', { width: 390, height: 844 }],
  ] as const) {
    it(`${name} matches its reference within the tolerance`, async () => {
      const page = await newPage(browser, viewport);
      await page.goto(`${api}/`);
      await waitReady(page);
      await page.waitForFunction(() => Array.from(document.querySelectorAll('img')).every((i) => i.complete), null, {
        timeout: 30_000,
      });
      // Charts and images are checked by the other tests; masked here, the layout and the text are compared.
      const png = await page.screenshot({
        mask: [page.locator('canvas'), page.locator('img')],
        maskColor: '#8a8f99',
        animations: 'disabled',
        caret: 'hide',
      });
      const c = compareWithReference(name, png);
      expect(
        c.differing,
        `${name}: ${(c.differing * 100).toFixed(2)}% of the pixels differ (see test/browser/screenshots/latest/${name}.diff.png)`,
      ).toBeLessThanOrEqual(0.01);
      await page.context().close();
    }, 120_000);
  }
});
