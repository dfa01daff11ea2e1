/**
 * Start styles and edits of single samples, for the live endpoints (render, traversal, corner
 * case) and any other caller: the style of one seeded sample, edits in std units of a dim, and the
 * evenly spaced shifts of a range traversal. The std unit is whatever the caller passes — the live
 * endpoints pass the per-class std of a sweep's ranking sums (dim-start.ts), the unit the cached
 * corner cases use.
 *
 * Pure core code (tfjs-core, no runtime APIs).
 */
import * as tf from '../tf.js';
import type { Generator } from '../generator/generator.js';
import { styleDimName } from '../generator/style-layout.js';
import { latentBatch } from '../random.js';

/** s of sample `seed` of class `classIndex` ([S]): its latent is stream (seed, 0), as in a population of one. */
export function seedStyle(g: Generator, seed: number, classIndex: number): Float32Array {
  const s = tf.tidy(() =>
    g.styles(g.mapping(tf.tensor2d(latentBatch(seed, 0, 1, g.arch.zDim), [1, g.arch.zDim]), [classIndex])),
  );
  const v = Float32Array.from(s.dataSync() as Float32Array);
  s.dispose();
  return v;
}

export interface StyleEdit {
  dim: number;
  /** Shift in std units of the dim. */
  shift?: number;
  /** Absolute value to set. */
  value?: number;
}

export interface AppliedEdit extends StyleEdit {
  /** layer:channel of the dim. */
  name: string;
  /** The std unit of a `shift` edit (null for a `value` edit, which needs none). */
  std: number | null;
}

/**
 * Applies edits to `s` in place, in order. `std(dim)` is the unit of a `shift` edit (called only
 * for those); a dim outside S throws a RangeError naming the edit.
 */
export function applyStyleEdits(
  g: Generator,
  s: Float32Array,
  edits: readonly StyleEdit[],
  std: (dim: number) => number,
): AppliedEdit[] {
  return edits.map((e, i) => {
    if (!Number.isInteger(e.dim) || e.dim < 0 || e.dim >= g.styleSize)
      throw new RangeError(`edits.${i}.dim must be an integer in [0, ${g.styleSize}), got ${e.dim}`);
    if (e.value !== undefined) {
      s[e.dim] = e.value;
      return { ...e, name: styleDimName(g.layout, e.dim), std: null };
    }
    const unit = std(e.dim);
    s[e.dim] += (e.shift ?? 0) * unit;
    return { ...e, name: styleDimName(g.layout, e.dim), std: unit };
  });
}

/** `frames` shifts evenly over [-range, +range] (std units): the frames of a range traversal. */
export function rangeShifts(frames: number, range: number): number[] {
  if (!Number.isInteger(frames) || frames < 2) throw new RangeError(`frames must be an integer >= 2, got ${frames}`);
  if (!(range > 0) || !Number.isFinite(range)) throw new RangeError(`range must be a positive number, got ${range}`);
  return Array.from({ length: frames }, (_, i) => -range + (2 * range * i) / (frames - 1));
}
