/**
 * `npm run bench:dashboard` — the dashboard's first render with cached results, in Debian's
 * chromium (playwright-core) against the built worker on local workerd. One warm-up load (starts the
 * isolate, initialises tfjs-wasm for the live traversals), then N loads, each in a fresh browser
 * context (empty HTTP cache: every module and result is fetched again, but the worker's results are
 * cached), and N reloads in one context (browser cache warm). Per load, from navigation start:
 * DOMContentLoaded, first contentful paint, and "ready": every section drawn (charts, widgets,
 * the figure-5 traversals). Writes bench/results/dashboard.json with the bundle sizes. Not a test:
 * this machine is shared and noisy.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Page } from 'playwright-core';
import { startEdge } from '../test/worker/harness.js';
import { launchChromium } from '../test/browser/browser.js';
import { servableResults } from '../test/browser/fixtures.js';
import type { WidgetsManifest } from '../src/protocol/widgets-manifest.js';
import { intOption, parseOptions } from '../src/node/args.js';

const N = intOption(
  parseOptions(
    process.argv.slice(2),
    { loads: { type: 'string', default: '5' } },
    'usage: npm run bench:dashboard [-- --loads N]',
  ).loads,
  'loads',
  1,
);
const r1 = (v: number) => Math.round(v * 10) / 10;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Load {
  domContentLoadedMs: number;
  firstContentfulPaintMs: number | null;
  readyMs: number;
  requests: number;
  transferKiB: number;
}

async function measure(page: Page, url: string, reload = false): Promise<Load> {
  if (reload) await page.reload();
  else await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return {
      domContentLoadedMs: nav.domContentLoadedEventEnd,
      firstContentfulPaintMs: fcp ? fcp.startTime : null,
      readyMs: (window as unknown as { faultlinesReady: number }).faultlinesReady,
      requests: res.length + 1,
      transferKiB: (res.reduce((a, r) => a + r.transferSize, 0) + nav.transferSize) / 1024,
    };
  });
}

function summary(loads: Load[]) {
  const pick = (f: (l: Load) => number | null) => {
    const xs = loads.map(f).filter((v): v is number => v !== null);
    return { median: r1(median(xs)), min: r1(Math.min(...xs)), max: r1(Math.max(...xs)) };
  };
  return {
    n: loads.length,
    readyMs: pick((l) => l.readyMs),
    firstContentfulPaintMs: pick((l) => l.firstContentfulPaintMs),
    domContentLoadedMs: pick((l) => l.domContentLoadedMs),
    requests: loads[0].requests,
    transferKiB: r1(median(loads.map((l) => l.transferKiB))),
  };
}

async function main(): Promise<void> {
  let rekeyed = 0;
  const edge = await startEdge((dir, catalog) => {
    rekeyed = servableResults(dir, catalog);
  });
  if (rekeyed > 0)
    console.warn(
      `bench:dashboard: the precomputed results are for another generator (run npm run seed:edge); ${rekeyed} re-keyed to draw the page`,
    );
  const browser = await launchChromium();
  const url = `${edge.url.origin}/`;
  try {
    const manifest = JSON.parse(readFileSync('dist/edge-assets/widgets/v1/manifest.json', 'utf8')) as WidgetsManifest;
    const viewport = { width: 1400, height: 1000 };
    const warm = await browser.newContext({ viewport });
    const warmPage = await warm.newPage();
    // The first load on a fresh isolate: every answer of 400 or more (503s of the live limiter are
    // retried by the page) and every request that failed outright, and what the page still shows as failed.
    const refused: string[] = [];
    const failed: string[] = [];
    warmPage.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    warmPage.on('requestfailed', (r) =>
      failed.push(`${r.failure()?.errorText ?? 'failed'} ${new URL(r.url()).pathname}`),
    );
    const warmup = await measure(warmPage, url);
    const shownFailed = await warmPage.evaluate(
      () =>
        document.querySelectorAll('#fig5 .err, [role="alert"], #sbs-body[data-state="error"]').length +
        Array.from(
          document.querySelectorAll(
            'faultlines-ranking, faultlines-traversal, faultlines-corner-cases, faultlines-accuracy-curve',
          ),
        ).filter((w) => w.getAttribute('state') !== 'ready' || w.shadowRoot?.querySelector('.thumb-err')).length,
    );
    await warm.close();
    const fresh: Load[] = [];
    for (let i = 0; i < N; i++) {
      const ctx = await browser.newContext({ viewport });
      fresh.push(await measure(await ctx.newPage(), url));
      await ctx.close();
    }
    // The peer, measured in the same run: the same page without the two-classifier panel (?vs=none).
    const peer: Load[] = [];
    for (let i = 0; i < N; i++) {
      const c = await browser.newContext({ viewport });
      peer.push(await measure(await c.newPage(), `${url}?vs=none`));
      await c.close();
    }
    const ctx = await browser.newContext({ viewport });
    const page = await ctx.newPage();
    await measure(page, url);
    const reloads: Load[] = [];
    for (let i = 0; i < N; i++) reloads.push(await measure(page, url, true));
    await ctx.close();
    const out = {
      schema: 'faultlines.bench-dashboard/1',
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? '?',
        load1: r1(os.loadavg()[0]),
        node: process.version,
        chromium: browser.version(),
      },
      bundle: {
        widgets: { url: manifest.widgets.stable, bytes: manifest.widgets.bytes, gzipBytes: manifest.widgets.gzipBytes },
        dashboard: {
          url: manifest.dashboard.hashed,
          bytes: manifest.dashboard.bytes,
          gzipBytes: manifest.dashboard.gzipBytes,
        },
      },
      what: 'navigation start -> every dashboard section drawn (charts, widgets, figure-5 traversals), cached results, local workerd',
      warmupLoad: {
        readyMs: r1(warmup.readyMs),
        note: 'first load of a fresh isolate: tfjs-wasm init and weight loading for the live traversals',
        refusedThenRetried: refused,
        failedRequests: failed,
        sectionsShowingAnError: shownFailed,
      },
      freshContext: summary(fresh),
      peerWithoutSideBySide: summary(peer),
      freshOverPeer: r1((10 * median(fresh.map((l) => l.readyMs))) / median(peer.map((l) => l.readyMs))) / 10,
      reloadWarmBrowserCache: summary(reloads),
      loads: {
        fresh: fresh.map((l) => ({
          readyMs: r1(l.readyMs),
          fcpMs: l.firstContentfulPaintMs === null ? null : r1(l.firstContentfulPaintMs),
        })),
        reload: reloads.map((l) => ({ readyMs: r1(l.readyMs) })),
      },
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/dashboard.json', `${JSON.stringify(out, null, 1)}\n`);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `widgets module ${kib(manifest.widgets.bytes)} raw, ${kib(manifest.widgets.gzipBytes)} gzip; ` +
        `dashboard script ${kib(manifest.dashboard.bytes)} raw, ${kib(manifest.dashboard.gzipBytes)} gzip`,
    );
    console.log(
      `first render (navigation -> all sections drawn), median of ${N}: fresh context ${out.freshContext.readyMs.median} ms (FCP ` +
        `${out.freshContext.firstContentfulPaintMs.median} ms), reload ` +
        `${out.reloadWarmBrowserCache.readyMs.median} ms; warm-up load ${out.warmupLoad.readyMs} ms`,
    );
    console.log(
      `peer without the two-classifier panel (?vs=none): ${out.peerWithoutSideBySide.readyMs.median} ms; fresh / peer ${out.freshOverPeer}`,
    );
    console.log(
      `first load on a fresh isolate: ${refused.length} answers >= 400 (retried: ${refused.join(', ') || 'none'}), ` +
        `${failed.length} failed requests, ${shownFailed} sections showing an error; load average ${out.machine.load1}`,
    );
    console.log('wrote bench/results/dashboard.json');
  } finally {
    await browser.close();
    await edge.close();
  }
}

await main();
