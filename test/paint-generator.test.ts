/**
 * The paint layer (core/generator/paint.ts) and its fit (paint-fit.ts), issue 15's colour domain:
 * a painted image is the grey generator's ink painted with the colour pair in S (recomputed by hand
 * from the grey generator), the pair drawn from z follows the fitted shares, gradients through the
 * paint layer agree with finite differences, cpu and wasm agree, and the fit finds exactly the
 * palette pairs the coloured data was painted with (the data's own record of them is the truth).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { createRng, latentBatch, normals } from '../src/core/random.js';
import {
  DEFAULT_GENERATOR,
  Generator,
  PAINT_STYLE_DIMS,
  type GeneratorArchitecture,
} from '../src/core/generator/index.js';
import { fitColourPairs, normalQuantile, zEdges } from '../src/core/generator/paint-fit.js';
import { estimateColourPair } from '../src/core/image/colour-pair.js';
import { colourDigits, PALETTE } from '../src/core/data/colour.js';
import { digitImage, selectDigits } from '../src/core/data/digits.js';
import { loadDigits } from '../src/node/mnist.js';
import { centralDifferences } from './finite-differences.js';
import { classAverageStyle } from '../src/core/analysis/dim-start.js';
import { emptySums, styleMoments } from '../src/core/analysis/ranking-sums.js';

const K = 4;
const PAINTED: GeneratorArchitecture = {
  ...DEFAULT_GENERATOR,
  zDim: DEFAULT_GENERATOR.zDim + 1,
  wDim: DEFAULT_GENERATOR.wDim + PAINT_STYLE_DIMS,
  imageChannels: 3,
  paint: { components: K },
};
// Four pairs with unequal shares, inside (0, 1): the image's final clip to [0, 1] has a kink at
// its ends, where a central difference and the gradient rightly disagree.
const COLOURS = [
  [0.9, 0.1, 0.1, 0.05, 0.05, 0.95],
  [0.1, 0.9, 0.1, 0.95, 0.95, 0.95],
  [0.2, 0.3, 0.4, 0.9, 0.8, 0.7],
  [0.95, 0.95, 0.1, 0.05, 0.05, 0.05],
];
const SHARES = [0.1, 0.2, 0.3, 0.4];

/** A painted generator whose ink is a seeded grey generator's (same mapping and synthesis tensors). */
async function paintedPair(seed = 3): Promise<{ grey: Generator; painted: Generator }> {
  const grey = new Generator(DEFAULT_GENERATOR, seed);
  const painted = new Generator(PAINTED, null, false);
  const tensors = new Map(await grey.toHost());
  const wAvg = tensors.get('mapping/w_avg')!.values;
  tensors.set('mapping/w_avg', { shape: [PAINTED.wDim], values: Float32Array.from([...wAvg, 0, 0, 0, 0, 0, 0]) });
  tensors.set('paint/colours', { shape: [K, 6], values: Float32Array.from(COLOURS.flat()) });
  tensors.set('paint/z_edges', { shape: [K - 1], values: zEdges(SHARES) });
  painted.load(tensors, 'painted');
  return { grey, painted };
}

/** The component a standard normal z draws, by the definition (cumulative shares), in float64. */
function componentOf(z: number): number {
  let cum = 0;
  for (let k = 0; k < K - 1; k++) {
    cum += SHARES[k];
    if (z < normalQuantile(cum)) return k;
  }
  return K - 1;
}

