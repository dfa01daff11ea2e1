/**
 * The direct 3x3 conv kernel on wasm (src/core/nn/conv3x3): every conv shape the built-in models run
 * (generator synthesis and its input-gradient convs, the classifiers, the discriminator forward and
 * backward), at batch 1, 3 and 64, gives XNNPACK's bits exactly; the gradient sweep on the committed
 * weights too; the shapes it does not take fall back to XNNPACK; and the module owns none of the heap
 * it is given (it writes the output and nothing else).
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, normals } from '../src/core/random.js';
import { analysisModels, loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { type ConvCall, modelConvCalls } from './conv-calls.js';
import { pTrueGradient, sampleNoiseStreams } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { avgPool2 } from '../src/core/nn/ops.js';
import {
  conv3x3Calls,
  conv3x3Handles,
  conv3x3KernelActive,
  conv3x3Mean2x2Calls,
  mean2x2Handles,
  registerWasmConv3x3,
  setConv3x3Kernel,
} from '../src/core/nn/conv3x3/conv3x3-kernel.js';
import { conv3x3Wasm } from '../src/core/nn/conv3x3/conv3x3-wasm.js';

const bitsDiffer = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
};

/** A tensor of standard normals, seeded. */
const randn = (seed: number, shape: number[]): tf.Tensor4D => {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(normals(createRng(seed), size), shape as [number, number, number, number]);
};

/** conv2d with the kernel on or off; the output's values and whether the kernel computed it. */
function conv(on: boolean, x: tf.Tensor4D, filter: tf.Tensor4D, attrs: tf.Conv2DAttrs) {
  setConv3x3Kernel(on);
  const before = conv3x3Calls();
  const y = tf.conv2d(x, filter, attrs.strides, attrs.pad, 'NHWC', attrs.dilations);
  const values = y.dataSync() as Float32Array;
  y.dispose();
  return { values, ran: conv3x3Calls() > before };
}

