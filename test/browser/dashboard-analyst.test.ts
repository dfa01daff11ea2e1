/**
 * Issue #17's remaining analyst features, in Debian's chromium (playwright-core) against the built
 * worker in workerd, each checked by an independent computation rather than by what the page says:
 * - two classifiers on one direction (feature 9): the frames shown are cut out of the strip and
 *   classified again by POST /v1/classify with each classifier; the corner cases are the cached ones;
 * - sample inspection in the embeddings (feature 10): the hovered sample's image is classified again
 *   and its class and verdict agree with the cached embeddings; the colourings' groups are counted
 *   from the embeddings payloads;
 * - keyboard operation of the embedding points (Tab, arrow keys, Enter, visible focus, ARIA);
 * - per-panel export (feature 11): the PNG holds the chart's own pixels and the traversal strip's,
 *   and the copied widget snippet renders the same panel on another origin.
 */
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from '../worker/harness.js';
import { servableResults } from './fixtures.js';
import { newPage, READY, waitReady } from './dashboard-page.js';
import { launchChromium, staticSite, watchConsole } from './browser.js';

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

/** Grey values in [0, 1] of a PNG (grey or RGB(A): the first channel). */
function grey(png: Uint8Array | string): { width: number; height: number; v: (x: number, y: number) => number } {
  const bytes = typeof png === 'string' ? Buffer.from(png.replace(/^data:image\/png;base64,/, ''), 'base64') : png;
  const img = decode(bytes);
  const ch = img.channels;
  return { width: img.width, height: img.height, v: (x, y) => Number(img.data[(y * img.width + x) * ch]) / 255 };
}

/** The 32x32 image (1024 values) of the tile at (x0, y0) of a strip drawn at `scale`. */
function tile(g: ReturnType<typeof grey>, x0: number, y0: number, scale: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out.push(g.v(x0 + x * scale, y0 + y * scale));
  return out;
}

async function classify(
  classifier: string,
  images: number[][],
): Promise<Array<{ predicted: number; probabilities: number[] }>> {
  const res = await edge.fetch('/v1/classify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ classifier, images }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: Array<{ predicted: number; probabilities: number[] }> }).results;
}

interface CachedCase {
  dim: { index: number };
  decision: { shift: number; predicted: number };
}
async function cachedCases(classifier: string, cls: number): Promise<CachedCase[]> {
  const r = (await (await edge.fetch(`/v1/corner-cases?classifier=${classifier}&class=${cls}`)).json()) as {
    payload: { classes: Array<{ classIndex: number; cases: CachedCase[] }> };
  };
  return r.payload.classes.find((k) => k.classIndex === cls)!.cases;
}

interface Embeddings {
  labels: number[];
  correct: number[];
}
async function embeddingsOf(classifier: string): Promise<Embeddings> {
  return (
    (await (await edge.fetch(`/v1/embeddings?classifier=${classifier}&space=Z`)).json()) as { payload: Embeddings }
  ).payload;
}

describe('two classifiers on one direction (feature 9)', () => {
  it("the same frames with each classifier's p_true and prediction, re-classified; both corner cases of the dim", async () => {
    const cls = 0;
    // A dim with a cached corner case of the clean classifier: the live panel must show the same one.
    const clean = await cachedCases('classifier-clean', cls);
    const dim = clean[0].dim.index;
    const page = await newPage(browser);
    await page.goto(`${api}/?classifier=classifier-clean&class=${cls}&dim=${dim}`);
    await waitReady(page);
    await page.waitForSelector('#sbs-body[data-state="ready"]', { timeout: READY });
    expect(await page.locator('#vs').inputValue()).toBe('classifier-corrupted');
    expect(await page.locator('#sbs-body [data-same-frames]').getAttribute('data-same-frames')).toBe('true');

    const strip = (await page.locator('#sbs-body img.sbs-strip').getAttribute('src'))!;
    const g = grey(strip);
    const frames = Math.round((g.width + 2) / 66);
    expect(frames).toBe(13);
    const images = Array.from({ length: frames }, (_, f) => tile(g, f * 66, 0, 2));
    for (const name of ['classifier-clean', 'classifier-corrupted']) {
      const shown = await page
        .locator(`table.sbs-frames tr[data-classifier="${name}"] td`)
        .evaluateAll((tds) =>
          tds.map((td) => ({ p: Number(td.dataset.ptrue), predicted: Number(td.dataset.predicted) })),
        );
      expect(shown.length, name).toBe(frames);
      const again = await classify(name, images);
      again.forEach((r, f) => {
        // The strip is 8-bit: p_true of the re-classified frame is within a rounding of the shown one.
        expect(Math.abs(r.probabilities[cls] - shown[f].p), `${name} frame ${f}`).toBeLessThan(0.03);
        if (Math.max(...r.probabilities) > 0.6) expect(r.predicted, `${name} frame ${f}`).toBe(shown[f].predicted);
      });
    }
    // The two classifiers really differ somewhere along this dim (else the panel would show nothing).
    const rows = await page
      .locator('table.sbs-frames tbody tr[data-classifier]')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.dataset.ptrue)));
    expect(rows[0]).not.toEqual(rows[1]);

    // Both corner cases of (class, dim): the live search is the cached one where the cache has it.
    for (const [name, cases] of [
      ['classifier-clean', clean],
      ['classifier-corrupted', await cachedCases('classifier-corrupted', cls)],
    ] as const) {
      const box = page.locator(`.sbs-corner[data-classifier="${name}"]`);
      await expect(box.count()).resolves.toBe(1);
      const cached = cases.find((c) => c.dim.index === dim);
      if (!cached) continue;
      expect(Number(await box.getAttribute('data-decision-shift')), name).toBeCloseTo(cached.decision.shift, 3);
      expect(Number(await box.getAttribute('data-decision-predicted')), name).toBe(cached.decision.predicted);
    }

    // The classifier beside this one is part of the view: in the URL, back restores it.
    await page.selectOption('#vs', 'none');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('vs') === 'none');
    await page.waitForSelector('#sbs-body[data-state="ready"]', { timeout: READY });
    expect(await page.locator('table.sbs-frames tbody tr[data-classifier]').count()).toBe(1);
    await page.goBack();
    await page.waitForFunction(
      () => (document.querySelector('#vs') as HTMLSelectElement).value === 'classifier-corrupted',
    );
    await page.waitForSelector('#sbs-body[data-state="ready"]', { timeout: READY });
    expect(await page.locator('table.sbs-frames tbody tr[data-classifier]').count()).toBe(2);
    await page.context().close();
  }, 300_000);
});

