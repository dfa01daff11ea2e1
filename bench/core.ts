/**
 * `npm run bench:core` — speed of the method's core per backend: the gradient sweep (synthesis from s
 * + classifier + d p_true / d s) in samples/s at batch 1, 16 and 64, a 9-frame forward batch, and one
 * corner-case search. Medians of repeated runs, all measured in this one process; figures go to
 * bench/results/core.json. Not a test: these machines are shared and noisy.
 *
 * On wasm also the whole sweep at batch 64 in this thread vs over 1 and 2 worker threads
 * (src/node/parallel-sweep.ts), interleaved and repeated, with the load average around it (the
 * machine is shared), and which kernels the gradient spends its time in (tf.profile).
 * `node dist/bench/core.mjs wasm` measures one backend and keeps the other's previous figures.
 */
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import * as tf from '../src/core/tf.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { pTrueGradient } from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { rankDimensions, rankingSweep } from '../src/core/analysis/ranking.js';
import { classAverageStyle, findCornerCases } from '../src/core/analysis/corner-cases.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import { enumOption } from '../src/node/args.js';
import { NODE_BACKENDS, useBackend, type NodeBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { weightsRoot } from '../src/node/weights-fs.js';
import { kernelTimes } from './kernel-times.js';
import { SweepPool, sweepModelSource } from '../src/node/parallel-sweep.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt(fn: () => Promise<void>, repeats: number): Promise<number[]> {
  await fn(); // warm-up (kernel compilation, allocation)
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

const loadAverage = () => os.loadavg().map((x) => Math.round(100 * x) / 100);

/** Linux autogroup scheduling: CPU time is shared fairly between sessions, not between threads. */
function autogroupScheduling(): boolean | null {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch {
    return null;
  }
}

/**
 * CPU-seconds per wall-second that `threads` busy-looping worker threads get right now: what the
 * machine (its other load, its scheduler) lets this process use, measured without tfjs.
 */
async function coresAvailable(threads: number, seconds = 2): Promise<number> {
  const code =
    `const t = Date.now(); let x = 0; while (Date.now() - t < ${seconds * 1000}) ` +
    `x += Math.sqrt(x + 1); require('node:worker_threads').parentPort.postMessage(x);`;
  const c = process.cpuUsage();
  const t = performance.now();
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise((resolve, reject) => new Worker(code, { eval: true }).on('message', resolve).on('error', reject)),
    ),
  );
  const used = process.cpuUsage(c);
  return (used.user + used.system) / 1000 / (performance.now() - t);
}

/**
 * The whole sweep at batch 64 (mapping + styles + gradient + host accumulation): in this thread,
 * and over 1 and 2 worker threads. One round runs each variant once, the order rotating between
 * rounds (interleaved, so a change in the machine's load hits all of them alike); figures are
 * medians over the rounds. Pool start-up (workers, backends, models) is timed separately.
 */
async function benchThreads(backend: NodeBackend, models: AnalysisModels, samples: number, rounds: number) {
  const spec = { seed: 1, count: samples, classIndex: null };
  const source = await sweepModelSource(models);
  const t0 = performance.now();
  const pools = {
    1: await SweepPool.start(source, { threads: 1, backend }),
    2: await SweepPool.start(source, { threads: 2, backend }),
  };
  const startSeconds = (performance.now() - t0) / 1000 / 2;
  const variants: Record<string, () => Promise<unknown>> = {
    inProcess: () => rankingSweep(models, spec, { batchSize: 64 }),
    workers1: () => pools[1].sweep(models, spec, { batchSize: 64 }),
    workers2: () => pools[2].sweep(models, spec, { batchSize: 64 }),
  };
  const names = Object.keys(variants);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const loadBefore = loadAverage();
  // Warm-up: every worker's first batches compile and allocate.
  for (const n of names) await variants[n]();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length];
      const c = process.cpuUsage(); // the whole process: main thread and workers
      const t = performance.now();
      await variants[n]();
      times[n].push((performance.now() - t) / 1000);
      const used = process.cpuUsage(c);
      cpu[n].push((used.user + used.system) / 1e6);
    }
  }
  const loadAfter = loadAverage();
  await Promise.all([pools[1].close(), pools[2].close()]);
  const available = { oneThread: await coresAvailable(1), twoThreads: await coresAvailable(2) };
  const rate = (n: string) => samples / median(times[n]);
  const perCpu = (n: string) => samples / median(cpu[n]);
  const share = (n: string) => median(cpu[n].map((c, i) => c / times[n][i]));
  return {
    batch: 64,
    samplesPerRound: samples,
    rounds,
    samplesPerSecond: { inProcess: rate('inProcess'), workers1: rate('workers1'), workers2: rate('workers2') },
    /** Samples per CPU-second of this process (all threads): the work per sample, whatever share of the machine the process got. */
    samplesPerCpuSecond: { inProcess: perCpu('inProcess'), workers1: perCpu('workers1'), workers2: perCpu('workers2') },
    /** CPU-seconds per wall-second this process got while sweeping (2 = both cores to itself). */
    coresObtained: { inProcess: share('inProcess'), workers1: share('workers1'), workers2: share('workers2') },
    secondsPerRound: times,
    cpuSecondsPerRound: cpu,
    speedup2WorkersVsInProcess: rate('workers2') / rate('inProcess'),
    poolStartSeconds: startSeconds,
    loadAverage: { before: loadBefore, after: loadAfter },
    /** Cores that 1 and 2 busy-looping threads of this process got right after (no tfjs): the ceiling for 2 workers. */
    coresAvailableAfter: available,
  };
}

