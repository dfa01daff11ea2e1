/**
 * One StyleGAN2 training iteration (D step, then G step, then EMA), with every random draw derived
 * from (seed, iteration) so a run resumed from a checkpoint continues exactly.
 */
import * as tf from '../../core/tf.js';
import { IMAGE_SIZE, imageLength, type DigitSet } from '../../core/data/digits.js';
import { createRng, normals, permutation } from '../../core/random.js';
import { Generator, isBufferName, toGanRange } from '../../core/generator/generator.js';
import { Discriminator } from '../../core/generator/discriminator.js';
import { discriminatorLoss, generatorLoss, r1Penalty } from '../../core/generator/losses.js';
import type { HostTensor, HostTensorMap } from '../../core/weights/codec.js';
import {
  DEFAULT_DISCRIMINATOR,
  DEFAULT_GENERATOR,
  type DiscriminatorArchitecture,
  type GeneratorArchitecture,
} from '../../core/generator/architecture.js';
import { adamStateTensors, loadAdamState, withPrefix } from './adam-state.js';
import { transferTensors } from './gan-transfer.js';
import { drawChannelOrders, permuteChannels } from './colour-augment.js';

export interface GanHyper {
  batch: number;
  seed: number;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  /** R1 weight gamma (penalty gamma/2 * |grad|^2). */
  r1Gamma: number;
  /** Lazy regularisation: R1 every this many D steps (scaled by the interval). */
  r1Interval: number;
  /** EMA half-life in images. */
  emaKimg: number;
  /** EMA ramp-up: half-life is at most this fraction of the images seen so far. */
  emaRampup: number;
  /**
   * Weight of the mode-seeking term (MSGAN, Mao et al. 2019): the G step pairs the two halves of
   * its batch on the same classes and penalises mean|z1 - z2| / mean|G(z1) - G(z2)|, so that
   * different latents give different images of a class. 0 = off (plain StyleGAN2).
   */
  modeSeeking?: number;
  /**
   * RGB data only: probability that an image D sees (real or fake) has its channels permuted
   * (src/node/training/colour-augment.ts). 0 or absent = off (every run before it).
   */
  augmentColour?: number;
  /**
   * Iterations at the start of a run in which only D trains (G and G_ema stay as they are). For a
   * transfer run (`--init-from`): its D starts from scratch and, trained against a G that already
   * draws the data, pulls that G around before it has learned anything. 0 or absent = off.
   */
  discriminatorWarmUp?: number;
}

export const DEFAULT_HYPER: GanHyper = {
  batch: 32,
  seed: 1,
  lrG: 0.0025,
  lrD: 0.0025,
  beta1: 0,
  beta2: 0.99,
  // gamma 1 and a light mode-seeking term: with gamma 0.1 and no diversity term the first run
  // collapsed within classes (per-pixel std across latents 0.046 at iteration 3,673; real data 0.199),
  // and a weight of 1 swamped the class conditioning (class consistency 35% at iteration 841).
  r1Gamma: 1,
  r1Interval: 16,
  emaKimg: 10,
  emaRampup: 0.05,
  modeSeeking: 0.1,
};

export interface StepLosses {
  /** null in the discriminator's warm-up (no G step). */
  lossG: number | null;
  lossDreal: number;
  lossDfake: number;
  r1: number | null;
}

/** Stream ids of the per-iteration random draws. */
const STREAM = { zD: 0, zG: 1, noiseD: 2, noiseG: 3 } as const;
const DATA_STREAM = 0x40000000;
/** Streams of the colour augmentation's draws: AUGMENT_STREAM + 4 * iteration + (0 real, 1 fake, 2 G). */
const AUGMENT_STREAM = 0x20000000;

export class GanTrainer {
  readonly G: Generator;
  readonly Gema: Generator;
  readonly D: Discriminator;
  readonly optG: tf.AdamOptimizer;
  readonly optD: tf.AdamOptimizer;
  /** Number of completed iterations. */
  iteration = 0;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  private permCache: { epoch: number; perm: Int32Array } | null = null;