describe('paint layer', () => {
  // wasm: the backend the CLI and the edge run (the cpu/wasm test below checks the other); one
  // pair for the tests that do not change backend (building it is most of each test's time).
  let pair: Promise<{ grey: Generator; painted: Generator }>;
  beforeAll(async () => {
    await useBackend('wasm');
    pair = paintedPair();
  });

  it('S is the grey S plus the colour pair, and the image is bg + (fg - bg) * the grey ink', async () => {
    const { grey, painted } = await pair;
    expect(painted.styleSize).toBe(grey.styleSize + 6);
    expect(painted.layout.layers.at(-1)).toMatchObject({ name: 'paint', kind: 'paint', channels: 6, outChannels: 3 });
    const n = 5;
    const z = tf.tensor2d(latentBatch(11, 0, n, PAINTED.zDim), [n, PAINTED.zDim]);
    const classes = [0, 3, 5, 7, 9];
    const s = painted.styles(painted.mapping(z, classes));
    const sHost = (await s.data()) as Float32Array;
    const img = (await painted.synthesis(s).data()) as Float32Array;
    // The grey generator on the same shape latents gives the same 512 styles, hence the ink.
    const zGrey = tf.slice(z, [0, 0], [n, DEFAULT_GENERATOR.zDim]) as tf.Tensor2D;
    const sGrey = (await grey.styles(grey.mapping(zGrey, classes)).data()) as Float32Array;
    const ink = (await grey.synthesis(tf.tensor2d(sGrey, [n, grey.styleSize])).data()) as Float32Array;
    let maxS = 0;
    let maxImg = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < grey.styleSize; j++)
        maxS = Math.max(maxS, Math.abs(sHost[i * 518 + j] - sGrey[i * grey.styleSize + j]));
      const pair = sHost.slice(i * 518 + 512, i * 518 + 518);
      // The pair is one of the components, exactly.
      expect(COLOURS.some((c) => c.every((v, j) => Math.fround(v) === pair[j]))).toBe(true);
      for (let p = 0; p < 1024; p++) {
        for (let ch = 0; ch < 3; ch++) {
          const expected = pair[3 + ch] + (pair[ch] - pair[3 + ch]) * ink[i * 1024 + p];
          maxImg = Math.max(maxImg, Math.abs(img[(i * 1024 + p) * 3 + ch] - expected));
        }
      }
    }
    expect(maxS).toBe(0);
    expect(maxImg).toBeLessThan(1e-6);
  });

  it('draws component k from the last entry of z with the fitted shares, as the definition says', async () => {
    const { painted } = await pair;
    const n = 4000;
    const z = latentBatch(12, 0, n, PAINTED.zDim);
    const w = (await painted.mapping(tf.tensor2d(z, [n, PAINTED.zDim]), new Array(n).fill(1)).data()) as Float32Array;
    const counts = new Array(K).fill(0);
    for (let i = 0; i < n; i++) {
      const zPaint = z[i * PAINTED.zDim + PAINTED.zDim - 1];
      const k = componentOf(zPaint);
      counts[k]++;
      const pair = w.slice(i * PAINTED.wDim + DEFAULT_GENERATOR.wDim, (i + 1) * PAINTED.wDim);
      expect(Array.from(pair)).toEqual(COLOURS[k].map(Math.fround));
    }
    // 4,000 draws: each share within 0.025 (about 3 standard errors).
    counts.forEach((c, k) => expect(Math.abs(c / n - SHARES[k])).toBeLessThan(0.025));
  });

  it('d p / d s through the paint layer agrees with central differences, colour dims included', async () => {
    const { painted } = await pair;
    const z = tf.tensor2d(latentBatch(13, 0, 1, PAINTED.zDim), [1, PAINTED.zDim]);
    const s0 = (await painted.styles(painted.mapping(z, [4])).data()) as Float32Array;
    // A fixed linear read-out of the image (any differentiable scalar would do).
    const readout = tf.tensor4d(normals(createRng(9), 32 * 32 * 3), [1, 32, 32, 3]);
    const f = (s: tf.Tensor) => tf.sum(tf.mul(painted.synthesis(s as tf.Tensor2D, { noiseMode: 'const' }), readout));
    const grad = (await tf
      .grad(f)(tf.tensor2d(s0, [1, 518]))
      .data()) as Float32Array;
    const dims = [3, 200, 511, 512, 514, 515, 517];
    const numeric = centralDifferences(f, s0, dims, 1e-2);
    dims.forEach((d, i) =>
      expect(Math.abs(grad[d] - numeric[i])).toBeLessThan(0.02 * Math.max(1, Math.abs(numeric[i]))),
    );
    // The colour dims matter: moving the foreground's red changes the read-out.
    expect(Math.abs(grad[512])).toBeGreaterThan(0.1);
  });

  it('cpu and wasm render the same painted images and draw the same pairs', async () => {
    const render = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      const { painted } = await paintedPair();
      const z = tf.tensor2d(latentBatch(14, 0, 6, PAINTED.zDim), [6, PAINTED.zDim]);
      const s = painted.styles(painted.mapping(z, [0, 1, 2, 3, 4, 5]));
      return { s: (await s.data()) as Float32Array, img: (await painted.synthesis(s).data()) as Float32Array };
    };
    const cpu = await render('cpu');
    const wasm = await render('wasm');
    await useBackend('wasm');
    for (let i = 0; i < 6; i++)
      expect(wasm.s.slice(i * 518 + 512, (i + 1) * 518)).toEqual(cpu.s.slice(i * 518 + 512, (i + 1) * 518));
    let max = 0;
    cpu.img.forEach((v, i) => (max = Math.max(max, Math.abs(v - wasm.img[i]))));
    expect(max).toBeLessThan(1e-4);
  });

  it('a traversal of a colour dim runs every ink layer once and renders the same bits (sharedStyleDims)', async () => {
    const { painted } = await pair;
    const S = painted.styleSize;
    const n = 5;
    const z = tf.tensor2d(latentBatch(15, 0, 1, PAINTED.zDim), [1, PAINTED.zDim]);
    const s0 = (await painted.styles(painted.mapping(z, [2])).data()) as Float32Array;
    for (const dim of [512, 514, 517]) {
      const host = new Float32Array(n * S);
      for (let i = 0; i < n; i++) {
        host.set(s0, i * S);
        host[i * S + dim] = i / (n - 1);
      }
      const s = tf.tensor2d(host, [n, S]);
      const plain = (await painted.synthesis(s, { noiseMode: 'const' }).data()) as Float32Array;
      let shared: tf.Tensor4D | undefined;
      const profile = await tf.profile(() => {
        shared = painted.synthesis(s, { noiseMode: 'const', sharedStyleDims: dim });
      });
      const got = (await shared!.data()) as Float32Array;
      expect(got.length).toBe(plain.length);
      expect(got.filter((x, i) => !Object.is(x, plain[i])).length, `dim ${dim}`).toBe(0);
      // Every ink layer lies before the colour pair: no convolution runs at the full batch.
      const convs = profile.kernels.filter((k) => k.name === 'Conv2D');
      expect(convs.length).toBeGreaterThan(0);
      expect(convs.filter((k) => k.inputShapes[0]?.[0] === n)).toEqual([]);
      // The frames differ where they should: the traversed colour changes the image.
      expect(plain.subarray(0, plain.length / n)).not.toEqual(plain.subarray(-plain.length / n));
    }
  });

  it("searches start white on black: the class-average style with the paint layer's pair replaced", async () => {
    const { painted } = await pair;
    const S = painted.styleSize;
    const sums = emptySums('test', S, 2, [[0, 4]]);
    sums.count = [2, 2];
    for (let j = 0; j < 2 * S; j++) sums.styleSum[j] = 0.3 + (j % 7) * 0.1;
    const s0 = classAverageStyle(sums, painted.layout, 1);
    const mean = styleMoments(sums, 1).mean;
    expect(Array.from(s0.subarray(0, 512))).toEqual(Array.from(mean.subarray(0, 512), Math.fround));
    expect(Array.from(s0.subarray(512))).toEqual([1, 1, 1, 0, 0, 0]);
    // A grey generator's start is the plain class mean.
    const grey = new Generator(DEFAULT_GENERATOR, 3);
    const greySums = { ...emptySums('test', 512, 2, [[0, 4]]), count: [2, 2] };
    greySums.styleSum = sums.styleSum.slice(0, 1024);
    expect(Array.from(classAverageStyle(greySums, grey.layout, 0))).toEqual(
      Array.from(styleMoments(greySums, 0).mean, Math.fround),
    );
  });

  it('refuses a paint layer on an image that is not RGB', () => {
    expect(() => new Generator({ ...PAINTED, imageChannels: 1 })).toThrow(/3-channel/);
  });
});

