/**
 * Issue #17's defects, each reproduced in Debian's chromium (playwright-core) against the built
 * worker in workerd: stale responses after fast classifier switches, the phone layout, cold-load
 * live traversals refused by the live limiter, a failed slider request, a hung API, the charts, and
 * stale or invalid headings and attributes. Slow or failing API answers are made with Playwright's
 * request interception (delays, 503s, hangs), so every test waits for outcomes, never for time.
 */
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from '../worker/harness.js';
import { servableResults } from './fixtures.js';
import { newPage, topDims, waitReady } from './dashboard-page.js';
import { launchChromium, staticSite, watchConsole, type StaticSite } from './browser.js';

let edge: EdgeServer;
let browser: Browser;
let api: string;

beforeAll(async () => {
  [edge, browser] = await Promise.all([startEdge(servableResults), launchChromium()]);
  api = edge.url.origin;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await edge?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const param = (route: Route, name: string) => new URL(route.request().url()).searchParams.get(name);
const problemJson = (status: number, title: string, detail: string, headers: Record<string, string> = {}) => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...headers },
  body: JSON.stringify({ type: 'about:blank', title, status, detail }),
});

describe('cold load (defect 3)', () => {
  // First in the file: the worker's isolate is fresh and no live traversal is cached.
  it('a first load on a fresh isolate draws every live traversal and thumbnail', async () => {
    const page = await newPage(browser);
    const errors = watchConsole(page);
    await page.goto(`${api}/`);
    await waitReady(page);
    expect(await page.locator('#fig5 .row[data-state="ready"]').count()).toBe(10);
    expect(await page.locator('#fig5 .err').count()).toBe(0);
    expect(await page.locator('faultlines-ranking .thumb-err').count()).toBe(0);
    expect(await page.locator('faultlines-ranking td.thumb img').count()).toBe(10);
    await page.waitForFunction(
      () =>
        Array.from(document.querySelector('faultlines-ranking')!.shadowRoot!.querySelectorAll('img')).every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      null,
      { timeout: 30_000 },
    );
    expect(await page.locator('faultlines-traversal').getAttribute('state')).toBe('ready');
    expect(errors.filter((e) => !e.includes('503'))).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('a refused live traversal is retried after Retry-After; one refused every time shows why, with a retry', async () => {
    const page = await newPage(browser);
    const dims = await topDims(edge, 'classifier-clean', 0);
    const seen = new Map<string, number>();
    let blocked = true;
    await page.route(
      (url) => url.pathname === '/v1/traversal' && url.searchParams.get('mode') === 'crossing',
      async (route) => {
        const dim = param(route, 'dim')!;
        const n = (seen.get(dim) ?? 0) + 1;
        seen.set(dim, n);
        // dims[1]: refused once, then served; dims[2]: refused until the test lifts the block.
        if ((dim === String(dims[1]) && n === 1) || (dim === String(dims[2]) && blocked)) {
          await route.fulfill(
            problemJson(503, 'Live computation busy', 'injected: the live queue is full', { 'retry-after': '1' }),
          );
          return;
        }
        await route.continue();
      },
    );
    await page.goto(`${api}/`);
    await waitReady(page);
    const row = (d: number) => page.locator(`#fig5 .row[data-dim="${d}"]`);
    expect(await row(dims[1]).getAttribute('data-state')).toBe('ready');
    expect(seen.get(String(dims[1]))).toBe(2);
    // Refused on every attempt: the reason (the problem's detail) and a retry button, not "traversal failed".
    expect(await row(dims[2]).getAttribute('data-state')).toBe('error');
    expect(seen.get(String(dims[2]))).toBeGreaterThan(1);
    expect(await row(dims[2]).locator('[role="alert"]').textContent()).toContain('injected: the live queue is full');
    blocked = false;
    await row(dims[2]).locator('button.retry').click();
    await page.waitForSelector(`#fig5 .row[data-dim="${dims[2]}"][data-state="ready"]`, { timeout: 60_000 });
    await page.context().close();
  }, 180_000);
});

describe('stale responses (defect 1)', () => {
  it('switching classifiers quickly never draws the old selection', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const clean = (await (await edge.fetch('/v1/histograms?classifier=classifier-clean')).json()) as {
      payload: { wellCount: number; misCount: number };
    };
    const corrupted = (await (await edge.fetch('/v1/histograms?classifier=classifier-corrupted')).json()) as {
      payload: { wellCount: number; misCount: number };
    };
    expect(corrupted.payload.wellCount).not.toBe(clean.payload.wellCount);
    // The corrupted classifier's answers come 4 s late.
    const delayed: Array<Promise<void>> = [];
    await page.route(
      (url) => url.pathname.startsWith('/v1/') && url.searchParams.get('classifier') === 'classifier-corrupted',
      (route) => {
        const p = sleep(4000).then(() => route.continue().catch(() => {}));
        delayed.push(p);
        return p;
      },
    );
    await page.selectOption('#classifier', 'classifier-corrupted');
    await page.selectOption('#classifier', 'classifier-clean');
    await waitReady(page);
    // Let every delayed answer arrive (or be aborted), then give the page time to (wrongly) draw it.
    while (delayed.length === 0) await sleep(100);
    await Promise.all(delayed);
    await sleep(1500);
    await waitReady(page);
    expect(await page.locator('#classifier').inputValue()).toBe('classifier-clean');
    const note = await page.locator('#hist-note').textContent();
    expect(note).toContain(`${clean.payload.wellCount} well-`);
    expect(note).not.toContain(`${corrupted.payload.wellCount} well-`);
    expect(
      await page
        .locator('#fig5 .row[data-dim]')
        .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.dim))),
    ).toEqual(await topDims(edge, 'classifier-clean', 0));
    for (const tag of [
      'faultlines-traversal',
      'faultlines-ranking',
      'faultlines-corner-cases',
      'faultlines-accuracy-curve',
    ])
      expect(await page.locator(tag).getAttribute('classifier')).toBe('classifier-clean');
    await page.context().close();
  }, 180_000);
});

