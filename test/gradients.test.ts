/**
 * The portable gradients (src/core/gradients) against independent references, and the cpu and wasm
 * backends against each other.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../src/core/classifier/simple-cnn.js';
import { avgPool2, avgPool2BroadcastGrad, scaleChannels, upsample2, upsample2PooledGrad } from '../src/core/nn/ops.js';
import { createRng, normals } from '../src/core/random.js';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';

const BACKENDS = ['cpu', 'wasm'] as const;

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    normals(
      createRng(seed),
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
  );
}

/** max |a - b| / max(|b|) over all elements. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** Direct (loop) conv gradient references, NHWC, stride 1, 'same', odd kernel. */
function naiveConvGrads(x: Float32Array, xs: number[], w: Float32Array, ws: number[], dy: Float32Array) {
  const [n, h, wd, ci] = xs;
  const [k, , , co] = ws;
  const p = (k - 1) / 2;
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        for (let o = 0; o < co; o++) {
          const g = dy[((b * h + y) * wd + xx) * co + o];
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const yy = y + i - p;
              const xj = xx + j - p;
              if (yy < 0 || yy >= h || xj < 0 || xj >= wd) continue;
              for (let c = 0; c < ci; c++) {
                const xi = ((b * h + yy) * wd + xj) * ci + c;
                const wi = ((i * k + j) * ci + c) * co + o;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
            }
        }
  return { dx, dw };
}

