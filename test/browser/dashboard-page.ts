/**
 * What the dashboard's browser tests share: waiting for the page to be ready, a fresh page per
 * test (its own context: no cache or storage carried over) and the ranked dims the page should show.
 */
import type { Browser, Page } from 'playwright-core';
import type { EdgeServer } from '../worker/harness.js';

/** Generous: a cold isolate computes live traversals on a loaded 2-core machine. */
export const READY = 120_000;

export const waitReady = (page: Page) => page.waitForSelector('html[data-ready="true"]', { timeout: READY });

/** The top-10 dims of a classifier's class ranking, as the API serves them. */
export async function topDims(edge: EdgeServer, classifier: string, cls: number): Promise<number[]> {
  const r = (await (await edge.fetch(`/v1/rankings?classifier=${classifier}&class=${cls}&top=10`)).json()) as {
    payload: { dims: Array<{ index: number }> };
  };
  return r.payload.dims.map((d) => d.index);
}

export async function newPage(browser: Browser, viewport = { width: 1366, height: 900 }): Promise<Page> {
  const ctx = await browser.newContext({ viewport });
  return ctx.newPage();
}
