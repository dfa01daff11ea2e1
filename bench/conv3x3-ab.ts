/**
 * Conv2D alone, direct 3x3 conv kernel (src/core/nn/conv3x3) on vs off (XNNPACK), on the sweep's
 * conv shapes (forward and input-gradient), interleaved in one process, 15 rounds each, medians:
 *   npx tsx scripts/bundle-node.ts conv3x3-ab bench/conv3x3-ab.ts && node dist/conv3x3-ab.mjs [batch]
 * CONV_AB=winograd: Winograd F(2x2,3x3) ("on") against the direct kernel ("off") instead.
 * The whole gradient call's A/B is bench/sweep-profile.ts's PROFILE_AB with PROFILE_AB_KERNEL=conv3x3
 * (or winograd).
 */
import { readFileSync } from 'node:fs';
import * as tf from '../src/core/tf.js';
import { useBackend } from '../src/node/backend.js';
import { setConv3x3Algorithm, setConv3x3Kernel } from '../src/core/nn/conv3x3/conv3x3-kernel.js';

await useBackend('wasm');
const winograd = process.env.CONV_AB === 'winograd';
/** "on": the direct kernel (or Winograd); "off": XNNPACK (or the direct kernel). */
const setOn = (on: boolean) =>
  winograd ? setConv3x3Algorithm(on ? 'winograd' : 'direct', { keepFilters: true }) : setConv3x3Kernel(on);
const n = Number(process.argv[2] ?? 64);
/** [size, cin, cout]: the generator's synthesis convs and their input gradients' new shapes. */
const SHAPES = [
  [4, 64, 64],
  [8, 64, 64],
  [16, 64, 32],
  [16, 32, 32],
  [32, 32, 16],
  [32, 16, 16],
  [16, 32, 64],
  [32, 16, 32],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`load ${load()}`);
let [sumOn, sumOff] = [0, 0];
for (const [h, cin, cout] of SHAPES) {
  const x = tf.randomNormal([n, h, h, cin], 0, 1, 'float32', 1) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, cin, cout], 0, 1, 'float32', 2) as tf.Tensor4D;
  const run = (on: boolean) => {
    setOn(on);
    const t = performance.now();
    const y = tf.conv2d(x, f, 1, 'same');
    const ms = performance.now() - t;
    y.dispose();
    return ms;
  };
  for (let i = 0; i < 3; i++) [run(true), run(false)];
  const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let r = 0; r < 15; r++)
    for (const on of r % 2 ? [true, false] : [false, true]) times[on ? 'on' : 'off'].push(run(on));
  const [on, off] = [median(times.on), median(times.off)];
  sumOn += on;
  sumOff += off;
  console.log(
    `${n} ${h}x${h} ${cin}->${cout}: on ${on.toFixed(2)} ms, off ${off.toFixed(2)} ms, ${(off / on).toFixed(2)}x`,
  );
  tf.dispose([x, f]);
}
setConv3x3Kernel(true);
setConv3x3Algorithm('direct');
console.log(
  `sum: on ${sumOn.toFixed(1)} ms, off ${sumOff.toFixed(1)} ms, ${(sumOff / sumOn).toFixed(2)}x; load ${load()}`,
);
