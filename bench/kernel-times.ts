/** Kernel time of one `tf.profile` run, grouped by kernel name (bench:core and bench/sweep-profile.ts). */
import type * as tf from '../src/core/tf.js';

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

/** Total kernel ms and, per kernel name, its ms and call count (kernels without a time count 0 ms). */
export function kernelTimes(info: ProfileInfo): {
  total: number;
  byKernel: Map<string, { ms: number; calls: number }>;
} {
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    byKernel.set(k.name, e);
  }
  return { total, byKernel };
}