/** Page coordinates of sample `i` in embedding chart `id`. */
async function pointOf(page: Page, id: string, i: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([id, i]) => {
      const chart = (window as unknown as { faultlinesCharts: Map<string, any> }).faultlinesCharts.get(id as string);
      for (let d = 0; d < chart.data.datasets.length; d++) {
        const j = chart.data.datasets[d].data.findIndex((p: { i: number }) => p.i === i);
        if (j >= 0) {
          const el = chart.getDatasetMeta(d).data[j];
          const r = chart.canvas.getBoundingClientRect();
          return { x: r.left + el.x, y: r.top + el.y };
        }
      }
      throw new Error(`sample ${i} not drawn`);
    },
    [id, i] as const,
  );
}

describe('sample inspection in the embeddings (feature 10)', () => {
  it('hover shows the sample (re-classified), its true and predicted class; colour by correctness and against another classifier', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const emb = await embeddingsOf('classifier-clean');
    const other = await embeddingsOf('classifier-corrupted');
    await page.locator('[data-chart="emb-S"] canvas').scrollIntoViewIfNeeded();
    // A misclassified sample far from every other point, so the pointer hits it alone.
    const i = await page.evaluate(() => {
      const chart = (window as unknown as { faultlinesCharts: Map<string, any> }).faultlinesCharts.get('emb-S');
      const pts: Array<{ d: number; i: number; x: number; y: number }> = [];
      chart.data.datasets.forEach((ds: { data: Array<{ i: number }> }, d: number) =>
        chart
          .getDatasetMeta(d)
          .data.forEach((el: { x: number; y: number }, j: number) =>
            pts.push({ d, i: ds.data[j].i, x: el.x, y: el.y }),
          ),
      );
      let best = { i: -1, gap: -1 };
      for (const p of pts.filter((q) => q.d === 10)) {
        let gap = Infinity;
        for (const q of pts) if (q !== p) gap = Math.min(gap, Math.hypot(q.x - p.x, q.y - p.y));
        if (gap > best.gap) best = { i: p.i, gap };
      }
      return best.i;
    });
    expect(emb.correct[i]).toBe(0);
    const at = await pointOf(page, 'emb-S', i);
    await page.mouse.move(at.x, at.y);
    const box = page.locator(`#emb-inspect[data-index="${i}"][data-state="ready"]`);
    await box.waitFor({ timeout: 60_000 });
    expect(await box.getAttribute('data-class')).toBe(String(emb.labels[i]));
    const predicted = Number(await box.getAttribute('data-predicted'));
    expect(predicted).not.toBe(emb.labels[i]);
    const text = (await box.textContent())!;
    expect(text).toContain(`true class ${emb.labels[i]}`);
    expect(text).toContain(`predicted ${predicted}`);
    expect(text).toContain('misclassified');
    expect(await box.locator('.err').count()).toBe(0);
    // The image shown is what the classifier misreads: classified again from its pixels.
    const g = grey((await box.locator('img').getAttribute('src'))!);
    expect([g.width, g.height]).toEqual([96, 96]);
    const [again] = await classify('classifier-clean', [tile(g, 0, 0, 3)]);
    expect(again.predicted).toBe(predicted);

    // Colour by correctness: two groups, counted from the payload, in the legend and the charts.
    const counts = async () =>
      page.evaluate(() => {
        const chart = (window as unknown as { faultlinesCharts: Map<string, any> }).faultlinesCharts.get('emb-W');
        return chart.data.datasets.map((d: { data: unknown[] }) => d.data.length) as number[];
      });
    await page.selectOption('#emb-colour', 'correct');
    await page.waitForFunction(() => document.querySelectorAll('#emb-legend li').length === 2);
    const mis = emb.correct.filter((c) => !c).length;
    expect(await counts()).toEqual([emb.labels.length - mis, mis]);
    expect(await page.locator('#emb-legend').textContent()).toContain(`misclassified (${mis})`);

    // Against the corruption-trained classifier on the same samples: four groups.
    await page.selectOption('#emb-colour', 'vs:classifier-corrupted');
    await page.waitForFunction(() => document.querySelectorAll('#emb-legend li').length === 4);
    const n = (a: number, b: number) => emb.correct.filter((c, k) => c === a && other.correct[k] === b).length;
    expect(await counts()).toEqual([n(1, 1), n(0, 1), n(1, 0), n(0, 0)]);
    expect(await page.locator('[data-chart="emb-W"] canvas').getAttribute('aria-label')).toContain(
      `both wrong ${n(0, 0)}`,
    );
    await page.context().close();
  }, 300_000);
});

