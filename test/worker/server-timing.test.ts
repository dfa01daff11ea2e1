/**
 * Server-Timing (src/worker/server-timing.ts) in workerd: with SERVER_TIMING=1 a cold live render
 * names every phase of its cold start, a second render (same isolate) only its own work (the models
 * are built and their weights verified once per isolate), a cached answer its total; without the
 * var there is no header and the bodies are the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from './harness.js';

let timed: EdgeServer;
let plain: EdgeServer;

beforeAll(async () => {
  [timed, plain] = await Promise.all([startEdge(undefined, { vars: { SERVER_TIMING: '1' } }), startEdge()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([timed?.close(), plain?.close()]);
});

/** Phase name -> summed duration, from a Server-Timing header. */
function phases(header: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of (header ?? '').split(',').filter(Boolean)) {
    const [name, ...params] = entry.trim().split(';');
    const dur = params.find((p) => p.startsWith('dur='));
    out.set(name, (out.get(name) ?? 0) + Number(dur?.slice(4) ?? Number.NaN));
  }
  return out;
}

const COLD_PHASES = [
  'cache-lookup',
  'code-load',
  'asset-fetch',
  'weight-verify',
  'backend-init',
  'model-build',
  'render',
  'classify',
  'encode',
];

describe('Server-Timing', () => {
  it('breaks a cold render into its phases, then a warm one into its own work only', async () => {
    const cold = await timed.fetch('/v1/render?seed=1&class=3');
    expect(cold.status).toBe(200);
    const p = phases(cold.headers.get('server-timing'));
    for (const name of [...COLD_PHASES, 'total']) expect(p.get(name), name).toBeGreaterThanOrEqual(0);
    expect(p.get('total')!).toBeGreaterThanOrEqual(p.get('render')! + p.get('classify')!);

    const warm = phases((await timed.fetch('/v1/render?seed=2&class=3')).headers.get('server-timing'));
    expect([...warm.keys()].sort()).toEqual(['cache-lookup', 'classify', 'encode', 'render', 'total']);
  });

  it('times a traversal and a cached answer', async () => {
    const t = await timed.fetch('/v1/traversal?class=3&dim=5&frames=9&range=4');
    expect(t.status).toBe(200);
    expect([...phases(t.headers.get('server-timing')).keys()].sort()).toEqual([
      'cache-lookup',
      'encode',
      'evaluate',
      'total',
    ]);
    const r = await timed.fetch('/v1/rankings?top=5');
    expect(r.status).toBe(200);
    expect([...phases(r.headers.get('server-timing')).keys()]).toEqual(['total']);
  });

  it('is off by default: no header, the same body bytes', async () => {
    for (const p of ['/v1/render?seed=7&class=1', '/v1/rankings?top=5', '/v1/domains', '/docs/swagger-ui.css']) {
      const [a, b] = await Promise.all([timed.fetch(p), plain.fetch(p)]);
      expect(a.headers.get('server-timing'), p).not.toBeNull();
      expect(b.headers.get('server-timing'), p).toBeNull();
      expect(Buffer.from(await b.arrayBuffer()).equals(Buffer.from(await a.arrayBuffer())), p).toBe(true);
    }
  });
});
