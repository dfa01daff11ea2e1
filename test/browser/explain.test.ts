/**
 * The dashboard's "Explain a real image" panel in a real browser (Debian chromium through
 * playwright-core) against the built worker in workerd, as a user meets it: they choose a real test
 * digit's PNG, its label and a small budget, type the submitter token and press Explain; the page
 * POSTs /v1/explain, a real runner process (wasm) computes the job, and the panel's
 * <faultlines-explain> draws the image and its projection, the faithfulness line, the deviating
 * dims with their names and the counterfactual strip with the class and p_true under each frame —
 * every number as GET /v1/explain/{key} serves it. The token never appears in the page or its URL.
 * Pasting the key on a fresh page shows the same explanation from the cache. The widget's own drop
 * zone (`/embed/explain?submit=1`, no key): a non-PNG dropped on it is refused naming the field; the
 * digit dropped on it is submitted with a small budget, computed inline by the edge and drawn as the
 * API serves it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../../src/node/mnist.js';
import { RunnerPool, ensureRunnerBuilt } from '../runner/helpers.js';
import { SUBMIT_TOKEN, startEdge, type EdgeServer } from '../worker/harness.js';
import { SCREENSHOTS, launchChromium, watchConsole } from './browser.js';

let edge: EdgeServer;
let browser: Browser;
const pool = new RunnerPool(() => edge);
const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-explain-browser-'));
let file: string;
let label: number;

/** Bound for a runner's job on a loaded machine, not a timing. */
const COMPUTE_TIMEOUT_MS = 600_000;

beforeAll(async () => {
  // Test digit 5006 of the corrupted split: a 0 that classifier-clean reads as 3.
  const set = loadDigits('test', 'corrupted');
  label = set.labels[5006];
  const pixels = Uint8Array.from(set.images.subarray(5006 * 1024, 5007 * 1024), (v) => Math.round(v * 255));
  file = path.join(dir, 'digit-5006.png');
  writeFileSync(file, encode({ width: 32, height: 32, channels: 1, depth: 8, data: pixels }));
  [edge, browser] = await Promise.all([startEdge(), launchChromium(), ensureRunnerBuilt()]);
}, 180_000);

