/** /docs is browsable without the internet: the viewer comes from the worker's own assets. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_SCHEMA } from '../../src/protocol/catalog.js';
import { startEdge, type EdgeServer } from './harness.js';

/**
 * A GET with the request target sent byte for byte: `fetch` and `new URL` resolve `..` and `%2e%2e`
 * before anything is sent, so a traversal test through them never sends a traversal. The reply is
 * taken as complete by its own framing (Content-Length or the last chunk), not by the server closing
 * the socket: workerd keeps it open for seconds after a reply despite `Connection: close`.
 */
function rawGet(origin: URL, target: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(origin.port), origin.hostname);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (text: string, split: number) => {
      done = true;
      socket.destroy();
      const head = text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      resolve({ status, head: head.toLowerCase(), body: text.slice(split + 4) });
    };
    const complete = (text: string, split: number): boolean => {
      const head = text.slice(0, split).toLowerCase();
      const body = text.slice(split + 4);
      const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1];
      if (length !== undefined) return Buffer.byteLength(body, 'latin1') >= Number(length);
      if (/\r\ntransfer-encoding: *chunked/.test(head)) return body.endsWith('0\r\n\r\n');
      return false;
    };
    socket.on('data', (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (!done && split >= 0 && complete(text, split)) finish(text, split);
    });
    socket.on('error', (e) => done || reject(e));
    socket.on('end', () => {
      if (done) return;
      const text = Buffer.concat(chunks).toString('latin1');
      finish(text, text.indexOf('\r\n\r\n'));
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
