/**
 * The fused synthesis epilogue and the direct 3x3 conv on the edge (issue 19): workerd forbids
 * compiling wasm at run time, so the worker imports both modules precompiled
 * (dist/worker/synthesis-epilogue.wasm from the core's encoder, dist/worker/conv3x3.wasm from the
 * core's committed conv3x3 bytes, both written by the build). Here: the shipped files are those
 * bytes, both kernels really run on the edge, and every live reply that renders (images, strips,
 * probabilities) is the same with them as with the stock kernels (FUSED_EPILOGUE "0" and CONV3X3
 * "0", same bundle: one more workerd per switch would double this file's boot time). The replies
 * carry 8-bit PNGs and probabilities to 6 decimals; the float-level identity of the same bytes'
 * kernels against the stock ones is test/synthesis-epilogue.test.ts's and test/conv3x3-kernel.test.ts's.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesisEpilogueWasm } from '../../src/core/generator/synthesis-epilogue-wasm.js';
import { conv3x3Wasm } from '../../src/core/nn/conv3x3/conv3x3-wasm.js';
import { CONV3X3_WASM, EPILOGUE_WASM } from '../../scripts/edge/wasm-plugin.js';
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
  it('ships the conv3x3 module’s committed bytes unchanged', async () => {
    await ensureBuilt();
    expect(new Uint8Array(readFileSync(`dist/worker/${CONV3X3_WASM}`))).toEqual(conv3x3Wasm());
  });
});

describe('fused synthesis epilogue and direct 3x3 conv on the edge', () => {
  let fused: ConfiguredEdge;
  let stock: ConfiguredEdge;
  beforeAll(async () => {
    fused = await startConfiguredEdge({});
    stock = await startConfiguredEdge({ FUSED_EPILOGUE: '0', CONV3X3: '0' });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([fused?.close(), stock?.close()]);
  });

  it('runs on the edge and renders what the stock kernels render', async () => {
    type Health = { fusedEpilogue: boolean; conv3x3: boolean };
    const health = async (e: ConfiguredEdge) => {
      const h = (await (await e.fetch('/v1/health?warm=true')).json()) as Health;
      return [h.fusedEpilogue, h.conv3x3];
    };
    expect(await health(fused)).toEqual([true, true]);
    expect(await health(stock)).toEqual([false, false]);
    for (const url of RENDERS) {
      const [a, b] = await Promise.all([fused.fetch(url), stock.fetch(url)]);
      expect([a.status, b.status], url).toEqual([200, 200]);
      const [x, y] = await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
      expect(Buffer.from(x).equals(Buffer.from(y)), url).toBe(true);
      expect(a.headers.get('x-p-true'), url).toBe(b.headers.get('x-p-true'));
    }
  }, 120_000);
});
