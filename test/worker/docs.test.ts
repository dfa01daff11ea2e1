/** /docs is browsable without the internet: the viewer comes from the worker's own assets. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from './harness.js';

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
    const missing = await edge.fetch('/docs/../catalog.json');
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.status).toBeLessThan(500);
    const other = await edge.fetch('/docs/evil.js');
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
  });
});
