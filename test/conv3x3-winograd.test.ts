/**
 * The opt-in Winograd F(2x2,3x3) algorithm of the 3x3 conv kernel (src/core/nn/conv3x3,
 * `setConv3x3Algorithm('winograd')`): off by default; on every conv shape the built-in models run,
 * within 2e-6 of max |y| of the exact (float64) conv and no worse than twice XNNPACK's own error;
 * the sweep's probabilities and d p_true / d s on the committed weights close to the direct kernel's;
 * the transformed filters follow a reassigned weight and are freed with their filters (no tensor and
 * no heap growth); and the module writes only its output and scratch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import { analysisModels, loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { pTrueGradient, sampleNoiseStreams } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import {
  conv3x3Algorithm,
  conv3x3Calls,
  conv3x3WinogradCalls,
  setConv3x3Algorithm,
  setConv3x3Kernel,
  winogradFilterCount,
} from '../src/core/nn/conv3x3/conv3x3-kernel.js';
import { conv3x3Wasm } from '../src/core/nn/conv3x3/conv3x3-wasm.js';
import { type ConvCall, modelConvCalls } from './conv-calls.js';

/** The exact 'same' 3x3 conv in float64: x [n][h][w][cin], f [3][3][cin][cout]. */
function reference(xs: ArrayLike<number>, fs: ArrayLike<number>, [n, h, w, cin, cout]: number[]): Float64Array {
  const y = new Float64Array(n * h * w * cout);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const o = ((b * h + i) * w + j) * cout;
        for (let t = 0; t < 9; t++) {
          const [iy, ix] = [i + Math.floor(t / 3) - 1, j + (t % 3) - 1];
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          const xo = ((b * h + iy) * w + ix) * cin;
          for (let k = 0; k < cin; k++) {
            const v = xs[xo + k];
            const fo = (t * cin + k) * cout;
            for (let c = 0; c < cout; c++) y[o + c] += v * fs[fo + c];
          }
        }
      }
  return y;
}

/** max |a - ref| / max |ref|. */
function relError(a: ArrayLike<number>, ref: Float64Array): number {
  let err = 0;
  let top = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    top = Math.max(top, Math.abs(ref[i]));
  }
  return err / top;
}

/** One 3x3 'same' conv with the given algorithm (XNNPACK with 'xnnpack'); its values, and whether Winograd ran. */
function conv(algorithm: 'direct' | 'winograd' | 'xnnpack', x: tf.Tensor4D, f: tf.Tensor4D) {
  setConv3x3Kernel(algorithm !== 'xnnpack');
  setConv3x3Algorithm(algorithm === 'winograd' ? 'winograd' : 'direct');
  const before = conv3x3WinogradCalls();
  const y = tf.conv2d(x, f, 1, 'same');
  const values = y.dataSync() as Float32Array;
  y.dispose();
  return { values, winograd: conv3x3WinogradCalls() > before };
}

const randn = (seed: number, n: number) => normals(createRng(seed), n);

/** Bound on Winograd's error, relative to max |y|; the models' shapes measure 2-4e-7. */
const BOUND = 2e-6;

