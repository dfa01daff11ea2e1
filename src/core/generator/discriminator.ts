/**
 * Conditional residual discriminator (training only): fromRGB at full resolution, residual blocks
 * (two 3x3 convs, 2x2 average pooling via reshape/mean, 1x1 skip scaled by sqrt(1/2)) down to 4x4,
 * minibatch standard deviation, a 3x3 conv, an FC layer, and a projection output: the logit is the
 * dot product of the features with the class embedding (one-hot matMul), over sqrt(cmapDim).
 * Inputs are images in the GAN range [-1, 1].
 */
import * as tf from '../tf.js';
import { ParameterSet } from '../nn/params.js';
import { avgPool2 } from '../nn/ops.js';
import { createRng } from '../random.js';
import type { HostTensorMap } from '../weights/codec.js';
import {
  checkDiscriminatorArchitecture,
  DEFAULT_DISCRIMINATOR,
  type DiscriminatorArchitecture,
} from './architecture.js';
import { EqualizedConv, EqualizedFc } from './layers.js';
import { classOneHot, type ClassInput } from './mapping.js';

class DiscriminatorBlock {
  readonly conv0: EqualizedConv;
  readonly conv1: EqualizedConv;
  readonly skip: EqualizedConv;

  constructor(params: ParameterSet, name: string, cin: number, cout: number) {
    this.conv0 = new EqualizedConv(params, `${name}/conv0`, cin, cin, 3);
    this.conv1 = new EqualizedConv(params, `${name}/conv1`, cin, cout, 3);
    this.skip = new EqualizedConv(params, `${name}/skip`, cin, cout, 1, 'linear', false);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.skip.apply(avgPool2(x));
    const h = avgPool2(this.conv1.apply(this.conv0.apply(x)));
    return tf.mul(tf.add(y, h), Math.SQRT1_2) as tf.Tensor4D;
  }
}

/** Appends the minibatch standard deviation (one channel) to x [N,H,W,C]. */
function minibatchStd(x: tf.Tensor4D, groupSize: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const g = Math.min(groupSize, n);
  if (n % g !== 0) throw new RangeError(`batch ${n} is not a multiple of the mbstd group ${g}`);
  const m = n / g;
  const y = tf.reshape(x, [g, m, h, w, c]);
  const centred = tf.sub(y, tf.mean(y, 0, true));
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), 1e-8)); // [m,h,w,c]
  const s = tf.mean(std, [1, 2, 3]); // [m]
  const feat = tf.mul(tf.reshape(s, [1, m, 1, 1, 1]), tf.ones([g, 1, h, w, 1])); // no Tile: no rank-5 gradient
  return tf.concat([x, tf.reshape(feat, [n, h, w, 1])], 3) as tf.Tensor4D;
}

export class Discriminator {
  readonly params: ParameterSet;
  readonly arch: DiscriminatorArchitecture;
  private readonly fromRgb: EqualizedConv;
  private readonly blocks: DiscriminatorBlock[] = [];
  private readonly epilogueConv: EqualizedConv;
  private readonly fc: EqualizedFc;
  private readonly out: EqualizedFc;
  private readonly cmap: EqualizedFc;

  constructor(arch: DiscriminatorArchitecture = DEFAULT_DISCRIMINATOR, seed = 1) {
    this.arch = checkDiscriminatorArchitecture(arch);
    this.params = new ParameterSet(createRng(seed));
    const ch = this.arch.channels;
    this.fromRgb = new EqualizedConv(this.params, 'D/fromrgb', this.arch.imageChannels, ch[0], 1);
    let res = this.arch.resolution;
    for (let i = 0; i < ch.length - 1; i++) {
      this.blocks.push(new DiscriminatorBlock(this.params, `D/b${res}`, ch[i], ch[i + 1]));
      res /= 2;
    }
    const c4 = ch[ch.length - 1];
    const extra = this.arch.mbstdGroup > 0 ? 1 : 0;
    this.epilogueConv = new EqualizedConv(this.params, 'D/b4/conv', c4 + extra, c4, 3);
    this.fc = new EqualizedFc(this.params, 'D/b4/fc', c4 * 16, c4, { activation: 'lrelu' });
    this.out = new EqualizedFc(this.params, 'D/b4/out', c4, this.arch.cmapDim);
    this.cmap = new EqualizedFc(this.params, 'D/cmap', this.arch.numClasses, this.arch.cmapDim);
  }

  trainableVariables(): tf.Variable[] {
    return this.params.list();
  }

  /** images [N,R,R,C] in [-1, 1], classes -> logits [N]. */
  apply(images: tf.Tensor4D, classes: ClassInput): tf.Tensor1D {
    return tf.tidy(() => {
      const n = images.shape[0];
      let x = this.fromRgb.apply(images);
      for (const b of this.blocks) x = b.apply(x);
      if (this.arch.mbstdGroup > 0) x = minibatchStd(x, this.arch.mbstdGroup);
      x = this.epilogueConv.apply(x);
      const f = this.out.apply(this.fc.apply(tf.reshape(x, [n, -1]) as tf.Tensor2D));
      const c = classOneHot(classes, this.arch.numClasses);
      const cm = this.cmap.apply(c);
      return tf.div(tf.sum(tf.mul(f, cm), 1), Math.sqrt(this.arch.cmapDim)) as tf.Tensor1D;
    });
  }

  load(tensors: HostTensorMap, file: string): void {
    this.params.load(tensors, file);
  }

  dispose(): void {
    this.params.dispose();
  }
}