describe('keyboard operation of the embedding points', () => {
  it('Tab reaches a chart (visible focus), the arrow keys move between samples, Enter opens the sample class', async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const emb = await embeddingsOf('classifier-clean');
    await page.locator('#emb-colour').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return {
        chart: el.closest('[data-chart]')?.getAttribute('data-chart'),
        role: el.getAttribute('role'),
        description: el.getAttribute('aria-roledescription'),
        keys: document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
        outline: getComputedStyle(el).outlineStyle,
        label: el.getAttribute('aria-label') ?? '',
      };
    });
    expect(focused).toMatchObject({ chart: 'emb-Z', role: 'application', description: 'scatter plot' });
    expect(focused.keys).toMatch(/arrow keys/);
    expect(focused.outline).not.toBe('none');
    expect(focused.label).toMatch(/\d+ samples/);

    const inspected = async () => {
      await page.waitForSelector('#emb-inspect[data-state="ready"]', { timeout: 60_000 });
      return Number(await page.locator('#emb-inspect').getAttribute('data-index'));
    };
    await page.keyboard.press('ArrowRight');
    let i = await inspected();
    const seen = [i];
    // Move on until a sample of another class than the page's (class 0).
    for (let k = 0; k < 30 && emb.labels[i] === 0; k++) {
      await page.keyboard.press(k % 2 ? 'ArrowDown' : 'ArrowRight');
      await page.waitForFunction(
        (prev) => document.querySelector('#emb-inspect')?.getAttribute('data-index') !== String(prev),
        i,
      );
      i = await inspected();
      seen.push(i);
    }
    expect(emb.labels[i]).not.toBe(0);
    expect(new Set(seen).size).toBe(seen.length);
    // The active point is the one inspected (Chart.js's active element).
    const active = await page.evaluate(() => {
      const chart = (window as unknown as { faultlinesCharts: Map<string, any> }).faultlinesCharts.get('emb-Z');
      const a = chart.getActiveElements()[0];
      return chart.data.datasets[a.datasetIndex].data[a.index].i as number;
    });
    expect(active).toBe(i);
    expect(await page.locator('#emb-inspect').getAttribute('aria-live')).toBe('polite');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (k) => (document.querySelector('#class') as HTMLSelectElement).value === String(k),
      emb.labels[i],
      { timeout: 30_000 },
    );
    await waitReady(page);
    expect(await page.locator('faultlines-traversal').getAttribute('class')).toBe(String(emb.labels[i]));
    await page.context().close();
  }, 300_000);
});