describe('direct 3x3 conv kernel (wasm)', () => {
  let calls: ConvCall[] = [];
  beforeAll(async () => {
    await useBackend('wasm');
    calls = modelConvCalls();
  }, 120_000);
  afterEach(() => setConv3x3Kernel(true));

  it('is registered by useBackend and idempotent', () => {
    expect(registerWasmConv3x3(tf.backend())).toBe(true);
    expect(conv3x3KernelActive()).toBe(true);
    setConv3x3Kernel(false);
    expect(conv3x3KernelActive()).toBe(false);
  });

  it('gives XNNPACK’s bits on every conv shape the built-in models run, at batch 1, 3 and 64', () => {
    // Each distinct call (shape without batch, filter, attributes) once per batch size.
    const distinct = new Map<string, ConvCall>();
    for (const c of calls) distinct.set(JSON.stringify([c.x.slice(1), c.filter, c.attrs]), c);
    const handled = [...distinct.values()].filter((c) => c.filter[0] === 3 && c.filter[1] === 3);
    // 18: the generator's 6 synthesis convs and 2 more among their input gradients' (the others
    // coincide), the grey classifier's 3 convs and 3 input gradients, the RGB one's first conv and
    // its gradient, the discriminator's epilogue conv (65 channels in: minibatch std) and its
    // gradient (its blocks' shapes are the generator's). Every 3x3 conv they run is a 'same' conv.
    expect(handled.length).toBe(18);
    const info = (shape: number[]): tf.TensorInfo => ({ dataId: {}, shape, dtype: 'float32' });
    const others = calls.filter((c) => !conv3x3Handles(info(c.x), info(c.filter), c.attrs));
    expect(others.every((c) => c.filter[0] === 1 && c.filter[1] === 1)).toBe(true); // toRGB, fromRGB, skips
    const cins = new Set(handled.map((c) => c.filter[2]));
    const couts = new Set(handled.map((c) => c.filter[3]));
    for (const c of [1, 3, 16, 32, 64, 65]) expect(cins.has(c) || couts.has(c), `channels ${c}`).toBe(true);
    let seed = 10;
    for (const c of handled)
      for (const batch of [1, 3, 64]) {
        const [, h, w, cin] = c.x;
        const x = randn(seed++, [batch, h, w, cin]);
        const f = randn(seed++, c.filter);
        const on = conv(true, x, f, c.attrs);
        const off = conv(false, x, f, c.attrs);
        const what = `${batch}x${c.x.slice(1)} * ${c.filter}`;
        expect(conv3x3Handles(x, f, c.attrs), what).toBe(true);
        expect([on.ran, off.ran], what).toEqual([true, false]);
        expect(bitsDiffer(on.values, off.values), what).toBe(0);
        tf.dispose([x, f]);
      }
  }, 120_000);

  it('falls back to XNNPACK for the convs it does not take, with the same results', () => {
    const cases: [number[], number[], Partial<tf.Conv2DAttrs>][] = [
      [[2, 8, 8, 16], [1, 1, 16, 1], { pad: 'same' }], // toRGB
      [[2, 8, 8, 16], [1, 1, 16, 32], { pad: 'valid' }], // the discriminator's skip
      [[2, 8, 8, 16], [3, 3, 16, 8], { strides: 2, pad: 'same' }],
      [[2, 8, 8, 16], [3, 3, 16, 8], { pad: 'valid' }],
      [[2, 8, 8, 16], [3, 3, 16, 8], { pad: 'same', dilations: 2 }],
      [[2, 8, 8, 16], [5, 5, 16, 8], { pad: 'same' }],
      [[2, 8, 8, 16], [3, 3, 16, 8], { pad: 2 }],
      [[2, 8, 8, 16], [3, 2, 16, 8], { pad: 'same' }],
      [[16, 8, 8, 4], [8, 8, 4, 8], { pad: 1 }], // a filter gradient (dy as the kernel)
    ];
    let seed = 100;
    for (const [xs, fs, a] of cases) {
      const attrs = { strides: 1, dilations: 1, ...a } as tf.Conv2DAttrs;
      const x = randn(seed++, xs);
      const f = randn(seed++, fs);
      const what = `${xs} * ${fs} ${JSON.stringify(a)}`;
      expect(conv3x3Handles(x, f, attrs), what).toBe(false);
      const on = conv(true, x, f, attrs);
      const off = conv(false, x, f, attrs);
      expect(on.ran, what).toBe(false);
      expect(bitsDiffer(on.values, off.values), what).toBe(0);
      tf.dispose([x, f]);
    }
    // An explicit padding of 1 is the same conv as 'same': taken.
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 2, 3]) as tf.Tensor4D;
    expect(conv(true, x, f, { strides: 1, pad: 1, dilations: 1 } as tf.Conv2DAttrs).ran).toBe(true);
    tf.dispose([x, f]);
  });

  it('gives XNNPACK’s bits at NaN, infinities, overflow and zeros, odd sizes and every channel tail', () => {
    let seed = 200;
    for (const [n, h, w, cin, cout] of [
      [1, 4, 5, 6, 9],
      [2, 3, 7, 5, 15],
      [1, 1, 1, 3, 4],
      [2, 6, 2, 1, 13],
      [1, 5, 9, 7, 8],
    ]) {
      const xs = normals(createRng(seed++), n * h * w * cin);
      const fs = normals(createRng(seed++), 9 * cin * cout);
      [xs[0], xs[3], xs[xs.length - 1], xs[xs.length >> 1]] = [Number.NaN, Number.POSITIVE_INFINITY, 0, -0];
      xs[(xs.length >> 1) + 1] = 3e38;
      [fs[1], fs[fs.length - 2], fs[fs.length >> 1]] = [Number.NEGATIVE_INFINITY, -0, 3e38];
      const x = tf.tensor4d(xs, [n, h, w, cin]);
      const f = tf.tensor4d(fs, [3, 3, cin, cout]);
      const attrs = { strides: 1, pad: 'same', dilations: 1 } as tf.Conv2DAttrs;
      const on = conv(true, x, f, attrs);
      const off = conv(false, x, f, attrs);
      const what = `${[n, h, w, cin, cout]}`;
      expect(on.ran, what).toBe(true);
      // The infinite weight times the padding's zeros is NaN in both.
      expect(off.values.some(Number.isNaN), what).toBe(true);
      expect(bitsDiffer(on.values, off.values), what).toBe(0);
      tf.dispose([x, f]);
    }
  });

  it('pools 2x2 (mean2x2) with the stock Mean’s bits on the models’ shapes, extreme values and channel tails', () => {
    const shapes: Array<[number, number, number, number]> = [
      [64, 32, 32, 16],
      [3, 16, 16, 32],
      [3, 8, 8, 64],
      [2, 32, 32, 3],
      [2, 4, 6, 7],
      [1, 2, 2, 1],
    ];
    for (const [i, shape] of shapes.entries()) {
      // Magnitudes from e-9 to e+9 (sums round), then zeros of both signs, infinities and a NaN.
      const x = tf.tidy(() => tf.mul(randn(40 + i, shape), tf.exp(tf.mul(randn(50 + i, shape), 5))) as tf.Tensor4D);
      const special = [-0, -0, -0, -0, 0, Infinity, -Infinity, Number.NaN, 1e-45, 3.4e38, 3.4e38, 1e-45];
      const v = x.dataSync().slice();
      v.set(special.slice(0, Math.min(special.length, v.length)));
      const xs = tf.tensor4d(v, shape);
      const pool = (on: boolean) => {
        setConv3x3Kernel(on);
        const before = conv3x3Mean2x2Calls();
        const y = tf.tidy(() => avgPool2(xs));
        const out = { values: y.dataSync(), ran: conv3x3Mean2x2Calls() > before };
        y.dispose();
        return out;
      };
      const [on, off] = [pool(true), pool(false)];
      expect(on.ran, `${shape}`).toBe(true);
      expect(off.ran).toBe(false);
      expect(bitsDiffer(on.values, off.values), `${shape}`).toBe(0);
      tf.dispose([x, xs]);
    }
    // Other reductions stay with the stock kernel.
    const x6 = { dtype: 'float32', shape: [2, 4, 2, 4, 2, 3] } as unknown as tf.TensorInfo;
    expect(mean2x2Handles(x6, { axis: [2, 4], keepDims: false })).toBe(true);
    expect(mean2x2Handles(x6, { axis: [-4, -2], keepDims: false })).toBe(true);
    expect(mean2x2Handles(x6, { axis: [2, 4], keepDims: true })).toBe(false);
    expect(mean2x2Handles(x6, { axis: [1, 3], keepDims: false })).toBe(false);
    expect(mean2x2Handles(x6, { axis: 2, keepDims: false })).toBe(false);
    const before = conv3x3Mean2x2Calls();
    const m = tf.mean(tf.ones([2, 3, 4]), 1);
    expect(Array.from(m.dataSync())).toEqual(new Array(8).fill(1));
    expect(conv3x3Mean2x2Calls()).toBe(before);
    m.dispose();
  });

  it('leaves the sweep’s probabilities and d p_true / d s on the committed weights unchanged', () => {
    const gen = loadGenerator();
    const models = analysisModels(gen, loadBuiltinClassifier('classifier-clean'));
    for (const batch of [1, 3]) {
      const { s, w, labels } = populationStyles(models, { seed: 3, count: 1_000_000, classIndex: null }, 0, batch);
      w.dispose();
      const streams = sampleNoiseStreams(0, batch);
      const run = (on: boolean) => {
        setConv3x3Kernel(on);
        const [before, pools] = [conv3x3Calls(), conv3x3Mean2x2Calls()];
        const { probs, grad } = pTrueGradient(models, s, labels, streams);
        const out = {
          probs: probs.dataSync(),
          grad: grad.dataSync(),
          ran: conv3x3Calls() - before,
          pooled: conv3x3Mean2x2Calls() - pools,
        };
        tf.dispose([probs, grad]);
        return out;
      };
      const on = run(true);
      const off = run(false);
      // 12 synthesis convs (forward and input gradient) and 6 of the classifier's, minus the
      // classifier's first conv's input gradient, which the sweep does not need... at least 17.
      expect(on.ran, `batch ${batch}`).toBeGreaterThanOrEqual(17);
      expect(off.ran).toBe(0);
      // The classifier's three 2x2 poolings.
      expect([on.pooled, off.pooled]).toEqual([3, 0]);
      expect(bitsDiffer(on.probs, off.probs), `batch ${batch} probs`).toBe(0);
      expect(bitsDiffer(on.grad, off.grad), `batch ${batch} d/ds`).toBe(0);
      expect(Math.max(...on.grad.map(Math.abs))).toBeGreaterThan(0);
      s.dispose();
    }
    gen.generator.dispose();
    models.classifier.dispose();
  }, 60_000);
});