describe('phone layout (defect 2)', () => {
  it('a 390 px wide screen has no horizontal overflow', async () => {
    const page = await newPage(browser, { width: 390, height: 844 });
    await page.goto(`${api}/`);
    await waitReady(page);
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      sections: Array.from(document.querySelectorAll('section')).map((s) => ({
        id: s.id,
        right: s.getBoundingClientRect().right,
      })),
    }));
    expect(widths.page).toBeLessThanOrEqual(390);
    for (const s of widths.sections) expect(s.right, s.id).toBeLessThanOrEqual(390);
    await page.context().close();
  }, 180_000);
});

describe('slider and timeouts (defects 4, 5)', () => {
  it('a failed slider request keeps the last good frame, shows the error inline and fires an error event', async () => {
    const dim = (await topDims(edge, 'classifier-clean', 0))[0];
    const page = await newPage(browser);
    await page.goto(`${api}/embed/traversal?classifier=classifier-clean&class=0&dim=${dim}`);
    const t = page.locator('faultlines-traversal');
    await page.waitForFunction(
      () => document.querySelector('faultlines-traversal')?.getAttribute('state') === 'ready',
      null,
      { timeout: 60_000 },
    );
    await page.evaluate(() => {
      const w = window as unknown as { errs: unknown[] };
      w.errs = [];
      document.addEventListener('faultlines-error', (e) => w.errs.push((e as CustomEvent).detail));
    });
    const before = await t.locator('[part="image"]').getAttribute('style');
    let fail = true;
    await page.route(
      (url) => url.pathname === '/v1/traversal',
      (route) => (fail ? route.fulfill(problemJson(500, 'Internal', 'injected slider failure')) : route.continue()),
    );
    await t.locator('input[type="range"]').fill('3');
    await page.waitForFunction(() => (window as unknown as { errs: unknown[] }).errs.length > 0, null, {
      timeout: 30_000,
    });
    expect(await t.getAttribute('state')).toBe('ready');
    expect(await t.locator('[part="image"]').getAttribute('style')).toBe(before);
    expect(await t.locator('input[type="range"]').count()).toBe(1);
    expect(await t.locator('[part="frame-error"]').textContent()).toContain('injected slider failure');
    fail = false;
    const requests = await t.evaluate((el) => (el as unknown as { requests: number }).requests);
    await t.locator('[part="frame-error"] button').click();
    await page.waitForFunction(
      (n) => (document.querySelector('faultlines-traversal') as unknown as { requests: number }).requests > n,
      requests,
      { timeout: 60_000 },
    );
    expect(await t.locator('[part="frame-error"]').count()).toBe(0);
    await page.context().close();
  }, 120_000);

  it('a hung API times out with a message and a retry', async () => {
    const page = await newPage(browser);
    const hung: Route[] = [];
    let hang = true;
    await page.route(
      (url) => url.pathname === '/v1/histograms',
      (route) => {
        if (hang) hung.push(route);
        else return route.continue();
      },
    );
    await page.goto(`${api}/?timeout=2`);
    await waitReady(page);
    const alert = page.locator('#hist-charts [role="alert"]');
    expect(await alert.textContent()).toMatch(/did not answer \/v1\/histograms within 2 s/);
    hang = false;
    await alert.locator('button.retry').click();
    await page.waitForFunction(() => document.querySelectorAll('#hist-charts canvas').length === 6, null, {
      timeout: 60_000,
    });
    await Promise.all(hung.map((r) => r.abort().catch(() => {})));
    await page.context().close();
  }, 120_000);
});