describe('Winograd F(2x2,3x3) conv (wasm, opt-in)', () => {
  let calls: ConvCall[] = [];
  beforeAll(async () => {
    await useBackend('wasm');
    calls = modelConvCalls();
  }, 120_000);
  afterEach(() => {
    setConv3x3Kernel(true);
    setConv3x3Algorithm('direct');
  });
  afterAll(() => setConv3x3Algorithm('direct'));

  it('is off by default, and switching back to direct frees its filters', () => {
    expect(conv3x3Algorithm()).toBe('direct');
    const x = tf.ones([1, 4, 4, 8]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 8, 8]) as tf.Tensor4D;
    expect(conv('direct', x, f).winograd).toBe(false);
    expect(conv('winograd', x, f).winograd).toBe(true);
    expect(winogradFilterCount()).toBe(1);
    setConv3x3Algorithm('direct');
    expect(winogradFilterCount()).toBe(0);
    expect(() => setConv3x3Algorithm('fft' as 'direct')).toThrow(/unknown algorithm/);
    tf.dispose([x, f]);
  });

  it('is within 2e-6 of the exact conv on every conv shape the models run, and no worse than twice XNNPACK', () => {
    const distinct = new Map<string, ConvCall>();
    for (const c of calls)
      if (c.filter[0] === 3 && c.filter[1] === 3) distinct.set(JSON.stringify([c.x.slice(1), c.filter]), c);
    expect(distinct.size).toBe(18);
    let seed = 1;
    let taken = 0;
    const rows: string[] = [];
    for (const c of distinct.values()) {
      const [, h, w, cin] = c.x;
      const cout = c.filter[3];
      const dims = [3, h, w, cin, cout];
      const xs = randn(seed++, 3 * h * w * cin);
      const fs = randn(seed++, 9 * cin * cout);
      const x = tf.tensor4d(xs, [3, h, w, cin]);
      const f = tf.tensor4d(fs, c.filter as [number, number, number, number]);
      const ref = reference(xs, fs, dims);
      const wino = conv('winograd', x, f);
      const xnn = conv('xnnpack', x, f);
      const what = `${dims}`;
      if (cin % 4 === 0 && cout % 4 === 0) {
        // Every conv of the sweep (generator and classifier, forward and input gradient).
        expect(wino.winograd, what).toBe(true);
        taken++;
        const [we, xe] = [relError(wino.values, ref), relError(xnn.values, ref)];
        rows.push(`${what}: winograd ${we.toExponential(1)}, xnnpack ${xe.toExponential(1)}`);
        expect(we, what).toBeLessThan(BOUND);
        expect(we, what).toBeLessThan(2 * xe + 1e-8);
      } else {
        // 1, 3 or 65 channels: the direct loop, XNNPACK's bits.
        expect(wino.winograd, what).toBe(false);
        expect(wino.values, what).toEqual(xnn.values);
      }
      tf.dispose([x, f]);
    }
    expect(taken).toBeGreaterThanOrEqual(10);
    console.log(`winograd vs float64, max |err| / max |y|:\n  ${rows.join('\n  ')}`);
  }, 120_000);

  it('takes odd sizes, partial tiles and channel tails; a NaN input propagates', () => {
    let seed = 300;
    for (const dims of [
      [1, 5, 7, 8, 12],
      [2, 3, 3, 4, 4],
      [1, 1, 1, 4, 8],
      [2, 6, 9, 12, 20],
      [1, 2, 11, 16, 36],
      [3, 9, 4, 8, 8],
    ]) {
      const [n, h, w, cin, cout] = dims;
      const xs = randn(seed++, n * h * w * cin);
      const fs = randn(seed++, 9 * cin * cout);
      const x = tf.tensor4d(xs, [n, h, w, cin]);
      const f = tf.tensor4d(fs, [3, 3, cin, cout]);
      const ref = reference(xs, fs, dims);
      const wino = conv('winograd', x, f);
      expect(wino.winograd, `${dims}`).toBe(true);
      expect(relError(wino.values, ref), `${dims}`).toBeLessThan(BOUND);
      tf.dispose([x, f]);
      // A NaN input reaches the outputs whose 3x3 window holds it (and, through the transform, the
      // other outputs of its tile: NaN either way).
      xs[0] = Number.NaN;
      const xn = tf.tensor4d(xs, [n, h, w, cin]);
      const fn = tf.tensor4d(fs, [3, 3, cin, cout]);
      const y = conv('winograd', xn, fn).values;
      expect(Number.isNaN(y[0]), `${dims} NaN`).toBe(true);
      tf.dispose([xn, fn]);
    }
  });

  it('keeps the sweep’s probabilities within 1e-5 and d p_true / d s within 1e-4 of max |grad| (committed weights, batch 16)', () => {
    const gen = loadGenerator();
    const models = analysisModels(gen, loadBuiltinClassifier('classifier-clean'));
    const batch = 16;
    const { s, w, labels } = populationStyles(models, { seed: 3, count: 1_000_000, classIndex: null }, 0, batch);
    w.dispose();
    const streams = sampleNoiseStreams(0, batch);
    const run = (algorithm: 'direct' | 'winograd') => {
      setConv3x3Algorithm(algorithm);
      const [before, wBefore] = [conv3x3Calls(), conv3x3WinogradCalls()];
      const { probs, grad } = pTrueGradient(models, s, labels, streams);
      const out = {
        probs: probs.dataSync(),
        grad: grad.dataSync(),
        ran: conv3x3Calls() - before,
        wino: conv3x3WinogradCalls() - wBefore,
      };
      tf.dispose([probs, grad]);
      return out;
    };
    const direct = run('direct');
    const wino = run('winograd');
    expect(direct.wino).toBe(0);
    // Every conv of the sweep but the classifier's first (one input channel) and its gradient.
    expect(wino.wino).toBeGreaterThanOrEqual(direct.ran - 2);
    expect(wino.wino).toBeGreaterThanOrEqual(15);
    let dp = 0;
    for (let i = 0; i < direct.probs.length; i++) dp = Math.max(dp, Math.abs(direct.probs[i] - wino.probs[i]));
    const top = Math.max(...direct.grad.map(Math.abs));
    let dg = 0;
    let over = 0;
    for (let i = 0; i < direct.grad.length; i++) {
      const d = Math.abs(direct.grad[i] - wino.grad[i]) / top;
      dg = Math.max(dg, d);
      if (d > 1e-4) over++;
    }
    console.log(
      `pTrueGradient batch ${batch}, winograd vs direct: max |dp| ${dp.toExponential(2)}, ` +
        `max |d grad| / max |grad| ${dg.toExponential(2)} (${over} of ${direct.grad.length} over 1e-4)`,
    );
    expect(top).toBeGreaterThan(0);
    expect(dp).toBeLessThan(1e-5);
    expect(dg).toBeLessThan(1e-4);
    s.dispose();
    gen.generator.dispose();
    models.classifier.dispose();
  }, 120_000);

  it('sees a reassigned weight, and frees the transformed filters of disposed ones (no tensor or heap growth)', () => {
    const dims = [2, 8, 8, 16, 16];
    const x = tf.tensor4d(randn(1, 2 * 8 * 8 * 16), [2, 8, 8, 16]);
    const v = tf.variable(tf.tensor4d(randn(2, 9 * 16 * 16), [3, 3, 16, 16]));
    const before = conv('winograd', x, v as unknown as tf.Tensor4D).values;
    const fs = randn(3, 9 * 16 * 16);
    v.assign(tf.tensor4d(fs, [3, 3, 16, 16]));
    const after = conv('winograd', x, v as unknown as tf.Tensor4D).values;
    expect(relError(after, reference(x.dataSync(), fs, dims))).toBeLessThan(BOUND);
    expect(relError(before, reference(x.dataSync(), fs, dims))).toBeGreaterThan(0.1);
    // New filters again and again (a cache switched off computes its filters per call).
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
    const counts: number[][] = [];
    for (let i = 0; i < 30; i++) {
      const f = tf.tensor4d(randn(10 + i, 9 * 16 * 32), [3, 3, 16, 32]);
      conv('winograd', x, f);
      f.dispose();
      const m = tf.memory();
      counts.push([m.numTensors, m.numDataBuffers, memory.buffer.byteLength, winogradFilterCount()]);
    }
    // The entry of the previous call's filter is freed at the next call: the variable's, the
    // previous filter's (freed at the next call) and this one's.
    expect(new Set(counts.slice(2).map((c) => JSON.stringify(c))).size).toBe(1);
    expect(counts[29][3]).toBe(3);
    // Filters that stay alive: at most 64 entries, the least recently used evicted.
    const kept = Array.from({ length: 70 }, (_, i) => tf.tensor4d(randn(100 + i, 9 * 16 * 4), [3, 3, 16, 4]));
    for (const f of kept) conv('winograd', x, f);
    expect(winogradFilterCount()).toBe(64);
    const again = conv('winograd', x, kept[0]).values;
    expect(again).toEqual(conv('winograd', x, kept[0]).values);
    tf.dispose([x, v, ...kept]);
  });
});

