/**
 * Weight-only terms (scaled weights, demodulation sums, flipped filters, transposes) computed once
 * per model instead of on every call, so that inference and the sweep's gradient (d p_true / d s)
 * reuse them. The values are those the per-call code computes (the same ops on the same values),
 * so results are bit-identical.
 *
 * Invalidation: each entry is keyed on its variable's `dataId`. `Variable.assign` (weight loading,
 * an optimiser step, an EMA update) always gives the variable a new dataId, so an entry computed
 * before an assignment is never reused after it: it is recomputed (and the old tensors disposed) on
 * the next use. No version counter has to be bumped by hand.
 *
 * Training: cached terms are constants on the gradient tape, so no gradient reaches the variable
 * through them. A model whose own weights are differentiated (the GAN trainer's G) must switch its
 * cache off (`enabled = false`), which restores the per-call ops exactly.
 */
import * as tf from '../tf.js';

interface Entry {
  dataId: object;
  tensors: tf.Tensor[];
  release: (() => void) | undefined;
}

export class WeightTermsCache {
  private on = true;
  private readonly entries = new Map<tf.Variable, Entry>();

  get enabled(): boolean {
    return this.on;
  }

  /** Switching off disposes every cached term; switching on computes them again on next use. */
  set enabled(value: boolean) {
    if (!value) this.clear();
    this.on = value;
  }

  /**
   * The terms `compute()` returns for variable `v`: computed per call when the cache is off, else
   * once per value of `v` (kept tensors the caller must not dispose). `register` runs once the
   * terms are kept (e.g. to record a flipped filter for the conv gradient); `release` before they
   * are disposed.
   */
  terms<T extends tf.Tensor[]>(v: tf.Variable, compute: () => T, register?: (t: T) => () => void): T {
    if (!this.on) return compute();
    const entry = this.entries.get(v);
    if (entry !== undefined && entry.dataId === v.dataId) return entry.tensors as T;
    if (entry !== undefined) this.drop(v, entry);
    const tensors = tf.tidy(compute);
    for (const t of tensors) tf.keep(t);
    this.entries.set(v, { dataId: v.dataId, tensors, release: register?.(tensors) });
    return tensors;
  }

  /** Number of variables with cached terms (tests). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const [v, e] of [...this.entries]) this.drop(v, e);
  }

  private drop(v: tf.Variable, e: Entry): void {
    e.release?.();
    tf.dispose(e.tensors);
    this.entries.delete(v);
  }
}