/** Which kernels one batch-64 gradient (forward + backward) spends its time in. */
async function profileGradient(models: AnalysisModels) {
  const { s, w, labels } = populationStyles(models, { seed: 1, count: 64, classIndex: null }, 0, 64);
  w.dispose();
  const once = () => {
    const { probs, grad } = pTrueGradient(models, s, labels);
    tf.dispose([probs, grad]);
  };
  once(); // warm-up
  const info = await tf.profile(once);
  s.dispose();
  const { total, byKernel } = kernelTimes(info);
  const kernels = [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, e]) => ({
      name,
      ms: Math.round(100 * e.ms) / 100,
      calls: e.calls,
      share: Math.round((1000 * e.ms) / total) / 1000,
    }));
  return { batch: 64, kernelMs: Math.round(100 * total) / 100, kernelCalls: info.kernels.length, kernels };
}

async function benchBackend(backend: NodeBackend, models: AnalysisModels) {
  await useBackend(backend);
  const spec = { seed: 1, count: 1_000_000, classIndex: null };
  const sweep: Record<string, number> = {};
  for (const batch of [1, 16, 64]) {
    const { s, w, labels } = populationStyles(models, spec, 0, batch);
    w.dispose();
    const rounds = batch === 1 ? 32 : batch === 16 ? 4 : 1;
    const times = await timeIt(
      async () => {
        for (let r = 0; r < rounds; r++) {
          const { probs, grad } = pTrueGradient(models, s, labels);
          await grad.data();
          tf.dispose([probs, grad]);
        }
      },
      backend === 'cpu' ? 3 : 7,
    );
    sweep[`batch${batch}`] = (batch * rounds) / median(times);
    s.dispose();
  }
  // The full sweep path (mapping + styles + gradient + host accumulation) at batch 64.
  const n = backend === 'cpu' ? 128 : 512;
  const full = await timeIt(
    async () => void (await rankingSweep(models, { ...spec, count: n }, { batchSize: 64 })),
    backend === 'cpu' ? 1 : 3,
  );
  const sums = await rankingSweep(models, { ...spec, count: 256 });
  const ranking = rankDimensions(sums, models.generator.layout, 3);
  const s0 = classAverageStyle(sums, models.generator.layout, 3);
  const d = ranking.dims[0];
  const frames = await timeIt(
    async () =>
      void (await evaluateShifts(
        models,
        { s0, classIndex: 3, dim: d.index, std: d.std, direction: 1 },
        [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2],
        true,
      )),
    15,
  );
  const corner = await timeIt(
    async () =>
      void (await findCornerCases(models, sums, models.generator.layout, {
        classes: [3],
        perClass: 1,
        maxCandidates: 10,
      })),
    backend === 'cpu' ? 2 : 7,
  );
  const memoryTensors = tf.memory().numTensors;
  const extra =
    backend === 'wasm'
      ? { threads: await benchThreads(backend, models, 512, 7), gradientKernelProfile: await profileGradient(models) }
      : {};
  return {
    date: new Date().toISOString(),
    sweepSamplesPerSecond: sweep,
    fullSweepSamplesPerSecond: n / median(full),
    nineFrameForwardMs: 1000 * median(frames),
    cornerCaseSearchMs: 1000 * median(corner),
    memoryTensors,
    ...extra,
  };
}

