/**
 * Naming the failure (src/core/analysis/directions.ts): the label rule, and the whole description
 * (render frames along a direction, measure factors, effect sizes with bootstrap intervals, labels,
 * per-classifier p_true, contrastive score, "why it fails") on a stand-in generator whose style dims
 * have known effects on real MNIST digits: dim 0 blurs, dim 1 adds noise, dim 2 moves the digit
 * right, dim 3 thickens its strokes, dim 4 does nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { addGaussianNoise, gaussianBlur } from '../src/core/data/corruption.js';
import { digitImage, IMAGE_SIZE } from '../src/core/data/digits.js';
import { createRng } from '../src/core/random.js';
import type { Generator } from '../src/core/generator/generator.js';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import {
  describeDirections,
  labelDirection,
  whyItFails,
  contrastiveOrder,
  type DirectionPopulation,
  type DirectionSpec,
  type FactorEffect,
} from '../src/core/analysis/directions.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';
import { loadDigits } from '../src/node/mnist.js';

const S = IMAGE_SIZE;
const STYLE = 5;
const COUNT = 24;
let digits: Float32Array[];
let labels: Uint8Array;
let clean: AnalysisModels;
let corrupted: AnalysisModels;

function dilate(img: Float32Array): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++)
          if (y + dy >= 0 && y + dy < S && x + dx >= 0 && x + dx < S) m = Math.max(m, img[(y + dy) * S + x + dx]);
      out[y * S + x] = m;
    }
  }
  return out;
}

/**
 * Row i renders digit noiseStreams[i] (the sample's index, as the real generator gets it) edited by
 * s: blur sigma 0.4 + 0.2 s0, noise std 0.06 s1 (seeded per sample), a shift of round(s2) px right,
 * and a blend toward the dilated digit by min(1, s3 / 4). s4 is ignored.
 */
function standInGenerator(): Generator {
  const render = (s: Float32Array, streams: ArrayLike<number>) => {
    const n = streams.length;
    const out = new Float32Array(n * S * S);
    for (let r = 0; r < n; r++) {
      const v = s.subarray(r * STYLE, (r + 1) * STYLE);
      const base = digits[streams[r]];
      const thick = dilate(base);
      const w = Math.min(1, Math.max(0, v[3] / 4));
      let img: Float32Array = base.map((p, i) => (1 - w) * p + w * thick[i]);
      img = gaussianBlur(img, S, 0.4 + 0.2 * Math.max(0, v[0]));
      const dx = Math.round(v[2]);
      const moved = new Float32Array(S * S);
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) if (x - dx >= 0 && x - dx < S) moved[y * S + x] = img[y * S + x - dx];
      if (v[1] > 0) addGaussianNoise(moved, 0.06 * v[1], createRng(99, streams[r]));
      out.set(moved, r * S * S);
    }
    return out;
  };
  const g = {
    arch: { resolutions: [4, 8, 16, 32], imageChannels: 1 },
    styleSize: STYLE,
    synthesis: (s: tf.Tensor2D, opts: { noiseStreams?: ArrayLike<number> } = {}) => {
      const streams = opts.noiseStreams!;
      return tf.tensor4d(render(s.dataSync() as Float32Array, streams), [streams.length, S, S, 1]);
    },
  };
  return g as unknown as Generator;
}

function population(): DirectionPopulation {
  return { count: COUNT, styleSize: STYLE, labels, styles: new Float32Array(COUNT * STYLE) };
}

const axis = (dim: number): DirectionSpec => {
  const step = new Float32Array(STYLE);
  step[dim] = 1;
  return { id: `dim:${dim}`, classIndex: null, dims: [dim], step };
};

beforeAll(async () => {
  await useBackend('wasm');
  const set = loadDigits('test', 'clean');
  digits = Array.from({ length: COUNT }, (_, i) => digitImage(set, i));
  labels = set.labels.slice(0, COUNT);
  const generator = standInGenerator();
  const a = loadBuiltinClassifier('classifier-clean');
  const b = loadBuiltinClassifier('classifier-corrupted');
  clean = { generator, classifier: a.classifier, generatorId: 'stand-in', classifierId: a.manifest.sha256 };
  corrupted = { generator, classifier: b.classifier, generatorId: 'stand-in', classifierId: b.manifest.sha256 };
});