describe('the conv3x3 module’s Winograd entry points', () => {
  it('write the output, the transformed filter and the scratch, and no other byte of the memory', () => {
    const [n, h, w, cin, cout] = [2, 5, 3, 8, 12];
    const cout8 = 16;
    const memory = new WebAssembly.Memory({ initial: 4 });
    const f32 = new Float32Array(memory.buffer);
    f32.fill(1234.5);
    // Float offsets: x, filter, U, y, scratch, each with a gap.
    const [xo, fo, uo, yo, so] = [1000, 3000, 5000, 10000, 13000];
    const xs = randn(1, n * h * w * cin);
    const fs = randn(2, 9 * cin * cout);
    f32.set(xs, xo);
    f32.set(fs, fo);
    const before = f32.slice();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(conv3x3Wasm()), { env: { memory } });
    const e = inst.exports as Record<string, (...a: number[]) => void>;
    e.wino2_filter(4 * fo, 4 * uo, cin, cout);
    e.wino2(4 * xo, 4 * uo, 4 * yo, 4 * so, n, h, w, cin, cout);
    const size = n * h * w * cout;
    const scratch = 16 * 16 * (cin + cout8);
    const written = (i: number) =>
      (i >= yo && i < yo + size) || (i >= uo && i < uo + 16 * cin * cout8) || (i >= so && i < so + scratch);
    const changed = [...f32.keys()].filter((i) => !Object.is(f32[i], before[i]) && !written(i));
    expect(changed).toEqual([]);
    expect(relError(f32.subarray(yo, yo + size), reference(xs, fs, [n, h, w, cin, cout]))).toBeLessThan(BOUND);
  });
});
