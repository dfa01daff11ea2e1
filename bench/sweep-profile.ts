/**
 * Kernel profile of the gradient sweep (`pTrueGradient`, wasm, tf.profile): per kernel name, time,
 * calls and share, at batch 1, 16 and 64, and the unprofiled wall time of a call. Run with
 *   npx tsx scripts/bundle-node.ts sweep-profile bench/sweep-profile.ts && node dist/sweep-profile.mjs [1,16,64]
 * PROFILE_FUSED=0 profiles with the fused synthesis epilogue off; PROFILE_CONV=winograd with the
 * opt-in Winograd convs; PROFILE_SHAPES=1 lists the big
 * kernels' shapes; PROFILE_AB=batch,rounds times the epilogue on vs off interleaved and compares
 * their results bit for bit (PROFILE_AB_KERNEL=conv3x3: the direct 3x3 conv vs XNNPACK; =winograd:
 * Winograd F(2x2,3x3) vs the direct 3x3 conv, results compared by their largest difference);
 * PROFILE_LOOP=batch,n runs n calls (for node --cpu-prof).
 */
import * as tf from '../src/core/tf.js';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { pTrueGradient, sampleNoiseStreams } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { uleb } from '../src/core/generator/synthesis-epilogue-wasm.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import {
  conv3x3Calls,
  conv3x3WinogradCalls,
  setConv3x3Algorithm,
  setConv3x3Kernel,
} from '../src/core/nn/conv3x3/conv3x3-kernel.js';
import { readFileSync } from 'node:fs';
import { kernelTimes } from './kernel-times.js';

await useBackend('wasm');
const gen = loadGenerator();
const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
const models: AnalysisModels = {
  generator: gen.generator,
  classifier,
  generatorId: gen.manifest.sha256,
  classifierId: manifest.sha256,
};
if (process.env.PROFILE_FUSED === '0') models.generator.setFusedEpilogue(false);
if (process.env.PROFILE_CONV3X3 === '0') setConv3x3Kernel(false);
if (process.env.PROFILE_CONV === 'winograd') setConv3x3Algorithm('winograd');
const batches = (process.argv[2] ?? '1,16,64').split(',').filter(Boolean).map(Number);
for (const batch of batches) {
  const { s, w, labels } = populationStyles(models, { seed: 1, count: 1_000_000, classIndex: null }, 0, batch);
  w.dispose();
  const streams = sampleNoiseStreams(0, batch);
  const once = () => {
    const { probs, grad } = pTrueGradient(models, s, labels, streams);
    tf.dispose([probs, grad]);
  };
  once();
  once();
  const t0 = performance.now();
  const info = await tf.profile(once);
  const wall = performance.now() - t0;
  const { total, byKernel: by } = kernelTimes(info);
  // Unprofiled wall time of one call, median of 5.
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const { probs, grad } = pTrueGradient(models, s, labels, streams);
    await grad.data();
    tf.dispose([probs, grad]);
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  console.log(
    `batch ${batch}: kernels ${info.kernels.length}, kernel ms ${total.toFixed(1)}, ` +
      `profiled wall ${wall.toFixed(1)}, wall median ${ts[2].toFixed(1)} ms`,
  );
  const big = [
    'Conv2D',
    'Identity',
    'unnamed scope',
    'ClipByValue',
    'FaultlinesSynthesisEpilogueGrad',
    'BatchMatMul',
    'Tile',
    'Mean',
    'RealDiv',
    'Multiply',
    'Add',
    'AvgPool',
    'Slice',
  ];
  if (process.env.PROFILE_SHAPES)
    for (const k of info.kernels.filter((k) => big.includes(k.name))) {
      const ms = (k.kernelTimeMs as number).toFixed(3);
      console.log(`    ${k.name} ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)} ${ms}`);
    }
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms))
    console.log(
      `  ${name.padEnd(22)} ${e.ms.toFixed(2).padStart(9)} ms ${String(e.calls).padStart(4)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`,
    );
  s.dispose();
}
// PROFILE_LOOP=batch,n: n more unprofiled calls (for node --cpu-prof).
const loop = process.env.PROFILE_LOOP?.split(',').map(Number);
if (loop !== undefined) {
  const [batch, n] = loop;
  const { s, w, labels } = populationStyles(models, { seed: 1, count: 1_000_000, classIndex: null }, 0, batch);
  w.dispose();
  const streams = sampleNoiseStreams(0, batch);
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const { probs, grad } = pTrueGradient(models, s, labels, streams);
    await grad.data();
    tf.dispose([probs, grad]);
  }
  console.log(`loop batch ${batch}: ${((performance.now() - t) / n).toFixed(1)} ms per call`);
}
// PROFILE_AB=batch,rounds: a kernel on vs off, interleaved (order alternating), same process;
// results compared bit for bit first. PROFILE_AB_KERNEL: "epilogue" (the fused synthesis
// epilogue, default), "conv3x3" (the direct 3x3 conv for Conv2D, against XNNPACK) or "winograd"
// (the opt-in Winograd F(2x2,3x3) against the direct conv; not the same bits, so the largest
// difference relative to the largest value is printed too). Batch 0: the 9-frame forward
// (evaluateShifts along dim 0, images and probabilities read back) instead of the gradient.
const ab = process.env.PROFILE_AB?.split(',').map(Number);
if (ab !== undefined) {
  const [batch, rounds] = ab;
  const kernel = process.env.PROFILE_AB_KERNEL ?? 'epilogue';
  if (kernel !== 'epilogue' && kernel !== 'conv3x3' && kernel !== 'winograd')
    throw new Error(`PROFILE_AB_KERNEL: ${kernel}?`);
  const setKernel = (on: boolean) => {
    if (kernel === 'conv3x3') setConv3x3Kernel(on);
    // Winograd's transformed filters stay cached across the switches, as in a sweep.
    else if (kernel === 'winograd') setConv3x3Algorithm(on ? 'winograd' : 'direct', { keepFilters: true });
    else models.generator.setFusedEpilogue(on);
  };
  const kernelCalls = () => (kernel === 'winograd' ? conv3x3WinogradCalls() : conv3x3Calls());
  const frames = batch === 0;
  const { s, w, labels } = populationStyles(
    models,
    { seed: 1, count: 1_000_000, classIndex: frames ? 3 : null },
    0,
    frames ? 1 : batch,
  );
  w.dispose();
  const streams = sampleNoiseStreams(0, batch);
  const s0 = (await s.data()) as Float32Array;
  const shifts = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  const call = async (): Promise<number[]> => {
    if (frames) {
      const r = await evaluateShifts(models, { s0, classIndex: labels[0], dim: 0, std: 1, direction: 1 }, shifts, true);
      return r.flatMap((e) => [e.pTrue, e.pRunnerUp, ...(e.image ?? [])]);
    }
    const { probs, grad } = pTrueGradient(models, s, labels, streams);
    const out = [...((await probs.data()) as Float32Array), ...((await grad.data()) as Float32Array)];
    tf.dispose([probs, grad]);
    return out;
  };
  const run = async (on: boolean) => {
    setKernel(on);
    const t = performance.now();
    const out = await call();
    return { out, ms: performance.now() - t };
  };
  const a = await run(true);
  const b = await run(false);
  const differing = a.out.filter((v, i) => !Object.is(v, b.out[i])).length;
  const top = b.out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const worst = a.out.reduce((m, v, i) => Math.max(m, Math.abs(v - b.out[i])), 0);
  const before = kernelCalls();
  await run(true);
  const kernelRan = kernel === 'epilogue' || kernelCalls() > before;
  const times: Record<string, number[]> = { on: [], off: [] };
  const load = [readFileSync('/proc/loadavg', 'utf8').trim()];
  for (let r = 0; r < rounds; r++)
    for (const on of r % 2 ? [true, false] : [false, true]) times[on ? 'on' : 'off'].push((await run(on)).ms);
  load.push(readFileSync('/proc/loadavg', 'utf8').trim());
  // Back to the default: the kernel on, the fused epilogue on, the direct algorithm.
  if (kernel === 'winograd') setConv3x3Algorithm('direct');
  else setKernel(true);
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const [on, off] = [med(times.on), med(times.off)];
  const paired = med(times.on.map((t, i) => times.off[i] / t));
  console.log(
    `AB ${kernel} ${frames ? '9-frame forward' : `batch ${batch}`}: differing ${differing}/${a.out.length}` +
      `${kernel === 'winograd' ? ` (max |diff| / max |value| ${(worst / top).toExponential(1)})` : ''}` +
      `${kernelRan ? '' : ' (KERNEL DID NOT RUN)'}; ${rounds} rounds; on ${on.toFixed(1)} ms, off ${off.toFixed(1)} ms, ` +
      `speed-up ${(off / on).toFixed(3)} (paired ${paired.toFixed(3)}); load ${load.join(' -> ')}`,
  );
  s.dispose();
}