describe('the conv3x3 module', () => {
  it('writes the output (and its scratch) and no other byte of the memory it is given', () => {
    const [n, h, w, cin, cout] = [2, 3, 5, 3, 11];
    const memory = new WebAssembly.Memory({ initial: 4 });
    const f32 = new Float32Array(memory.buffer);
    f32.fill(1234.5);
    // Float offsets: x, filter, zeros, y, packed filter scratch, each with a gap.
    const [xo, fo, zo, yo, po] = [1000, 2000, 4000, 5000, 7000];
    const xs = normals(createRng(1), n * h * w * cin);
    const fs = normals(createRng(2), 9 * cin * cout);
    f32.set(xs, xo);
    f32.set(fs, fo);
    f32.fill(0, zo, zo + cin);
    const before = f32.slice();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(conv3x3Wasm()), { env: { memory } });
    (inst.exports.conv3x3 as (...a: number[]) => void)(4 * xo, 4 * fo, 4 * yo, 4 * zo, 4 * po, n, h, w, cin, cout);
    const size = n * h * w * cout;
    const scratch = 9 * cin * (cout - (cout % 8));
    const written = (i: number) => (i >= yo && i < yo + size) || (i >= po && i < po + scratch);
    const changed = [...f32.keys()].filter((i) => !Object.is(f32[i], before[i]) && !written(i));
    expect(changed).toEqual([]);
    // The reference: float32 products and sums, taps row by row, channels in order, from +0.
    const fr = Math.fround;
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let o = 0; o < cout; o++) {
            let acc = 0;
            for (let t = 0; t < 9; t++) {
              const [iy, ix] = [y + Math.floor(t / 3) - 1, x + (t % 3) - 1];
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              for (let k = 0; k < cin; k++) {
                const v = inside ? xs[((b * h + iy) * w + ix) * cin + k] : 0;
                acc = fr(acc + fr(fr(v) * fr(fs[(t * cin + k) * cout + o])));
              }
            }
            expect(f32[yo + ((b * h + y) * w + x) * cout + o]).toBe(acc);
          }
  });

  it('has no data section (it would be written into tfjs’s heap)', () => {
    const b = conv3x3Wasm();
    const ids: number[] = [];
    let i = 8;
    const leb = () => {
      let r = 0;
      let s = 0;
      let x: number;
      do {
        x = b[i++];
        r |= (x & 0x7f) << s;
        s += 7;
      } while (x & 0x80);
      return r >>> 0;
    };
    while (i < b.length) {
      ids.push(b[i++]);
      const size = leb();
      i += size;
    }
    expect(ids).toContain(10); // code
    expect(ids).not.toContain(11); // data
    expect(ids).not.toContain(12); // data count
    expect(WebAssembly.Module.imports(new WebAssembly.Module(b))).toEqual([
      { module: 'env', name: 'memory', kind: 'memory' },
    ]);
  });

  const clang = (() => {
    try {
      execFileSync('clang', ['--version'], { stdio: 'ignore' });
      execFileSync('wasm-ld', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // npm test's set-up installs clang and lld (scripts/ensure-test-system-packages.sh); skipped where they are
  // missing (e.g. `npm run test:unit` on a machine without them).
  it.skipIf(!clang)('rebuilds from conv3x3.c to the committed bytes', () => {
    const out = execFileSync('bash', ['scripts/build-conv3x3-wasm.sh', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/rebuild matches/);
  });
});