describe('per-panel export (feature 11)', () => {
  it("a chart panel's PNG holds the charts' own pixels; the traversals' PNG holds the strips", async () => {
    const page = await newPage(browser);
    await page.goto(`${api}/`);
    await waitReady(page);
    const png = async (panel: string) => {
      const [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.locator(`div.tools[data-panel="${panel}"] button.png`).click(),
      ]);
      expect(dl.suggestedFilename()).toMatch(new RegExp(`^faultlines-${panel}-classifier-clean-class0.*\\.png$`));
      return grey(readFileSync((await dl.path())!));
    };
    // Histograms: six charts; the first one's pixels (where opaque) at its place in the PNG.
    const hist = await png('histograms');
    const layout = await page.evaluate(() => {
      const cs = Array.from(document.querySelectorAll<HTMLCanvasElement>('#histograms canvas'));
      const boxes = cs.map((c) => c.getBoundingClientRect());
      const left = Math.min(...boxes.map((b) => b.left));
      const top = Math.min(...boxes.map((b) => b.top));
      return {
        width: Math.max(...boxes.map((b) => b.right)) - left,
        height: Math.max(...boxes.map((b) => b.bottom)) - top,
        first: { x: boxes[0].left - left, y: boxes[0].top - top, png: cs[0].toDataURL('image/png') },
      };
    });
    // Canvases are whole pixels in a fractional layout: within a pixel of it.
    expect(Math.abs(hist.width - layout.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(hist.height - layout.height)).toBeLessThanOrEqual(1);
    const own = decode(Buffer.from(layout.first.png.split(',')[1], 'base64'));
    // The chart's own pixels composed on white (Chart.js leaves its background transparent).
    let marked = 0;
    for (let y = 0; y < own.height; y++)
      for (let x = 0; x < own.width; x++) {
        const o = (y * own.width + x) * 4;
        const alpha = Number(own.data[o + 3]);
        const onWhite = (Number(own.data[o]) * alpha + 255 * (255 - alpha)) / 255 / 255;
        const got = hist.v(layout.first.x + x, layout.first.y + y);
        if (Math.abs(got - onWhite) > 2 / 255)
          throw new Error(`pixel (${x}, ${y}) of the first histogram: ${got} in the PNG, ${onWhite} on screen`);
        if (onWhite < 0.9) marked++;
      }
    // Not a blank image: bars, axes and text.
    expect(marked).toBeGreaterThan(500);

    // Figure 5: the first dim row's strip, pixel for pixel, after the label column and the progress row.
    const fig = await png('traversals');
    const strip = grey((await page.locator('#fig5 .row[data-dim] img').first().getAttribute('src'))!);
    // Where the strip's first line of pixels is in the figure (after the title and the progress row).
    const sameLine = (y0: number, y: number) =>
      Array.from({ length: strip.width }, (_, x) => x).every((x) => fig.v(230 + x, y0 + y) === strip.v(x, y));
    const top = Array.from({ length: fig.height - strip.height }, (_, y0) => y0).find((y0) => sameLine(y0, 0));
    expect(top, 'the first strip in the figure').toBeDefined();
    for (let y = 0; y < strip.height; y++) expect(sameLine(top!, y), `strip line ${y}`).toBe(true);
    await page.context().close();
  }, 300_000);

  it('the copied widget snippet puts the same panel on another origin (element and iframe)', async () => {
    const page = await newPage(browser);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api });
    await page.goto(`${api}/?class=2`);
    await waitReady(page);
    const widget = page.locator('faultlines-traversal');
    const attrs = {
      classifier: (await widget.getAttribute('classifier'))!,
      class: (await widget.getAttribute('class'))!,
      dim: (await widget.getAttribute('dim'))!,
      range: (await widget.getAttribute('range'))!,
    };
    const bar = page.locator('div.tools[data-panel="traversals"]');
    await bar.locator('summary').click();
    await bar.locator('button.copy').click();
    // The status is written after the clipboard promise settles: wait for it, do not read it once.
    const status = bar.locator('.tool-status');
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toBe('Snippet copied.');
    const snippet = await bar.locator('textarea').inputValue();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippet);
    for (const [a, v] of Object.entries(attrs)) expect(snippet).toContain(`${a}="${v}"`);

    const site = await staticSite({
      '/': `<!doctype html><html lang="en"><head><link rel="icon" href="data:,"></head><body>${snippet}</body></html>`,
    });
    try {
      const other = await newPage(browser, { width: 900, height: 900 });
      const errors = watchConsole(other);
      await other.goto(`${site.url}/`);
      const el = other.locator('faultlines-traversal');
      await other.waitForSelector('faultlines-traversal[state="ready"]', { timeout: 60_000 });
      for (const [a, v] of Object.entries(attrs)) expect(await el.getAttribute(a)).toBe(v);
      expect(await el.getAttribute('api')).toBe(api);
      const frame = other.frameLocator('iframe');
      await frame.locator('faultlines-traversal[state="ready"]').waitFor({ timeout: 60_000 });
      expect(await frame.locator('faultlines-traversal').getAttribute('dim')).toBe(attrs.dim);
      expect(errors).toEqual([]);
      await other.context().close();
    } finally {
      await site.close();
    }
    await page.context().close();
  }, 300_000);
});