/**
 * PROFILE_PEAK=1: the f32x4 ceiling of one core as wasm SIMD exposes it (no FMA in the SIMD
 * proposal tfjs's XNNPACK build uses): 12 independent acc = acc * m + a chains, 96 flops a trip,
 * enough to cover the mul and add latencies and few enough for 16 xmm registers (no spills).
 * Then the same process's Conv2D rate on the sweep's convs (batch 64), in the same minute.
 */
if (process.env.PROFILE_PEAK === '1') {
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const sec = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  const name = (t: string) => vec([...t].map((c) => [c.charCodeAt(0)]));
  const f32 = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const chains = 12;
  // locals: 0 iters (param), 1..16 acc, 17 m, 18 a
  const body: number[] = [...vec([[chains + 2, 0x7b]])];
  for (let i = 1; i <= chains; i++) body.push(...f32(i / 100), ...simd(0x13), 0x21, i);
  body.push(...f32(0.999999), ...simd(0x13), 0x21, chains + 1, ...f32(1e-6), ...simd(0x13), 0x21, chains + 2);
  body.push(0x03, 0x40);
  for (let i = 1; i <= chains; i++)
    body.push(0x20, i, 0x20, chains + 1, ...simd(0xe6), 0x20, chains + 2, ...simd(0xe4), 0x21, i);
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // iters -= 1; br_if iters != 0
  body.push(0x20, 1);
  for (let i = 2; i <= chains; i++) body.push(0x20, i, ...simd(0xe4));
  body.push(...simd(0x1f), 0, 0x0b); // f32x4.extract_lane 0
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...sec(1, vec([[0x60, 1, 0x7f, 1, 0x7d]])),
    ...sec(3, vec([[0]])),
    ...sec(7, vec([[...name('peak'), 0x00, 0]])),
    ...sec(10, vec([[...uleb(body.length), ...body]])),
  ]);
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as {
    peak: (iters: number) => number;
  };
  peak(1000);
  const rates: number[] = [];
  for (let r = 0; r < 7; r++) {
    const iters = 20_000_000;
    const t = performance.now();
    peak(iters);
    rates.push((iters * chains * 8) / ((performance.now() - t) / 1000) / 1e9);
  }
  rates.sort((a, b) => a - b);
  console.log(
    `wasm f32x4 mul+add peak, one thread: median ${rates[3].toFixed(1)}, best ${rates[6].toFixed(1)} GFLOP/s`,
  );
}
