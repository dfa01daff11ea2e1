/**
 * A registered classifier (issue #9) in a real browser (Debian chromium through playwright-core)
 * against the built worker in workerd: the dashboard's classifier picker lists it next to the
 * built-in ones, `/?classifier=<id>` opens the dashboard on it and every section draws from its
 * results and its live traversals; a page on another origin embeds a widget with its id as
 * `classifier`. Its ranking is a synthetic one completed through the runner endpoints (this test
 * checks the serving and the drawing; test/worker/user-classifiers.test.ts checks the analysis).
 * Its histograms, accuracy curves and corner cases are first not computed — the dashboard shows the
 * curl line that submits each (the submitter token as $SUBMIT_TOKEN, never its value) — then
 * submitted so, computed by a real runner process (wasm) and drawn.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SWEEP } from '../../src/protocol/result-keys.js';
import { RunnerPool, ensureRunnerBuilt, shardSums, watchJob } from '../runner/helpers.js';
import { RUNNER_TOKEN, SUBMIT_AUTH, SUBMIT_TOKEN, startEdge, type EdgeServer } from '../worker/harness.js';
import { servableResults } from './fixtures.js';
import { SCREENSHOTS, launchChromium, staticSite, watchConsole, type StaticSite } from './browser.js';

let edge: EdgeServer;
let browser: Browser;
let site: StaticSite;
let api: string;
let id: string;
const pool = new RunnerPool(() => edge);

const fixture = (...p: string[]) => path.resolve('test/fixtures', ...p);

beforeAll(async () => {
  [edge, browser] = await Promise.all([startEdge(servableResults), launchChromium(), ensureRunnerBuilt()]);
  api = edge.url.origin;
  const form = new FormData();
  form.append('model', new Blob([readFileSync(fixture('mlp-layers/model.json'))]), 'model.json');
  form.append('weights', new Blob([readFileSync(fixture('mlp-layers/weights.bin'))]), 'weights.bin');
  form.append('adapter', new Blob([readFileSync(fixture('mlp-layers/adapter.json'))]), 'adapter.json');
  form.append('name', 'mlp-layers');
  const res = await edge.fetch('/v1/classifiers', { method: 'POST', headers: SUBMIT_AUTH, body: form });
  expect(res.status, await res.clone().text()).toBe(201);
  id = ((await res.json()) as { id: string }).id;

  // Its ranking on the default sweep: the job submitted, leased and completed through the runner endpoints.
  const job = (await (
    await edge.fetch('/v1/jobs', {
      method: 'POST',
      headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'ranking-sums', classifier: id, ...DEFAULT_SWEEP, shardSize: DEFAULT_SWEEP.count }),
    })
  ).json()) as { job: { id: string; spec: { generatorId: string; classifierId: string } } };
  const runner = { 'content-type': 'application/json', authorization: `Bearer ${RUNNER_TOKEN}` };
  const lease = await edge.fetch('/v1/runner/lease', {
    method: 'POST',
    headers: runner,
    body: JSON.stringify({ runner: 'synthetic' }),
  });
  expect(lease.status).toBe(200);
  const { shard } = (await lease.json()) as { shard: { leaseToken: string } };
  const spec = { ...job.job.spec, ...DEFAULT_SWEEP };
  const done = await edge.fetch(`/v1/runner/jobs/${job.job.id}/complete`, {
    method: 'POST',
    headers: runner,
    body: JSON.stringify({
      runner: 'synthetic',
      shard: 0,
      lease: shard.leaseToken,
      payload: shardSums(edge.catalog, spec, 0, DEFAULT_SWEEP.count),
    }),
  });
  expect(done.status, await done.clone().text()).toBe(200);

  site = await staticSite({
    '/': `<!doctype html><html><head><meta charset="utf-8"><title>Widget with a registered classifier</title><link rel="icon" href="data:,">
<script type="module" src="${api}/widgets/v1/faultlines-widgets.js"></script></head><body>
<faultlines-traversal id="traversal" api="${api}" classifier="${id}" class="3" dim="7" range="6"></faultlines-traversal>
<faultlines-ranking id="ranking" api="${api}" classifier="${id}" top="5"></faultlines-ranking>
</body></html>`,
  });
}, 180_000);

afterAll(async () => {
  await pool.stopAll();
  await browser?.close();
  await site?.close();
  await edge?.close();
});

describe('a registered classifier in the dashboard and the widgets', () => {
  it('is listed by the picker, and the dashboard opened on it draws its sections', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchConsole(page);
    await page.goto(`${api}/?classifier=${id}`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 90_000 });
    const options = await page
      .locator('#classifier option')
      .evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent })));
    expect(options.map((o) => o.value)).toEqual([...edge.catalog.classifiers.map((m) => m.name), id]);
    expect(options[options.length - 1].text).toBe(`mlp-layers (${id.slice(0, 8)}, registered)`);
    expect(await page.locator('#classifier').inputValue()).toBe(id);
    expect(await page.locator('#models').textContent()).toContain('(1 registered)');
    expect(await page.locator('#compare-table tbody tr').count()).toBe(edge.catalog.classifiers.length + 1);
    // The sections of the selected, registered classifier: its ranking, and live traversals of its top dims.
    const ranking = page.locator('faultlines-ranking');
    expect(await ranking.getAttribute('classifier')).toBe(id);
    expect(await ranking.getAttribute('state')).toBe('ready');
    expect(await page.locator('faultlines-ranking tbody tr').count()).toBe(10);
    expect(await page.locator('faultlines-ranking h3').textContent()).toContain(`registered ${id.slice(0, 12)}…`);
    expect(await page.locator('#fig5 .row img').count()).toBe(10);
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#fig5 img, faultlines-ranking img')).every(
          (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0,
        ),
      null,
      { timeout: 60_000 },
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-registered-classifier.png'), fullPage: true });
    // Back to a built-in classifier and again to the registered one.
    await page.selectOption('#classifier', edge.catalog.classifiers[0].name);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 90_000 });
    await page.selectOption('#classifier', id);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 90_000 });
    expect(await page.locator('faultlines-ranking').getAttribute('classifier')).toBe(id);
    // Sections with no result for it (histograms, curves, corner cases, embeddings: jobs not submitted) say so
    // in the page; nothing fails in the console.
    expect(errors.filter((e) => !/the server responded with a status of 404/.test(e))).toEqual([]);
    await page.close();
  }, 180_000);

  it('its histograms, accuracy curves and corner cases: not computed, the dashboard shows the curl ' +
    'line to submit each (and only those); submitted so and computed by a runner, drawn', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchConsole(page);
    await page.goto(`${api}/?classifier=${id}`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 90_000 });
    const body = (kind: string) => ({ kind, classifier: id, ...DEFAULT_SWEEP });
    const curl = (kind: string) =>
      `curl -H "Authorization: Bearer $SUBMIT_TOKEN" -H 'content-type: application/json' -d '${JSON.stringify(body(kind))}' ${api}/v1/jobs`;
    const shown = {
      histograms: '#hist-charts pre.curl',
      'corner-cases': 'faultlines-corner-cases pre.curl',
      'accuracy-curves': 'faultlines-accuracy-curve pre.curl',
    };
    for (const [kind, sel] of Object.entries(shown))
      expect(await page.locator(sel).textContent(), kind).toBe(curl(kind));
    // Every section without a result shows its line, and only those: the embeddings panel and the two
    // direction widgets (the classifier's top dims and its class's; one job computes both) too. Those
    // two kinds are not submitted here (their runner jobs are tested in test/runner/); they must still
    // show their line after the others are computed.
    const notSubmitted = ['embeddings', 'directions', 'directions'].map(curl);
    const lines = async () => (await page.locator('pre.curl').allTextContents()).sort();
    expect(await lines()).toEqual([...Object.keys(shown).map(curl), ...notSubmitted].sort());
    // No secret in the page, its widgets' shadow roots included.
    const everything = await page.evaluate(
      () =>
        document.documentElement.outerHTML +
        Array.from(document.querySelectorAll('*'), (e) => e.shadowRoot?.innerHTML ?? '').join(''),
    );
    expect(everything).toContain('$SUBMIT_TOKEN');
    expect(everything).not.toContain(SUBMIT_TOKEN);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-registered-not-computed.png'), fullPage: true });

    // What the lines submit, computed by a runner process.
    const subs = [];
    for (const kind of Object.keys(shown)) {
      const res = await edge.fetch('/v1/jobs', {
        method: 'POST',
        headers: { ...SUBMIT_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body(kind)),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      subs.push(((await res.json()) as { statusUrl: string }).statusUrl);
    }
    pool.start('browser-runner', ['--backend', 'wasm', '--lease-ms', '60000']);
    for (const statusUrl of subs) await watchJob(edge, statusUrl, 150_000, () => pool.tails());
    await pool.stopAll();

    await page.reload();
    await page.waitForSelector('html[data-ready="true"]', { timeout: 90_000 });
    expect(await lines()).toEqual(notSubmitted.sort());
    expect(await page.locator('#hist-charts [data-chart]').count()).toBe(6);
    expect(await page.locator('faultlines-corner-cases').getAttribute('state')).toBe('ready');
    expect(await page.locator('faultlines-corner-cases .row').count()).toBe(10);
    const curves = page.locator('faultlines-accuracy-curve');
    expect(await curves.getAttribute('state')).toBe('ready');
    expect(
      await curves.evaluate((el) =>
        (el as unknown as { curves: Array<{ classifier: string }> }).curves.map((c) => c.classifier),
      ),
    ).toEqual([id, ...edge.catalog.classifiers.map((m) => m.name)]);
    // Its robustness score with its 95% interval in the comparison table ('—' when no bin of its sweep has 20 samples).
    expect(await page.locator('#compare-table tbody tr:last-child td:nth-child(5)').textContent()).toMatch(
      /^(0\.\d{3}|1\.000) \[(0\.\d{3}|1\.000|—), (0\.\d{3}|1\.000|—)\]$|^—$/,
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-registered-computed.png'), fullPage: true });
    expect(errors.filter((e) => !/the server responded with a status of 404/.test(e))).toEqual([]);
    await page.close();
  }, 300_000);

  it('a widget on another origin takes its id as `classifier`', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(site.url);
    for (const sel of ['#traversal', '#ranking']) {
      await page.waitForFunction(
        (s) => ['ready', 'error'].includes(document.querySelector(s)?.getAttribute('state') ?? ''),
        sel,
        { timeout: 60_000 },
      );
      expect(await page.locator(sel).getAttribute('state'), sel).toBe('ready');
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'widget-registered-classifier.png') });
    await page.close();
  }, 120_000);
});
