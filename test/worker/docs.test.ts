/** /docs is browsable without the internet: the viewer comes from the worker's own assets. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_SCHEMA } from '../../src/protocol/catalog.js';
import { startEdge, type EdgeServer } from './harness.js';

/**
 * A GET with the request target sent byte for byte: `fetch` and `new URL` resolve `..` and `%2e%2e`
 * before anything is sent, so a traversal test through them never sends a traversal.
 */
function rawGet(origin: URL, target: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(origin.port), origin.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      resolve({ status, head: head.toLowerCase(), body: text.slice(split + 4) });
    });
    socket.write(`GET ${target} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`);
  });
}

describe('API docs on workerd', () => {
  let edge: EdgeServer;
  beforeAll(async () => {
    edge = await startEdge();
  }, 240_000);
  afterAll(async () => edge?.close());

  it('serves the viewer page, its script and styles, and nothing from elsewhere', async () => {
    const page = await edge.fetch('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('/openapi.json');
    const js = await edge.fetch('/docs/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await js.text()).length).toBeGreaterThan(100_000);
    const css = await edge.fetch('/docs/swagger-ui.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    const other = await edge.fetch('/docs/evil.js');
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses path traversal sent as raw request targets: the catalog never leaks through /docs', async () => {
    // The raw client itself works: a docs file by its plain name.
    const css = await rawGet(edge.url, '/docs/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.head).toContain('content-type: text/css');
    for (const target of [
      '/docs/../catalog.json',
      '/docs/..%2Fcatalog.json',
      '/docs/..%2fcatalog.json',
      '/docs/%2e%2e/catalog.json',
      '/docs/%2e%2e%2fcatalog.json',
      '/docs/..%5Ccatalog.json',
      '/docs/swagger-ui.css/../../catalog.json',
    ]) {
      const res = await rawGet(edge.url, target);
      expect(res.status, target).toBeGreaterThanOrEqual(400);
      expect(res.status, target).toBeLessThan(500);
      expect(res.head, target).toContain('content-type: application/problem+json');
      expect(res.body, target).not.toContain(CATALOG_SCHEMA);
    }
  });
});