describe.each(BACKENDS)('portable gradients on %s', (backend) => {
  it('Conv2D: input and filter gradients equal the direct computation (batch 3)', async () => {
    await useBackend(backend);
    for (const k of [1, 3]) {
      const xs = [3, 8, 8, 4];
      const ws = [k, k, 4, 5];
      const x = seeded(xs, 1) as tf.Tensor4D;
      const w = seeded(ws, 2) as tf.Tensor4D;
      const dy = seeded([3, 8, 8, 5], 3);
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dy)),
      )([x, w]);
      const ref = naiveConvGrads(
        (await x.data()) as Float32Array,
        xs,
        (await w.data()) as Float32Array,
        ws,
        (await dy.data()) as Float32Array,
      );
      expect(relativeError(await gx.data(), ref.dx)).toBeLessThan(1e-5);
      expect(relativeError(await gw.data(), ref.dw)).toBeLessThan(1e-5);
      tf.dispose([x, w, dy, gx, gw]);
    }
  });

  it('Conv2D: strided convs fall back to the stock gradient', async () => {
    await useBackend(backend);
    if (backend === 'wasm') return; // wasm has no Conv2DBackpropFilter for the stock path.
    const x = seeded([2, 8, 8, 2], 4) as tf.Tensor4D;
    const w = seeded([3, 3, 2, 3], 5) as tf.Tensor4D;
    const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 2, 'valid')))(x);
    expect(gx.shape).toEqual([2, 8, 8, 2]);
    tf.dispose([x, w, gx]);
  });

  it('MatMul: gradients for every transpose combination equal the explicit products', async () => {
    await useBackend(backend);
    const a = seeded([4, 6], 6) as tf.Tensor2D;
    const b = seeded([6, 3], 7) as tf.Tensor2D;
    const dy = seeded([4, 3], 8) as tf.Tensor2D;
    const refA = await tf.matMul(dy, tf.transpose(b)).data();
    const refB = await tf.matMul(tf.transpose(a), dy).data();
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const A = ta ? tf.transpose(a) : a;
      const B = tb ? tf.transpose(b) : b;
      const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb), dy)),
      )([A, B]);
      const gaN = ta ? tf.transpose(ga) : ga;
      const gbN = tb ? tf.transpose(gb) : gb;
      expect(relativeError(await gaN.data(), refA)).toBeLessThan(1e-5);
      expect(relativeError(await gbN.data(), refB)).toBeLessThan(1e-5);
    }
  });

  it('upsample2 and avgPool2 have exact gradients at batch > 1 (catches the cpu ResizeNearestNeighborGrad bug)', async () => {
    await useBackend(backend);
    const x = seeded([4, 3, 3, 2], 9) as tf.Tensor4D;
    const dy = seeded([4, 6, 6, 2], 10);
    const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsample2(a as tf.Tensor4D), dy)))(x);
    // Each input pixel receives the sum of the 2x2 block of dy it was copied to.
    const expected = tf.mul(avgPool2(dy as tf.Tensor4D), 4);
    expect(relativeError(await gx.data(), await expected.data())).toBeLessThan(1e-6);
    tf.dispose([x, dy, gx, expected]);
  });

  it("the synthesis network's pooled gradients (upsample2PooledGrad, scaleChannels) equal the stock ones to float32 rounding", async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const x = seeded([4, 8, 8, 3], 21) as tf.Tensor4D;
    const s = seeded([4, 3], 22) as tf.Tensor2D;
    const up = seeded([4, 16, 16, 3], 23);
    const dy = seeded([4, 8, 8, 3], 24);
    // Values are the stock ops' bit for bit; gradients differ only in the order of float32 sums.
    const stockUp = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsample2(a as tf.Tensor4D), up)))(x);
    const fastUp = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(upsample2PooledGrad(a as tf.Tensor4D), up)))(x);
    expect(relativeError(await fastUp.data(), await stockUp.data())).toBeLessThan(1e-6);
    const stockScale = (a: tf.Tensor, b: tf.Tensor) => tf.mul(a, tf.reshape(b, [4, 1, 1, 3]));
    const [v0, v1] = [tf.tidy(() => stockScale(x, s)), scaleChannels(x, s)];
    expect(Array.from(await v1.data())).toEqual(Array.from(await v0.data()));
    const [gx0, gs0] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(stockScale(a, b), dy)))([x, s]);
    const [gx1, gs1] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(scaleChannels(a as tf.Tensor4D, b as tf.Tensor2D), dy)),
    )([x, s]);
    expect(Array.from(await gx1.data())).toEqual(Array.from(await gx0.data()));
    expect(relativeError(await gs1.data(), await gs0.data())).toBeLessThan(1e-6);
    tf.dispose([x, s, up, dy, stockUp, fastUp, v0, v1, gx0, gs0, gx1, gs1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the classifiers' pooling (avgPool2BroadcastGrad) equals the stock mean and its gradient bit for bit", async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    // Values spread over magnitudes (and a -0 and subnormals) so that a different rounding shows.
    const x = tf.tidy(() => tf.mul(seeded([3, 8, 8, 5], 31), tf.exp(tf.mul(seeded([3, 8, 8, 5], 32), 8))));
    const tiny = tf.tensor4d([-0, 1e-45, -3e-45, 7e-39], [1, 2, 2, 1]);
    for (const t of [x, tiny] as tf.Tensor4D[]) {
      const dy = tf.tidy(() => tf.mul(seeded([t.shape[0], t.shape[1] / 2, t.shape[2] / 2, t.shape[3]], 33), 1e-38));
      const [v0, v1] = tf.tidy(() => [avgPool2(t), avgPool2BroadcastGrad(t)]);
      expect(Array.from(await v1.data())).toEqual(Array.from(await v0.data()));
      const g0 = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(avgPool2(a as tf.Tensor4D), dy)))(t);
      const g1 = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(avgPool2BroadcastGrad(a as tf.Tensor4D), dy)))(t);
      expect(Array.from(await g1.data())).toEqual(Array.from(await g0.data()));
      tf.dispose([dy, v0, v1, g0, g1]);
    }
    tf.dispose([x, tiny]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('second-order gradients flow through leakyRelu and conv (R1 needs them)', async () => {
    await useBackend(backend);
    const w = seeded([3, 3, 1, 2], 11) as tf.Tensor4D;
    const x = seeded([2, 4, 4, 1], 12) as tf.Tensor4D;
    const r1 = (wt: tf.Tensor) => {
      const gx = tf.grad((xx: tf.Tensor) =>
        tf.sum(tf.leakyRelu(tf.conv2d(xx as tf.Tensor4D, wt as tf.Tensor4D, 1, 'same'), 0.2)),
      )(x);
      return tf.sum(tf.square(gx));
    };
    const g = tf.grad(r1)(w);
    // Central finite differences on one weight.
    const eps = 1e-2;
    const wv = (await w.data()) as Float32Array;
    const bump = (d: number) => {
      const v = Float32Array.from(wv);
      v[4] += d;
      return r1(tf.tensor4d(v, w.shape)).dataSync()[0];
    };
    const fd = (bump(eps) - bump(-eps)) / (2 * eps);
    const analytic = (await g.data())[4];
    expect(Math.abs(analytic - fd)).toBeLessThan(1e-2 * Math.max(1, Math.abs(fd)));
  });
});

describe('cpu and wasm agree on the classifier', () => {
  it('on logits and on the input gradient of the true-class softmax at batch 8', async () => {
    const n = 8;
    const images = Float32Array.from(normals(createRng(20), n * 1024), (v) => Math.min(1, Math.max(0, 0.5 + 0.3 * v)));
    const labels = Array.from({ length: n }, (_, i) => i % 10);
    const out: Record<string, { logits: Float32Array; grad: Float32Array }> = {};
    for (const backend of BACKENDS) {
      await useBackend(backend);
      const cnn = new SimpleCnn('cnn', DEFAULT_CNN_CONFIG, 21);
      const x = tf.tensor4d(images, [n, 32, 32, 1]);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const logits = cnn.logits(x);
      const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.softmax(cnn.logits(xx as tf.Tensor4D)), onehot)))(x);
      out[backend] = { logits: (await logits.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
      tf.dispose([x, onehot, logits, grad]);
      cnn.dispose();
    }
    // Stated tolerance: 1e-4 relative (float32 summation order differs between backends).
    expect(relativeError(out.wasm.logits, out.cpu.logits)).toBeLessThan(1e-4);
    expect(relativeError(out.wasm.grad, out.cpu.grad)).toBeLessThan(1e-4);
  });
});