  constructor(
    readonly data: DigitSet,
    readonly hyper: GanHyper = DEFAULT_HYPER,
    gArch: GeneratorArchitecture = DEFAULT_GENERATOR,
    dArch: DiscriminatorArchitecture = DEFAULT_DISCRIMINATOR,
  ) {
    const channels = data.channels ?? 1;
    if (gArch.imageChannels !== channels || dArch.imageChannels !== channels)
      throw new Error(
        `the data have ${channels} channel(s) but the generator makes ${gArch.imageChannels} and the discriminator takes ${dArch.imageChannels}`,
      );
    const augment = hyper.augmentColour ?? 0;
    if (!(augment >= 0 && augment < 5 / 6))
      throw new Error(`augmentColour ${augment}: a probability below 5/6 (the identity must stay the likeliest order)`);
    if (augment > 0 && channels !== 3)
      throw new Error(`augmentColour permutes RGB channels: the data have ${channels} channel(s)`);
    this.G = new Generator(gArch, hyper.seed);
    // G's weights are differentiated: cached weight terms would be constants on the tape.
    this.G.setWeightCache(false);
    this.Gema = new Generator(gArch, hyper.seed);
    this.D = new Discriminator(dArch, hyper.seed + 1);
    this.gVars = this.G.trainableVariables();
    this.dVars = this.D.trainableVariables();
    this.optG = tf.train.adam(hyper.lrG, hyper.beta1, hyper.beta2, 1e-8);
    const r = hyper.r1Interval / (hyper.r1Interval + 1); // lazy regularisation correction
    this.optD = tf.train.adam(hyper.lrD * r, hyper.beta1 ** r, hyper.beta2 ** r, 1e-8);
  }

  private rng(it: number, stream: number) {
    return createRng(this.hyper.seed, 4 * it + stream);
  }

  /** Dataset indices of the batch of iteration `it` (epochs of seeded permutations). */
  batchIndices(it: number): Int32Array {
    const b = this.hyper.batch;
    const out = new Int32Array(b);
    for (let j = 0; j < b; j++) {
      const p = it * b + j;
      const epoch = Math.floor(p / this.data.count);
      if (this.permCache === null || this.permCache.epoch !== epoch) {
        this.permCache = { epoch, perm: permutation(createRng(this.hyper.seed, DATA_STREAM + epoch), this.data.count) };
      }
      out[j] = this.permCache.perm[p % this.data.count];
    }
    return out;
  }

  /** Shape [N, H, W, C] of a batch of n real images as the discriminator gets them. */
  realShape(n: number): [number, number, number, number] {
    return [n, IMAGE_SIZE, IMAGE_SIZE, this.data.channels ?? 1];
  }

  /**
   * The real images (in [0, 1], NHWC) and labels of iteration `it`'s batch, exactly what `step`
   * feeds the discriminator (after `toGanRange`), so a grid of them shows what D sees.
   */
  realBatch(it: number): { images: Float32Array; labels: number[] } {
    const px = imageLength(this.data);
    const idx = this.batchIndices(it);
    const images = new Float32Array(idx.length * px);
    const labels: number[] = [];
    idx.forEach((k, j) => {
      images.set(this.data.images.subarray(k * px, (k + 1) * px), j * px);
      labels.push(this.data.labels[k]);
    });
    return { images, labels };
  }

  /**
   * What D sees of a batch: the images with their channels permuted per the colour augmentation of
   * iteration `it` (`part`: 0 reals, 1 fakes of the D step, 2 fakes of the G step); the images
   * themselves when the augmentation is off.
   */
  private dView(images: tf.Tensor4D, it: number, part: 0 | 1 | 2): tf.Tensor4D {
    const p = this.hyper.augmentColour ?? 0;
    if (p === 0) return images;
    const orders = drawChannelOrders(createRng(this.hyper.seed, AUGMENT_STREAM + 4 * it + part), images.shape[0], p);
    return permuteChannels(images, orders);
  }