describe('charts (defect 6)', () => {
  it('comparison y title, missing metric not drawn as 0, histogram axes and shares, embeddings legend, thin bins hidden with counts', async () => {
    const page = await newPage(browser);
    // The corrupted classifier's accuracy curves are missing; one bin of the clean one's holds 1 sample.
    await page.route(
      (url) => url.pathname === '/v1/accuracy-curves',
      async (route) => {
        if (param(route, 'classifier') === 'classifier-corrupted')
          return route.fulfill(problemJson(404, 'Not found', 'injected: no accuracy curves'));
        const res = await route.fetch();
        const body = (await res.json()) as {
          payload: {
            curves: Array<{
              bins: Array<{
                count: number;
                accuracy: number | null;
                ciLow: number | null;
                ciHigh: number | null;
                sparse: boolean;
              }>;
            }>;
          };
        };
        const bins = body.payload.curves[0].bins;
        Object.assign(bins[bins.length - 1], { count: 1, accuracy: 1, ciLow: 0.21, ciHigh: 1, sparse: true });
        return route.fulfill({ response: res, json: body });
      },
    );
    await page.goto(`${api}/`);
    await waitReady(page);
    const compare = await page.evaluate(() => {
      const c = (
        window as unknown as { faultlinesCharts: Map<string, { options: any; data: any }> }
      ).faultlinesCharts.get('compare')!;
      return {
        yTitle: c.options.scales.y.title,
        datasets: c.data.datasets.map((d: { label: string; data: Array<number | null> }) => ({
          label: d.label,
          data: d.data,
        })),
      };
    });
    expect(compare.yTitle.display).toBe(true);
    expect(compare.yTitle.text.length).toBeGreaterThan(0);
    expect(compare.datasets.find((d: { label: string }) => d.label === 'classifier-corrupted').data[3]).toBeNull();
    const hist = await page.evaluate(() => {
      const c = (window as unknown as { faultlinesCharts: Map<string, { options: any }> }).faultlinesCharts.get(
        'hist-0',
      )!;
      return { x: c.options.scales.x.title, y: c.options.scales.y.title };
    });
    expect(hist.x.display && hist.y.display).toBe(true);
    expect(hist.y.text).toMatch(/share/);
    const note = await page.locator('#hist-note').textContent();
    expect(note).toMatch(/share/);
    expect(note).not.toMatch(/densit/);
    expect(await page.locator('#emb-legend li').count()).toBe(11);
    const curve = page.locator('faultlines-accuracy-curve');
    const last = await curve.evaluate((el) => {
      const ch = (el as unknown as { chart: { data: { datasets: Array<{ data: Array<{ y: number | null }> }> } } })
        .chart;
      const d = ch.data.datasets[0].data;
      return d[d.length - 1].y;
    });
    expect(last).toBeNull();
    expect(await curve.locator('tr[data-count="1"]').textContent()).toContain('not drawn');
    await page.context().close();
  }, 120_000);

  it('dark-theme chart text has at least 4.5:1 contrast and the grid is visible', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/embed/accuracy-curve?classifier=classifier-clean&theme=dark`);
    await page.waitForFunction(
      () => document.querySelector('faultlines-accuracy-curve')?.getAttribute('state') === 'ready',
      null,
      { timeout: 60_000 },
    );
    const colors = await page.locator('faultlines-accuracy-curve').evaluate((el) => {
      const o = (el as unknown as { chart: { options: any } }).chart.options;
      return {
        ticks: o.scales.x.ticks.color,
        title: o.scales.x.title.color,
        legend: o.plugins.legend.labels.color,
        grid: o.scales.x.grid.color,
      };
    });
    const bg = '#111418';
    expect(contrast(colors.ticks, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.title, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.legend, bg)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colors.grid, bg)).toBeGreaterThanOrEqual(2);
    await page.context().close();
  }, 120_000);
});

describe('stale or invalid headings and attributes (defect 7)', () => {
  let site: StaticSite;
  beforeAll(async () => {
    const dim = (await topDims(edge, 'classifier-clean', 0))[0];
    site = await staticSite({
      '/':
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widgets</title><link rel="icon" ` +
        `href="data:,"><script type="module" src="${api}/widgets/v1/faultlines-widgets.js"></script></head><body>
<faultlines-ranking id="ranking" api="${api}" classifier="classifier-clean" top="3" thumbs="false"></faultlines-ranking>
<faultlines-traversal id="bad-class" api="${api}" classifier="classifier-clean" class="abc" dim="${dim}"></faultlines-traversal>
</body></html>`,
    });
  });
  afterAll(async () => {
    await site?.close();
  });

  it('a widget names no old classifier after a failed switch, and refuses class="abc" visibly', async () => {
    const page = await newPage(browser);
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => document.querySelector('#ranking')?.getAttribute('state') === 'ready', null, {
      timeout: 60_000,
    });
    expect(await page.locator('#ranking h3').textContent()).toContain('classifier-clean');
    await page.locator('#ranking').evaluate((el) => el.setAttribute('classifier', 'no-such-classifier'));
    await page.waitForFunction(() => document.querySelector('#ranking')?.getAttribute('state') === 'error', null, {
      timeout: 60_000,
    });
    expect(await page.locator('#ranking h3').textContent()).not.toContain('classifier-clean');
    await page.waitForFunction(
      () => ['ready', 'error'].includes(document.querySelector('#bad-class')?.getAttribute('state') ?? ''),
      null,
      { timeout: 60_000 },
    );
    expect(await page.locator('#bad-class').getAttribute('state')).toBe('error');
    expect(await page.locator('#bad-class [role="alert"]').textContent()).toContain('class="abc"');
    expect(await page.locator('#bad-class h3').textContent()).not.toContain('abc');
    await page.context().close();
  }, 120_000);

  it('an invalid /embed parameter is a readable HTML page, not raw problem+json', async () => {
    const page = await newPage(browser);
    const res = await page.goto(`${api}/embed/traversal?classifier=classifier-clean&class=abc&dim=3`);
    expect(res!.status()).toBe(400);
    expect(res!.headers()['content-type']).toContain('text/html');
    const text = await page.locator('[role="alert"]').textContent();
    expect(text).toContain('cannot be shown');
    expect(text).toContain('class');
    // API clients still get problem+json.
    const api400 = await edge.fetch('/embed/traversal?classifier=classifier-clean&class=abc&dim=3', {
      headers: { accept: 'application/json' },
    });
    expect(api400.headers.get('content-type')).toContain('problem+json');
    await page.context().close();
  });

  it('with the API down, the comparison section shows an error, not an empty chart', async () => {
    const page = await newPage(browser);
    await page.route(
      (url) => url.pathname.startsWith('/v1/'),
      (route) => route.abort('connectionrefused'),
    );
    await page.goto(`${api}/`);
    await waitReady(page);
    expect(await page.locator('#compare [role="alert"]').textContent()).toContain('unreachable');
    expect(await page.locator('#compare canvas').count()).toBe(0);
    await page.context().close();
  });

  it('"ready" comes after the slider has drawn its frame', async () => {
    const page = await newPage(browser);
    await page.route(
      (url) => url.pathname === '/v1/traversal' && url.searchParams.get('frames') === '3',
      async (route) => {
        await sleep(3000);
        await route.continue().catch(() => {});
      },
    );
    await page.goto(`${api}/`);
    await waitReady(page);
    expect(await page.locator('faultlines-traversal').getAttribute('state')).toBe('ready');
    await page.context().close();
  }, 120_000);
});

/** WCAG contrast ratio of two #rgb or #rrggbb colours. */
function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const full = hex.trim().replace(/^#([0-9a-f])([0-9a-f])([0-9a-f])$/i, '#$1$1$2$2$3$3');
    const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(full);
    if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
    const [r, g, bl] = m.slice(1).map((h) => {
      const c = parseInt(h, 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