describe('label rule', () => {
  const e = (factor: FactorEffect['factor'], effect: number, ci = 0.1): FactorEffect => ({
    factor,
    effect,
    ciLow: effect - ci,
    ciHigh: effect + ci,
    start: 1,
    end: 1,
    std: 1,
    relative: false,
  });
  it('names a factor that dominates every other family, counts intensity and contrast as one family', () => {
    expect(labelDirection([e('noise', 1.2), e('sharpness', -0.6)], 0.25, 1.5)).toMatchObject({
      kind: 'dominant',
      text: 'adds noise',
      factor: 'noise',
      margin: 2,
    });
    // contrast moves with intensity by construction: not a rival.
    expect(labelDirection([e('intensity', -0.9), e('contrast', -0.85), e('noise', 0.3)], 0.25, 1.5)).toMatchObject({
      kind: 'dominant',
      text: 'fades strokes',
      margin: 3,
    });
  });
  it('says entangled when two families are close, and no visible change below the minimum or when the interval holds 0', () => {
    expect(labelDirection([e('centroidX', 0.8), e('thickness', -0.7)], 0.25, 1.5)).toMatchObject({
      kind: 'entangled',
      text: 'entangled: moves right + thins strokes',
    });
    expect(labelDirection([e('noise', 0.2)], 0.25, 1.5).kind).toBe('unchanged');
    expect(labelDirection([e('noise', 0.5, 0.6)], 0.25, 1.5).kind).toBe('unchanged');
  });
});

describe('describing directions with known effects on real digits', () => {
  it('labels blur, noise, shift and thickening by the factor planted in each dim, and nothing for an unused dim', async () => {
    const r = await describeDirections(
      [clean, corrupted],
      ['classifier-clean', 'classifier-corrupted'],
      population(),
      [0, 1, 2, 3, 4].map(axis),
      { samples: COUNT, seed: 3 },
    );
    const label = (id: string) => r.directions.find((d) => d.id === id)!.label;
    expect(label('dim:0')).toMatchObject({ kind: 'dominant', text: 'blurs' });
    expect(label('dim:1')).toMatchObject({ kind: 'dominant', text: 'adds noise' });
    expect(label('dim:2')).toMatchObject({ kind: 'dominant', text: 'moves right' });
    expect(label('dim:3').kind).toBe('dominant');
    expect(['thickens strokes', 'adds ink']).toContain(label('dim:3').text);
    expect(label('dim:4').text).toBe('no visible change');
    // The shift is exactly 1 px per std: the centroid's raw change over 4 std is 4 px.
    const x = r.directions[2].effects.find((f) => f.factor === 'centroidX')!;
    expect(x.end - x.start).toBeCloseTo(4, 1);
    for (const d of r.directions) for (const f of d.effects) expect(f.ciLow).toBeLessThanOrEqual(f.ciHigh);
  });

  it('is deterministic, scores the contrastive drop against the reference and counts only flips beyond it', async () => {
    const dirs = [1, 2].map(axis);
    const tensors = tf.memory().numTensors;
    const a = await describeDirections(
      [clean, corrupted],
      ['classifier-clean', 'classifier-corrupted'],
      population(),
      dirs,
      { samples: 16, seed: 5, bootstrap: 50 },
    );
    const b = await describeDirections(
      [clean, corrupted],
      ['classifier-clean', 'classifier-corrupted'],
      population(),
      dirs,
      { samples: 16, seed: 5, bootstrap: 50 },
    );
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(tf.memory().numTensors).toBe(tensors);
    for (const d of a.directions) expect(d.contrastive).toBeCloseTo(d.classifiers[0].drop - d.classifiers[1].drop, 10);
    expect(contrastiveOrder(a)!.map((d) => d.contrastive)).toEqual(
      [...a.directions.map((d) => d.contrastive!)].sort((p, q) => q - p),
    );
    // Noise (std up to 0.24) breaks the clean-trained CNN more than the corruption-trained one.
    const noise = a.directions[0];
    expect(noise.classifiers[0].drop).toBeGreaterThan(noise.classifiers[1].drop);
    // The same classifier as its own reference: nothing is specific to it.
    const self = await describeDirections(
      [clean, clean],
      ['classifier-clean', 'classifier-clean (reference)'],
      population(),
      dirs,
      { samples: 16, seed: 5, bootstrap: 50 },
    );
    for (const d of self.directions) expect(d.contrastive).toBe(0);
    const why = whyItFails(self);
    expect(why[0]).toMatchObject({ counted: 'flips-beyond-reference', flips: 0 });
    expect(why[0].sentence).toMatch(/no decision flips/);
    // Without the reference every flip counts, and the sentence names the top label and its dims.
    const own = whyItFails({
      ...a,
      reference: null,
      classifiers: [a.classifiers[0]],
      directions: a.directions.map((d) => ({ ...d, classifiers: [d.classifiers[0]], contrastive: null })),
    });
    expect(own[0].counted).toBe('flips');
    expect(own[0].flips).toBe(a.directions.reduce((t, d) => t + d.classifiers[0].flipped, 0));
    if (own[0].flips > 0) expect(own[0].sentence).toMatch(/^classifier-clean (fails most|: its)/);
  });

  it('refuses bad options, naming them', async () => {
    await expect(describeDirections([clean], ['c'], population(), [axis(0)], { shifts: [1, 2] })).rejects.toThrow(
      /shifts/,
    );
    await expect(describeDirections([clean], ['c'], population(), [axis(0)], { samples: 1 })).rejects.toThrow(
      /samples/,
    );
    await expect(
      describeDirections([clean], ['c'], population(), [{ ...axis(0), step: new Float32Array(2) }]),
    ).rejects.toThrow(/step has 2 dims/);
  });
});