  /** Runs iteration `this.iteration` and advances it. */
  step(): StepLosses {
    const it = this.iteration;
    const { batch: n, seed: _s, r1Gamma, r1Interval } = this.hyper;
    const { images: realHost, labels } = this.realBatch(it);
    const zDim = this.G.arch.zDim;
    const zD = normals(this.rng(it, STREAM.zD), n * zDim);
    const zG = normals(this.rng(it, STREAM.zG), n * zDim);
    const doR1 = r1Gamma > 0 && it % r1Interval === 0;

    const reals = tf.tidy(() => this.dView(toGanRange(tf.tensor4d(realHost, this.realShape(n))), it, 0));
    // D step: fakes generated without a tape.
    const fakes = tf.tidy(() => {
      const w = this.G.mapping(tf.tensor2d(zD, [n, zDim]), labels);
      this.G.mappingNetwork.updateWAvg(w);
      const img = this.G.synthesisRaw(this.G.styles(w), { noiseMode: 'random', noiseRng: this.rng(it, STREAM.noiseD) });
      return this.dView(img, it, 1);
    });
    let parts: { fake: tf.Scalar; real: tf.Scalar; r1: tf.Scalar | null } | null = null;
    const dCost = this.optD.minimize(
      () => {
        const l = discriminatorLoss(this.D.apply(fakes, labels), this.D.apply(reals, labels));
        let loss = tf.add(l.fake, l.real);
        let r1: tf.Scalar | null = null;
        if (doR1) {
          r1 = r1Penalty(this.D, reals, labels);
          loss = tf.add(loss, tf.mul(r1, (r1Gamma / 2) * r1Interval));
        }
        parts = { fake: tf.keep(l.fake), real: tf.keep(l.real), r1: r1 === null ? null : tf.keep(r1) };
        return loss as tf.Scalar;
      },
      true,
      this.dVars,
    );
    fakes.dispose();
    reals.dispose();
    dCost?.dispose();
    const p = parts as unknown as { fake: tf.Scalar; real: tf.Scalar; r1: tf.Scalar | null };
    const lossDfake = p.fake.dataSync()[0];
    const lossDreal = p.real.dataSync()[0];
    const r1 = p.r1 === null ? null : p.r1.dataSync()[0];
    p.fake.dispose();
    p.real.dispose();
    p.r1?.dispose();

    if (it < (this.hyper.discriminatorWarmUp ?? 0)) {
      this.iteration = it + 1;
      return { lossG: null, lossDreal, lossDfake, r1 };
    }

    // G step.
    const noiseG = this.rng(it, STREAM.noiseG);
    const ms = this.hyper.modeSeeking ?? 0;
    const half = Math.floor(n / 2);
    // Mode seeking pairs sample j with sample j + half: both halves get the same classes.
    const gLabels = ms > 0 ? labels.map((_, j) => labels[j % half]) : labels;
    const gCost = this.optG.minimize(
      () => {
        const z = tf.tensor2d(zG, [n, zDim]);
        const w = this.G.mapping(z, gLabels);
        const img = this.G.synthesisRaw(this.G.styles(w), { noiseMode: 'random', noiseRng: noiseG });
        const adversarial = generatorLoss(this.D.apply(this.dView(img, it, 2), gLabels));
        if (ms === 0) return adversarial;
        const dImg = tf.mean(
          tf.abs(
            tf.sub(tf.slice(img, [0, 0, 0, 0], [half, -1, -1, -1]), tf.slice(img, [half, 0, 0, 0], [half, -1, -1, -1])),
          ),
          [1, 2, 3],
        );
        const dZ = tf.mean(tf.abs(tf.sub(tf.slice(z, [0, 0], [half, -1]), tf.slice(z, [half, 0], [half, -1]))), 1);
        return tf.add(adversarial, tf.mul(tf.mean(tf.div(dZ, tf.add(dImg, 1e-5))), ms)) as tf.Scalar;
      },
      true,
      this.gVars,
    );
    const lossG = gCost!.dataSync()[0];
    gCost!.dispose();

    this.iteration = it + 1;
    this.updateEma();
    return { lossG, lossDreal, lossDfake, r1 };
  }

  /** G_ema <- lerp(G, G_ema, beta) for trained tensors; buffers copied. */
  updateEma(): void {
    const h = this.hyper;
    const nimg = this.iteration * h.batch;
    const emaNimg = Math.min(h.emaKimg * 1000, nimg * h.emaRampup);
    const beta = 0.5 ** (h.batch / Math.max(emaNimg, 1e-8));
    tf.tidy(() => {
      for (const name of this.G.params.names()) {
        const p = this.G.params.get(name);
        const e = this.Gema.params.get(name);
        if (isBufferName(name)) e.assign(p);
        else e.assign(tf.add(p, tf.mul(tf.sub(e, p), beta)));
      }
    });
  }

  /** Everything a checkpoint holds, as named host tensors. */
  async stateTensors(): Promise<Array<[string, HostTensor]>> {
    const out: Array<[string, HostTensor]> = [];
    for (const [name, t] of await this.G.toHost()) out.push([`G/${name}`, t]);
    for (const [name, t] of await this.Gema.toHost()) out.push([`G_ema/${name}`, t]);
    for (const [name, t] of await this.D.params.toHost()) out.push([`D/${name}`, t]);
    await adamStateTensors(
      'optG',
      this.optG,
      this.G.params.names().filter((x) => !isBufferName(x)),
      out,
    );
    await adamStateTensors('optD', this.optD, this.D.params.names(), out);
    return out;
  }

  /** Restores a checkpoint written by stateTensors (shapes checked). */
  async loadState(tensors: HostTensorMap, file: string, iteration: number): Promise<void> {
    const pick = (prefix: string) => withPrefix(tensors, prefix);
    this.G.load(pick('G/'), file);
    this.Gema.load(pick('G_ema/'), file);
    this.D.load(pick('D/'), file);
    await loadAdamState(
      pick('optG/'),
      this.optG,
      this.G.params.names().filter((x) => !isBufferName(x)),
      file,
    );
    await loadAdamState(pick('optD/'), this.optD, this.D.params.names(), file);
    this.iteration = iteration;
  }

  /** Starts G and G_ema from another generator's weights (gan-transfer.ts); D stays as initialised. */
  initGenerator(tensors: HostTensorMap, from: string): void {
    const adapted = transferTensors(tensors, this.G.params.expectedShapes(), from);
    this.G.load(adapted, from);
    this.Gema.load(adapted, from);
  }

  dispose(): void {
    this.G.dispose();
    this.Gema.dispose();
    this.D.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}