describe('fitting the colour pairs', () => {
  it('normalQuantile matches tabulated quantiles', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 8);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 8);
  });

  it('finds exactly the palette pairs the coloured digits were painted with, with their shares', () => {
    const grey = loadDigits('train', 'clean');
    const set = colourDigits(
      selectDigits(
        grey,
        Array.from({ length: 3000 }, (_, i) => i),
      ),
      'independent',
      99,
    );
    const pairs = Array.from({ length: set.count }, (_, i) => estimateColourPair(digitImage(set, i), 32));
    const fit = fitColourPairs(pairs, 0.2, 0);
    // The truth: the distinct (foreground, background) palette pairs recorded by the data.
    const truth = new Map<string, number>();
    for (let i = 0; i < set.count; i++) {
      const key = `${set.foreground[i]},${set.background[i]}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
    }
    expect(fit.weights.length).toBe(truth.size);
    for (let k = 0; k < fit.weights.length; k++) {
      const c = fit.colours.slice(k * 6, k * 6 + 6);
      const fg = PALETTE.findIndex((p) => p.rgb.every((v, j) => Math.abs(v - c[j]) < 1e-6));
      const bg = PALETTE.findIndex((p) => p.rgb.every((v, j) => Math.abs(v - c[3 + j]) < 1e-6));
      expect(fg).toBeGreaterThanOrEqual(0);
      expect(bg).toBeGreaterThanOrEqual(0);
      expect(fit.counts[k]).toBe(truth.get(`${fg},${bg}`));
    }
  });
});
