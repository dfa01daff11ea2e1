/**
 * Small holes found by an attack on the edge (issue 16, item 6): lookups by built-in object names,
 * `If-None-Match: *` for things that do not exist, and a documented classify batch the body limit
 * refused.
 */
import { describe, expect, it } from 'vitest';
import { edgeForFile } from './harness.js';

const edgeOf = edgeForFile();

describe('edge hardening', () => {
  it('built-in object names are not docs files or problem types', async () => {
    for (const p of [
      '/docs/toString',
      '/docs/constructor',
      '/docs/__proto__',
      '/docs/hasOwnProperty',
      '/problems/toString',
      '/problems/constructor',
      '/problems/__proto__',
    ]) {
      const res = await edgeOf().fetch(p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type'), p).toMatch(/problem\+json/);
    }
    expect((await edgeOf().fetch('/problems/not-found')).status).toBe(200);
  });

  it('If-None-Match: * never answers 304 for a thing that does not exist', async () => {
    const missing = await edgeOf().fetch('/v1/rankings?classifier=no-such-classifier', {
      headers: { 'if-none-match': '*' },
    });
    expect(missing.status).toBe(404);
    const missingDim = await edgeOf().fetch('/v1/traversal?class=3&dim=99999', { headers: { 'if-none-match': '*' } });
    expect(missingDim.status).toBe(400);
    // An existing result still answers 304 to its own etag.
    const res = await edgeOf().fetch('/v1/render?seed=1&class=3');
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag')!;
    expect((await edgeOf().fetch('/v1/render?seed=1&class=3', { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    expect((await edgeOf().fetch('/v1/render?seed=1&class=3', { headers: { 'if-none-match': '*' } })).status).toBe(200);
  });

  it('classifies the documented batch: 16 noisy images at full float precision', async () => {
    let x = 12345;
    const rand = () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 31;
    };
    const images = Array.from({ length: 16 }, () => Array.from({ length: 1024 }, () => rand()));
    const body = JSON.stringify({ images });
    expect(body.length).toBeGreaterThan(64 * 1024);
    const res = await edgeOf().fetch('/v1/classify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const out = (await res.json()) as { results?: unknown[]; predictions?: unknown[] };
    expect(JSON.stringify(out).length).toBeGreaterThan(100);
  });

  it('an embed page never carries the client-supplied Host header', async () => {
    const { request } = await import('undici');
    const res = await request(new URL('/embed/ranking?top=3', edgeOf().url), { headers: { host: 'evil.example' } });
    const html = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(html).toContain('<faultlines-ranking');
    expect(html).not.toContain('evil.example');
  });
});