afterAll(async () => {
  await pool.stopAll();
  await browser?.close();
  await edge?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the widget drew, read from its shadow root. */
const drawn = (page: import('playwright-core').Page, selector = '#explain-slot faultlines-explain') =>
  page.locator(selector).evaluate((el) => {
    const root = el.shadowRoot!;
    const text = (s: string) => root.querySelector(s)?.textContent?.replace(/\s+/g, ' ').trim() ?? null;
    return {
      state: el.getAttribute('state'),
      heading: text('h3'),
      original: root.querySelector<HTMLImageElement>('img.original')?.src ?? null,
      reconstruction: root.querySelector<HTMLImageElement>('img.reconstruction')?.src ?? null,
      faithful: text('p.faithful'),
      unfaithful: root.querySelector('p.faithful')?.classList.contains('unfaithful') ?? null,
      dims: Array.from(root.querySelectorAll('table[part=deviations] tbody tr')).map((tr) =>
        Array.from(tr.querySelectorAll('td')).map((td) => td.textContent!.trim()),
      ),
      frames: Array.from(root.querySelectorAll('.strip figure.frame')).map((f) => ({
        src: f.querySelector('img')!.src,
        cls: f.querySelector('.cls')!.textContent,
        pTrue: f.querySelector('.ptrue')!.textContent,
      })),
      reason: text('p.reason'),
    };
  });

describe('dashboard: explain a real image', () => {
  it(
    'a chosen PNG is submitted, computed by a runner and drawn with every number the API serves',
    async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = watchConsole(page);
      await page.goto(`${edge.url.origin}/dashboard`);
      await page.setInputFiles('#explain-file', file);
      await page.selectOption('#explain-label', String(label));
      await page.fill('#explain-steps', '8');
      await page.fill('#explain-token', SUBMIT_TOKEN);
      await page.click('#explain-form button[type=submit]');
      await page.waitForFunction(
        () => !/^(Sending…)?$/.test(document.getElementById('explain-status')!.textContent ?? ''),
      );
      expect(await page.textContent('#explain-status')).toMatch(/^Queued as a job/);
      const key = await page.inputValue('#explain-key');
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      // Waiting for a runner: the widget says it is loading.
      expect((await drawn(page)).state).toBe('loading');

      pool.start('explain-browser', ['--backend', 'wasm', '--lease-ms', '120000', '--heartbeat-ms', '2000']);
      await page.waitForSelector('#explain-slot faultlines-explain[state=ready]', { timeout: COMPUTE_TIMEOUT_MS });

      const served = (await (await edge.fetch(`/v1/explain/${key}`)).json()) as any;
      const e = served.explanation;
      expect(served.request).toEqual({ label, steps: 8, seed: 1, top: 10, sweepSamples: 2000 });
      const d = await drawn(page);
      expect(d.heading).toBe(`Label ${label}, read as ${e.original.predicted} — classifier-clean`);
      expect(d.original).toBe(served.image);
      expect(d.reconstruction).toBe(e.reconstruction.image);
      expect(d.faithful).toContain(`PSNR ${e.reconstruction.psnr.toFixed(1)} dB`);
      expect(d.unfaithful).toBe(!e.sameDecision);
      expect(d.dims).toEqual(
        e.deviations.map((x: any) => [
          x.name,
          `${x.deviation >= 0 ? '+' : '−'}${Math.abs(x.deviation).toFixed(2)}`,
          String(x.classRank),
          x.label ?? '—',
        ]),
      );
      expect(e.counterfactual).not.toBeNull();
      expect(d.reason).toBe(e.counterfactual.reason);
      expect(d.frames).toEqual(
        e.counterfactual.frames.map((f: any) => ({
          src: f.image,
          cls: String(f.predicted),
          pTrue: f.pTrue.toFixed(3),
        })),
      );
      // The token was only sent: not in the page, its URL or its storage.
      expect(await page.content()).not.toContain(SUBMIT_TOKEN);
      expect(page.url()).not.toContain(SUBMIT_TOKEN);
      expect(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toContain(
        SUBMIT_TOKEN,
      );
      await page.locator('#explain').screenshot({ path: path.join(SCREENSHOTS, 'dashboard-explain.png') });

      // A fresh page: the pasted key shows the same explanation, from the cache.
      const again = await browser.newPage();
      await again.goto(`${edge.url.origin}/dashboard`);
      await again.fill('#explain-key', key);
      await again.click('#explain-key-form button[type=submit]');
      await again.waitForSelector('#explain-slot faultlines-explain[state=ready]', { timeout: 60_000 });
      expect(await drawn(again)).toEqual(d);
      expect(errors).toEqual([]);
    },
    COMPUTE_TIMEOUT_MS + 120_000,
  );
  it(
    'the widget’s drop zone (/embed/explain?submit=1): a dropped non-PNG is refused naming the field, a dropped digit is explained inline and drawn',
    async () => {
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const errors = watchConsole(page);
      const res = await page.goto(`${edge.url.origin}/embed/explain?submit=1&steps=8&top=2`);
      expect(res!.status()).toBe(200);
      const widget = page.locator('faultlines-explain');
      await page.waitForSelector('faultlines-explain[state=ready]');
      /** Drops a file on the drop zone, as a user dragging it from their desktop does. */
      const drop = async (name: string, bytes: number[]) => {
        const transfer = await page.evaluateHandle(
          ({ name, bytes }) => {
            const t = new DataTransfer();
            t.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
            return t;
          },
          { name, bytes },
        );
        await widget.locator('label.drop').dispatchEvent('drop', { dataTransfer: transfer });
        await widget.locator('img.chosen').waitFor();
      };
      await drop('not-a-png.png', [...new TextEncoder().encode('hello')]);
      await widget.locator('input[name=label]').fill(String(label));
      await widget.locator('input[name=token]').fill(SUBMIT_TOKEN);
      await widget.locator('button[type=submit]').click();
      await widget.locator('p.submit-error').waitFor();
      expect(await widget.locator('p.submit-error').textContent()).toMatch(/image is not a PNG.*\(field image\)/);

      await drop('digit.png', [...readFileSync(file)]);
      expect(await widget.locator('label.drop span').textContent()).toBe('digit.png');
      await widget.locator('button[type=submit]').click();
      // A small budget (steps 8, top 2): the edge computes it inline and answers 200, no runner needed.
      await page.waitForSelector('faultlines-explain[state=ready] >> img.reconstruction', {
        timeout: COMPUTE_TIMEOUT_MS,
      });
      const key = await widget.evaluate((el) => (el as any).result?.key as string);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(await widget.locator('p.sub').textContent()).toMatch(/computed at once by the edge/);
      const served = (await (await edge.fetch(`/v1/explain/${key}`)).json()) as any;
      expect(served.request).toEqual({ label, steps: 8, seed: 1, top: 2, sweepSamples: 2000 });
      const d = await drawn(page, 'faultlines-explain');
      expect(d.original).toBe(served.image);
      expect(d.reconstruction).toBe(served.explanation.reconstruction.image);
      expect(d.dims.map((r) => r[0])).toEqual(served.explanation.deviations.map((x: any) => x.name));
      expect(await widget.locator('p.submit-error').count()).toBe(0);
      expect(await page.content()).not.toContain(SUBMIT_TOKEN);
      // The browser logs the refused non-PNG's 400 itself; nothing else went wrong.
      expect(errors).toEqual([expect.stringMatching(/status of 400 .*\/v1\/explain\)$/)]);
    },
    COMPUTE_TIMEOUT_MS,
  );
});
