/**
 * Supervised training of a SimpleCnn, one batch per step, resumable: the batch of step k follows
 * from (seed, epoch) alone and the state (weights, both Adam optimisers, the step) goes into a
 * checkpoint, so a run stopped at any step and resumed continues exactly as if never stopped.
 *
 * Schedule (the built-in classifiers'): epochs of seeded permutations, Adam 1e-3, then 1e-4 for the
 * last epoch when there is more than one.
 */
import * as tf from '../../core/tf.js';
import type { SimpleCnn } from '../../core/classifier/simple-cnn.js';
import { IMAGE_SIZE, imageLength, type DigitSet } from '../../core/data/digits.js';
import { oneHotFloat } from '../../core/nn/ops.js';
import { createRng, permutation } from '../../core/random.js';
import type { HostTensor, HostTensorMap } from '../../core/weights/codec.js';
import { adamStateTensors, loadAdamState, withPrefix } from './adam-state.js';

export interface ClassifierSchedule {
  epochs: number;
  batch: number;
  /** Seed of the per-epoch data permutations. */
  seed: number;
}

export class ClassifierTrainer {
  /** Completed steps. */
  step = 0;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  private readonly fast = tf.train.adam(1e-3);
  private readonly slow = tf.train.adam(1e-4);
  private readonly names: string[];
  private readonly vars: tf.Variable[];
  private order: { epoch: number; perm: Int32Array } | null = null;
  private readonly x: Float32Array;
  private readonly channels: number;

  constructor(
    readonly model: SimpleCnn,
    readonly data: DigitSet,
    readonly schedule: ClassifierSchedule,
  ) {
    this.channels = data.channels ?? 1;
    const takes = model.config.inputChannels ?? 1;
    if (takes !== this.channels)
      throw new Error(`${model.name} takes ${takes}-channel images but the data have ${this.channels}`);
    this.stepsPerEpoch = Math.floor(data.count / schedule.batch);
    if (this.stepsPerEpoch === 0) throw new Error(`${data.count} images make no batch of ${schedule.batch}`);
    this.totalSteps = schedule.epochs * this.stepsPerEpoch;
    this.names = model.params.names();
    this.vars = model.params.list();
    this.x = new Float32Array(schedule.batch * imageLength(data));
  }

  get epoch(): number {
    return Math.floor(this.step / this.stepsPerEpoch);
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  /** Runs step `this.step` and returns its loss. */
  async trainStep(): Promise<number> {
    const { batch, epochs, seed } = this.schedule;
    const epoch = this.epoch;
    const s = this.step % this.stepsPerEpoch;
    if (this.order === null || this.order.epoch !== epoch)
      this.order = { epoch, perm: permutation(createRng(seed, epoch + 1), this.data.count) };
    const px = imageLength(this.data);
    const y = new Array<number>(batch);
    for (let i = 0; i < batch; i++) {
      const k = this.order.perm[s * batch + i];
      this.x.set(this.data.images.subarray(k * px, (k + 1) * px), i * px);
      y[i] = this.data.labels[k];
    }
    const opt = epoch === epochs - 1 && epochs > 1 ? this.slow : this.fast;
    const loss = tf.tidy(() => {
      const xs = tf.tensor4d(this.x, [batch, IMAGE_SIZE, IMAGE_SIZE, this.channels]);
      const ys = oneHotFloat(y, this.model.numClasses);
      return opt.minimize(
        () => tf.losses.softmaxCrossEntropy(ys, this.model.logits(xs)) as tf.Scalar,
        true,
        this.vars,
      )!;
    });
    const l = (await loss.data())[0];
    loss.dispose();
    this.step++;
    return l;
  }

  /** Weights (`model/...`) and both optimisers' states, as a checkpoint holds them. */
  async stateTensors(): Promise<Array<[string, HostTensor]>> {
    const out: Array<[string, HostTensor]> = [];
    for (const [name, t] of await this.model.params.toHost()) out.push([`model/${name}`, t]);
    await adamStateTensors('adamFast', this.fast, this.names, out);
    await adamStateTensors('adamSlow', this.slow, this.names, out);
    return out;
  }

  /** Restores a state written by stateTensors at `step` (names and shapes checked). */
  async loadState(tensors: HostTensorMap, file: string, step: number): Promise<void> {
    if (!Number.isInteger(step) || step < 0 || step > this.totalSteps)
      throw new Error(`${file}: step ${step} is outside this run's 0..${this.totalSteps}`);
    this.model.params.load(withPrefix(tensors, 'model/'), file);
    await loadAdamState(withPrefix(tensors, 'adamFast/'), this.fast, this.names, file);
    await loadAdamState(withPrefix(tensors, 'adamSlow/'), this.slow, this.names, file);
    this.step = step;
  }

  dispose(): void {
    this.fast.dispose();
    this.slow.dispose();
  }
}
