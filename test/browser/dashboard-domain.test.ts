/**
 * The dashboard's domain picker (issue 15), in Debian's chromium against the built worker in
 * workerd: it lists GET /v1/domains; choosing Fashion-MNIST puts `domain=fashion` in the URL, names
 * the classes as Fashion-MNIST does, and the widgets (their `domain` attribute) show fashion's
 * ranking; choosing MNIST again leaves the domain out of the URL. Fashion's ranking sums are
 * synthetic here (test/worker/harness.ts addDomainSums): the page is checked, not the analysis.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION, MNIST } from '../../src/core/data/domain.js';
import { addDomainSums, startEdge, type EdgeServer } from '../worker/harness.js';
import { launchChromium } from './browser.js';
import { READY, newPage } from './dashboard-page.js';

let edge: EdgeServer;
let browser: Browser;
let fashionSumsKey = '';

beforeAll(async () => {
  [edge, browser] = await Promise.all([
    startEdge((assets, catalog) => {
      fashionSumsKey = addDomainSums(assets, catalog, FASHION.name);
    }),
    launchChromium(),
  ]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await edge?.close();
});

describe('domain picker', () => {
  it('switching to Fashion-MNIST shows its class names and its ranking; the domain is in the URL', async () => {
    const page = await newPage(browser);
    await page.goto(`${edge.url.origin}/`);
    const picker = page.locator('select#domain');
    await page.waitForSelector('select#domain option[value="fashion"]', { state: 'attached', timeout: READY });
    expect(await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([
      'mnist',
      'fashion',
      'colored-mnist',
    ]);
    expect(await picker.inputValue()).toBe(MNIST.name);
    expect(await page.locator('select#class option[value="3"]').textContent()).toBe('3');

    await Promise.all([page.waitForURL(/domain=fashion/), picker.selectOption(FASHION.name)]);
    await page.waitForSelector('select#class option[value="3"]', { state: 'attached' });
    await page.waitForFunction(
      () => document.querySelector('select#class option[value="3"]')?.textContent === '3 Dress',
      null,
      { timeout: READY },
    );
    expect(await page.locator('select#domain').inputValue()).toBe(FASHION.name);
    expect(await page.locator('select#explain-label option[value="9"]').textContent()).toBe('9 Ankle boot');
    // The ranking widget asks for fashion's ranking and shows it (its key is fashion's sums).
    const ranking = page.locator('faultlines-ranking[domain="fashion"]');
    await page.waitForSelector('faultlines-ranking[domain="fashion"][state="ready"]', { timeout: READY });
    expect(await ranking.getAttribute('classifier')).toBe('classifier-clean');
    const served = (await (await edge.fetch('/v1/rankings?domain=fashion&top=10')).json()) as {
      key: string;
      payload: { dims: Array<{ index: number }> };
    };
    expect(served.key).toBe(fashionSumsKey);
    // What the widget drew is fashion's ranking (MNIST's top dims are others).
    const shown = await ranking.evaluate((el) => (el as unknown as { dims: Array<{ index: number }> }).dims);
    expect(shown.map((d) => d.index)).toEqual(served.payload.dims.map((d) => d.index));
    const mnist = (await (await edge.fetch('/v1/rankings?top=10')).json()) as typeof served;
    expect(shown.map((d) => d.index)).not.toEqual(mnist.payload.dims.map((d) => d.index));
    expect(await page.locator('#ranking-csv').getAttribute('href')).toContain('domain=fashion');

    // Back to MNIST: the default domain is left out of the URL.
    await Promise.all([
      page.waitForURL((u) => !u.search.includes('domain=')),
      page.locator('select#domain').selectOption(MNIST.name),
    ]);
    await page.waitForSelector('faultlines-ranking[state="ready"]', { timeout: READY });
    expect(await page.locator('faultlines-ranking').getAttribute('domain')).toBeNull();
    await page.context().close();
  }, 300_000);
});
