/**
 * The fused synthesis epilogue on the edge (issue 19): workerd forbids compiling wasm at run time,
 * so the worker imports the module precompiled (dist/worker/synthesis-epilogue.wasm, written by the
 * build from the core's encoder). Here: the shipped file is the encoder's bytes, the kernel really
 * runs on the edge, and every live reply that renders (images, strips, probabilities) is the same
 * with it as with the stock ops (FUSED_EPILOGUE "0", same bundle). The replies carry 8-bit PNGs and
 * probabilities to 6 decimals; the float-level identity of the same bytes' kernels against the
 * stock ops is test/synthesis-epilogue.test.ts's.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesisEpilogueWasm } from '../../src/core/generator/synthesis-epilogue-wasm.js';
import { EPILOGUE_WASM } from '../../scripts/edge/wasm-plugin.js';
import { startConfiguredEdge, type ConfiguredEdge } from './configured-edge.js';
import { ensureBuilt } from './harness.js';

/** Requests whose replies render with the generator: renders, traversals (range and crossing), a corner case. */
const RENDERS = [
  '/v1/render?seed=7&class=3&scale=1',
  '/v1/render?seed=11&class=8&format=png&scale=1',
  '/v1/traversal?class=3&dim=17&frames=9&scale=1',
  '/v1/traversal?class=5&dim=400&frames=9&seed=3&scale=1',
  '/v1/traversal?class=2&dim=17&frames=9&mode=crossing&scale=1',
  '/v1/corner-case?class=3&dim=17&maxSteps=4&scale=1',
];

describe('the worker bundle', () => {
  it('ships the encoder’s module unchanged', async () => {
    await ensureBuilt();
    expect(new Uint8Array(readFileSync(`dist/worker/${EPILOGUE_WASM}`))).toEqual(synthesisEpilogueWasm());
  });
});

describe('fused synthesis epilogue on the edge', () => {
  let fused: ConfiguredEdge;
  let stock: ConfiguredEdge;
  beforeAll(async () => {
    fused = await startConfiguredEdge({});
    stock = await startConfiguredEdge({ FUSED_EPILOGUE: '0' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([fused?.close(), stock?.close()]);
  });

  it('runs on the edge and renders what the stock ops render', async () => {
    const health = async (e: ConfiguredEdge) =>
      ((await (await e.fetch('/v1/health?warm=true')).json()) as { fusedEpilogue: boolean }).fusedEpilogue;
    expect(await health(fused)).toBe(true);
    expect(await health(stock)).toBe(false);
    for (const url of RENDERS) {
      const [a, b] = await Promise.all([fused.fetch(url), stock.fetch(url)]);
      expect([a.status, b.status], url).toEqual([200, 200]);
      const [x, y] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
      expect(Buffer.from(x).equals(Buffer.from(y)), url).toBe(true);
      expect(a.headers.get('x-p-true'), url).toBe(b.headers.get('x-p-true'));
    }
  }, 120_000);
});