// `node dist/bench/core.mjs [cpu,wasm]`: the backends to measure (default: all), as one positional argument.
const { positionals } = parseArgs({ args: process.argv.slice(2), options: {}, allowPositionals: true, strict: true });
if (positionals.length > 1) throw new Error(`one comma-separated list of backends, got ${positionals.join(' ')}`);
const backends: NodeBackend[] = positionals[0]?.split(',').map((b) => enumOption(b, 'backends', NODE_BACKENDS)) ?? [
  ...NODE_BACKENDS,
];
await useBackend(backends[0]); // models are created on an initialised backend
const generatorOnDisk = existsSync(path.join(weightsRoot(), 'generator', 'manifest.json'));
const gen = generatorOnDisk
  ? loadGenerator()
  : { generator: new Generator(DEFAULT_GENERATOR, 1), manifest: { sha256: 'random-init' } };
const { classifier, manifest } = loadBuiltinClassifier('classifier-clean');
const models: AnalysisModels = {
  generator: gen.generator,
  classifier,
  generatorId: gen.manifest.sha256,
  classifierId: manifest.sha256,
};
// Backends not measured in this run keep their previous figures (each carries its own date).
const previous = existsSync('bench/results/core.json')
  ? (JSON.parse(readFileSync('bench/results/core.json', 'utf8')) as {
      date?: string;
      results?: Record<string, Record<string, unknown>>;
    })
  : {};
const results: Record<string, unknown> = {};
for (const [b, r] of Object.entries(previous.results ?? {}))
  if (!backends.includes(b as NodeBackend)) results[b] = { date: previous.date, ...r };
const loadAtStart = loadAverage();
for (const b of backends) {
  process.stderr.write(`bench:core on ${b}...\n`);
  results[b] = await benchBackend(b, models);
  process.stderr.write(`${JSON.stringify(results[b])}\n`);
}
const generatorParams = gen.generator.params.size();
/**
 * Ratios against PyTorch on this same model, measured side by side by `npm run bench:peer`
 * (bench/results/peer.json): quoted from that run with its date and load, never re-derived from
 * this run's absolute figures (another moment on a shared machine).
 */
type PeerTiming = Record<
  string,
  { projectOverPeer?: Record<string, number>; projectSpeedupOverPeer?: Record<string, number> }
>;
const peerRun = existsSync('bench/results/peer.json')
  ? (JSON.parse(readFileSync('bench/results/peer.json', 'utf8')) as {
      date: string;
      machine: { loadAverageAtEnd: number[] };
      timing: PeerTiming | string;
    })
  : null;
const versusPytorch =
  peerRun !== null && typeof peerRun.timing === 'object'
    ? {
        source: 'bench/results/peer.json (npm run bench:peer: same model, interleaved, same cores)',
        date: peerRun.date,
        loadAverageAtEnd: peerRun.machine.loadAverageAtEnd,
        /** Project samples/s over PyTorch samples/s for the gradient sweep: above 1, the project is faster. */
        gradientProjectOverPeer: Object.fromEntries(
          Object.entries(peerRun.timing)
            .filter(([, v]) => v.projectOverPeer !== undefined)
            .map(([k, v]) => [k, v.projectOverPeer]),
        ),
        /** PyTorch ms over project ms for the 9-frame forward: above 1, the project is faster. */
        nineFrameForwardProjectSpeedup: peerRun.timing.nineFrameForward?.projectSpeedupOverPeer,
      }
    : { note: 'no side-by-side PyTorch figures yet: run npm run bench:peer' };
const report = {
  bench: 'core',
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    loadAverage: loadAverage(),
    loadAverageAtStart: loadAtStart,
    autogroupScheduling: autogroupScheduling(),
    note:
      'Shared machine: other work may run (a training run, other sessions); the load averages (1, 5, 15 min) are recorded with the figures. ' +
      'With autogroup scheduling on, the kernel shares CPU fairly between sessions, so while other sessions are busy a second worker thread cannot ' +
      'get this process more CPU time: results.wasm.threads.coresObtained is what it got, coresAvailableAfter ' +
      'what 1 and 2 busy-looping threads (no tfjs) could get right after, samplesPerCpuSecond the work per sample.',
  },
  models: {
    generator: generatorOnDisk ? 'weights/generator' : 'random init of the default architecture (same cost as trained)',
    generatorParameters: generatorParams,
    styleSize: gen.generator.styleSize,
    channels: gen.generator.arch.channels,
    classifier: 'classifier-clean',
    classifierParameters:
      classifier instanceof Object && 'params' in classifier
        ? (classifier as { params: { size(): number } }).params.size()
        : null,
  },
  results,
  versusPytorch,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/core.json', JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
