/**
 * Seeded sampling that is identical on every backend and runtime.
 *
 * Latents are drawn in plain JavaScript (never with `tf.randomNormal`, whose results depend on the
 * backend and which treats seed 0 as "no seed") and uploaded afterwards. The generator is
 * xoroshiro128+ from `pure-rand`; normals use the Box-Muller transform on 53-bit uniforms.
 *
 * Every sample has its own stream, derived from (seed, sample index), so sample i gets the same
 * latent whether it is drawn alone, in a batch, or in any shard of a sweep.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export type Rng = ReturnType<typeof xoroshiro128plus>;

/** murmur3's 32-bit finaliser: spreads nearby seeds and indices over the whole state space. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${what} must be an integer in [0, 2^32), got ${seed}`);
  }
}

/**
 * A generator for one named stream of a seed.
 * @example
 * const rng = createRng(42);
 * const z = normals(rng, 64);
 */
export function createRng(seed: number, stream = 0): Rng {
  checkSeed(seed, 'seed');
  checkSeed(stream, 'stream');
  return xoroshiro128plus(fmix32(fmix32(seed | 0) ^ Math.imul(stream + 1, 0x9e3779b1)));
}

/** Uniform in [0, 1). */
export function uniform(rng: Rng): number {
  return uniformFloat64(rng);
}

/** Uniform integer in [min, max] (both included). */
export function uniformInteger(rng: Rng, min: number, max: number): number {
  return uniformInt(rng, min, max);
}

/** `count` standard normal values (Box-Muller on two 53-bit uniforms per pair). */
export function normals(rng: Rng, count: number, out = new Float32Array(count)): Float32Array {
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - uniformFloat64(rng); // in (0, 1]: log is finite
    const u2 = uniformFloat64(rng);
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** The latent of one sample of a seeded population: [dim] normals from stream (seed, index). */
export function sampleLatent(seed: number, index: number, dim: number): Float32Array {
  return normals(createRng(seed, index), dim);
}

/**
 * Latents of samples [start, start + count) of a seeded population, row-major [count, dim].
 * @example
 * const z = tf.tensor2d(latentBatch(7, 0, 16, 64), [16, 64]);
 */
export function latentBatch(seed: number, start: number, count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) out.set(sampleLatent(seed, start + i, dim), i * dim);
  return out;
}

/** Fisher-Yates shuffle of [0, n) driven by `rng`. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
