/**
 * `npm run bench:peer` — the project's sweep against PyTorch on the same model, side by side.
 *
 * bench/peer/model.py is an independent PyTorch port of the project's generator and classifier that
 * loads the committed weights (weights/). First an equality check: the same styles, labels and noise
 * through both implementations (s of z, images, p_true, d p_true / d s); the bench stops when an
 * error is above tolerance, since timing two different functions would mean nothing. Then timing,
 * interleaved: one round runs every variant once (the project on wasm in this thread, the same with
 * its weight-terms caches off — the per-call code path, "before" for those caches — the same with
 * the synthesis layers' fused epilogue off ("before" for the fusion), at batch 16 and 64 also the
 * whole sweep in this thread and over two worker threads (the project on both cores), the gradient and
 * the two-worker sweep again with the opt-in Winograd convs (`analyze --conv winograd`), and PyTorch with
 * 1 and 2 threads as Debian installs it, and tuned), the order rotating between rounds, so a change in
 * the machine's load hits all variants alike. Figures are medians over rounds; the load average is
 * recorded around each section. Results and ratios go to bench/results/peer.json, which bench:core
 * quotes.
 *
 * PyTorch comes from Debian (`apt-get install python3-torch`, run by /usr/bin/python3); the bench
 * says so and exits when it is missing. Nothing in `npm test` needs it.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '../src/core/tf.js';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import {
  analysisNoise,
  pTrueGradient,
  sampleNoiseStreams,
  synthesizeImages,
} from '../src/core/analysis/analysis-models.js';
import { populationStyles } from '../src/core/analysis/population.js';
import { rankingSweep } from '../src/core/analysis/ranking.js';
import { evaluateShifts } from '../src/core/analysis/traversal.js';
import { useBackend } from '../src/node/backend.js';
import { loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { SweepPool, sweepModelSource } from '../src/node/parallel-sweep.js';
import { setConv3x3Algorithm } from '../src/core/nn/conv3x3/conv3x3-kernel.js';
import { weightsRoot } from '../src/node/weights-fs.js';

const PYTHON = '/usr/bin/python3';
const CLASSIFIER = 'classifier-clean';
/** Largest error allowed between the project and the peer, relative to the largest magnitude of the reference tensor. */
const TOLERANCE = 1e-5;
const BATCHES = [1, 16, 64] as const;
/** Gradients per timed call, so that every call runs long enough to time (as bench:core). */
const ROUNDS_PER_CALL: Record<number, number> = { 1: 32, 16: 4, 64: 1 };
/**
 * Batches where the project also runs its whole sweep (`rankingSweep`) in this thread and over two
 * worker threads (`SweepPool`): the project on both cores, against PyTorch with 2 threads. A timed
 * call sweeps 2 x batch x calls samples, so each worker gets as many batches as the main thread's
 * variants compute.
 */
const WORKER_BATCHES = new Set([16, 64]);
const WORKER_THREADS = 2;
/** Untimed rounds before the timed ones. */
const WARM_UP_ROUNDS = 3;
const SHIFTS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
/** The dims the 9-frame forward traverses: one in the first layer, one in the last block. */
const NINE_FRAME_DIMS = [0, 500];
/** 9-frame forwards per timed call (one is ~15-35 ms: too short to time alone on a shared machine). */
const NINE_FRAME_CALLS = 8;
/** Debian's OpenBLAS built with OpenMP; first on the library path it provides the BLAS PyTorch links (libblas.so.3). */
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
/**
 * The reference BLAS that python3-torch pulls in (libblas3). Installing libopenblas0-openmp switches
 * the system's libblas.so.3 to OpenBLAS, so the "as Debian installs it" peers put this first.
 */
const REFERENCE_BLAS = '/usr/lib/x86_64-linux-gnu/blas';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadAverage = () => os.loadavg().map((x) => Math.round(100 * x) / 100);
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

function requireTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  process.stderr.write(
    `bench:peer needs PyTorch for ${PYTHON} (Debian's build). Install it with\n` +
      `  sudo apt-get install -y python3-torch libopenblas0-openmp\n` +
      `(without sudo as root), then run npm run bench:peer again.\n${probe.stderr ?? ''}`,
  );
  process.exit(2);
}

type Json = Record<string, unknown>;

/** One PyTorch process (bench/peer/server.py) answering JSON lines. */
class Peer {
  private readonly pending: Array<{ resolve: (v: Json) => void; reject: (e: Error) => void }> = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  readonly ready: Promise<Json>;

  constructor(
    readonly name: string,
    threads: number,
    env: NodeJS.ProcessEnv,
  ) {
    const script = path.join('bench', 'peer', 'server.py');
    this.child = spawn(PYTHON, [script, weightsRoot(), CLASSIFIER, String(threads)], {
      env: { ...process.env, OMP_NUM_THREADS: String(threads), ...env },
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.ready = new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const next = this.pending.shift();
      if (next === undefined) return;
      const msg = JSON.parse(line) as Json;
      if (typeof msg.error === 'string') next.reject(new Error(`${this.name}: ${msg.error}`));
      else next.resolve(msg);
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.splice(0))
        p.reject(new Error(`${this.name} exited (${code}): ${this.stderr.slice(-2000)}`));
    });
  }

  request(req: Json): Promise<Json> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Largest |a - b| and that divided by the largest |b| (the reference's scale). */
function compare(a: Float32Array, b: Float32Array) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  const relative = scale === 0 ? maxAbs : maxAbs / scale;
  return { maxAbsError: maxAbs, relativeError: relative, scale, pass: relative <= TOLERANCE };
}

/**
 * Per-sample gradient agreement. Within TOLERANCE (relative to the batch's largest |gradient|), or
 * at a kink: where the exact (float64) gradient itself jumps by more than TOLERANCE when s moves by
 * float32 rounding (`kinkJumps`, bench/peer/server.py), two correct float32 implementations may take
 * different sides of a ReLU; there each must lie within that jump of the float64 gradient. At most a
 * quarter of the samples may be excused so, so that a wrong port cannot pass as "kinks".
 */
function compareGradients(ours: Float32Array, theirs: Float32Array, exact: Float32Array, jumps: Float32Array) {
  const n = jumps.length;
  const S = ours.length / n;
  let scale = 0;
  for (const v of exact) scale = Math.max(scale, Math.abs(v));
  const rowError = (a: Float32Array, b: Float32Array, i: number) => {
    let e = 0;
    for (let j = i * S; j < (i + 1) * S; j++) e = Math.max(e, Math.abs(a[j] - b[j]));
    return e / scale;
  };
  const samples = Array.from({ length: n }, (_, i) => {
    const projectVsPeer = rowError(ours, theirs, i);
    const projectVsExact = rowError(ours, exact, i);
    const peerVsExact = rowError(theirs, exact, i);
    const jump = jumps[i] / scale;
    const atKink = projectVsPeer > TOLERANCE && jump > TOLERANCE;
    const pass = projectVsPeer <= TOLERANCE || (atKink && Math.max(projectVsExact, peerVsExact) <= jump + TOLERANCE);
    return { projectVsPeer, projectVsExact, peerVsExact, kinkJump: jump, atKink, pass };
  });
  const kinks = samples.filter((x) => x.atKink).length;
  const worst = (k: 'projectVsPeer' | 'projectVsExact' | 'peerVsExact') => Math.max(...samples.map((x) => x[k]));
  return {
    scale,
    maxRelativeError: {
      projectVsPeer: worst('projectVsPeer'),
      projectVsExact: worst('projectVsExact'),
      peerVsExact: worst('peerVsExact'),
    },
    samplesAtKinks: kinks,
    perSample: samples.map((x) =>
      Object.fromEntries(Object.entries(x).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
    ),
    pass: samples.every((x) => x.pass) && kinks <= n / 4,
  };
}

/** The same samples, noise and labels through the project (wasm) and every peer. */
async function equalityCheck(models: AnalysisModels, peers: Peer[], n: number) {
  const { s, w, z, labels } = populationStyles(models, { seed: 1, count: 1_000_000, classIndex: null }, 0, n);
  w.dispose();
  const streams = sampleNoiseStreams(0, n);
  const noiseSpec = analysisNoise(models);
  if (noiseSpec.mode !== 'per-sample') throw new Error('the check feeds the per-sample noise to the peer');
  const noise = models.generator.randomNoise(n, {
    noiseMode: 'random',
    noiseSeed: noiseSpec.seed,
    noiseStreams: streams,
  });
  const images = synthesizeImages(models, s, streams);
  const { probs, grad } = pTrueGradient(models, s, labels, streams);
  const ours = {
    s: (await s.data()) as Float32Array,
    images: (await images.data()) as Float32Array,
    probs: (await probs.data()) as Float32Array,
    grad: (await grad.data()) as Float32Array,
  };
  tf.dispose([s, images, probs, grad]);
  const request = { cmd: 'check', z: b64(z), labels, s: b64(ours.s), noise: noise!.map(b64) };
  // The float64 reference and its kink probe come from the first peer (they do not depend on threads or BLAS).
  const answers = await Promise.all(peers.map((p, i) => p.request({ ...request, reference: i === 0 })));
  const exact = fromB64(answers[0].grad64 as string);
  const jumps = fromB64(answers[0].kinkJumps as string);
  const k = models.classifier.numClasses;
  const pTrue = (p: Float32Array) => Float32Array.from(labels, (c, i) => p[i * k + c]);
  return Object.fromEntries(
    peers.map((peer, i) => {
      const theirs = answers[i];
      const result = {
        samples: n,
        stylesOfZ: compare(fromB64(theirs.s as string), ours.s),
        images: compare(fromB64(theirs.images as string), ours.images),
        pTrue: compare(pTrue(fromB64(theirs.probs as string)), pTrue(ours.probs)),
        gradient: compareGradients(ours.grad, fromB64(theirs.grad as string), exact, jumps),
      };
      const pass = Object.values(result).every((r) => typeof r === 'number' || r.pass);
      return [peer.name, { ...result, tolerance: TOLERANCE, pass }];
    }),
  );
}

/**
 * The weight-terms caches and the fused synthesis epilogue claim bit-identical results: the same
 * samples' s, p and d p_true / d s from the project's models and from a copy with one of them off.
 */
async function bitIdentityCheck(cached: AnalysisModels, plain: AnalysisModels, n: number) {
  const { s, w, labels } = populationStyles(cached, { seed: 1, count: 1_000_000, classIndex: null }, 0, n);
  const sPlain = populationStyles(plain, { seed: 1, count: 1_000_000, classIndex: null }, 0, n);
  const streams = sampleNoiseStreams(0, n);
  const read = async (m: AnalysisModels, styles: tf.Tensor2D) => {
    const { probs, grad } = pTrueGradient(m, styles, labels, streams);
    const out = [...((await probs.data()) as Float32Array), ...((await grad.data()) as Float32Array)];
    tf.dispose([probs, grad]);
    return [...((await styles.data()) as Float32Array), ...out];
  };
  const a = await read(cached, s);
  const b = await read(plain, sPlain.s);
  tf.dispose([s, w, sPlain.s, sPlain.w]);
  const differing = a.filter((v, i) => !Object.is(v, b[i])).length;
  return { samples: n, valuesCompared: a.length, differing, bitIdentical: differing === 0 };
}

/**
 * How far the opt-in Winograd convs move the gradient sweep's outputs (p and d p_true / d s on the
 * check samples) from the default direct convs: the largest difference over the largest value.
 */
async function winogradCheck(m: AnalysisModels, n: number) {
  const { s, w, labels } = populationStyles(m, { seed: 1, count: 1_000_000, classIndex: null }, 0, n);
  const streams = sampleNoiseStreams(0, n);
  const read = async () => {
    const { probs, grad } = pTrueGradient(m, s, labels, streams);
    const out = { probs: (await probs.data()) as Float32Array, grad: (await grad.data()) as Float32Array };
    tf.dispose([probs, grad]);
    return out;
  };
  const direct = await read();
  const winograd = await withWinograd(read);
  tf.dispose([s, w]);
  const rel = (a: Float32Array, b: Float32Array) => {
    const top = b.reduce((t, v) => Math.max(t, Math.abs(v)), 0);
    return a.reduce((t, v, i) => Math.max(t, Math.abs(v - b[i])), 0) / top;
  };
  return {
    samples: n,
    probsMaxRelativeDifference: round(rel(winograd.probs, direct.probs)),
    gradientMaxRelativeDifference: round(rel(winograd.grad, direct.grad)),
  };
}

/** `f` with this thread's 3x3 convs on Winograd, the transformed filters kept for the next call. */
async function withWinograd<T>(f: () => Promise<T>): Promise<T> {
  setConv3x3Algorithm('winograd');
  try {
    return await f();
  } finally {
    setConv3x3Algorithm('direct', { keepFilters: true });
  }
}

interface Variant {
  name: string;
  run: () => Promise<void>;
}

/** Every variant once per round, order rotating; seconds per call, per variant. */
async function interleaved(variants: Variant[], rounds: number) {
  // Warm-up (kernels, allocations): three rounds, since the wasm variants' batch-64 calls kept getting
  // faster over the first rounds after a single warm-up call (0.67 -> 0.34 s in one quiet run).
  for (let r = 0; r < WARM_UP_ROUNDS; r++) for (const v of variants) await v.run();
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length];
      const t = performance.now();
      await v.run();
      times[v.name].push((performance.now() - t) / 1000);
    }
  }
  return times;
}

/** A rate over the faster of Debian's PyTorch with 1 and 2 threads (those peers that ran). */
function bestOverDebian(rates: Record<string, number>, project: string) {
  const debianRates = ['torchDebian1Thread', 'torchDebian2Threads'].map((k) => rates[k]).filter((r) => r !== undefined);
  return debianRates.length === 0 ? null : round(rates[project] / Math.max(...debianRates));
}

/** Ratios project / peer of a rate (higher is better for the project). */
function ratios(rates: Record<string, number>, project: string, peers: Peer[]) {
  return Object.fromEntries(peers.map((p) => [p.name, round(rates[project] / rates[p.name])]));
}

requireTorch();
await useBackend('wasm');
const gen = loadGenerator();
const { classifier, manifest } = loadBuiltinClassifier(CLASSIFIER);
const models: AnalysisModels = {
  generator: gen.generator,
  classifier,
  generatorId: gen.manifest.sha256,
  classifierId: manifest.sha256,
};
/**
 * The same weights with every weight-terms cache off (nn/weight-terms.ts): scaled weights,
 * demodulation sums, flipped filters and transposes computed in every call, as before the caches;
 * a second copy, so that neither variant's timing includes switching the caches.
 */
const uncachedClassifier = loadBuiltinClassifier(CLASSIFIER).classifier;
const uncached: AnalysisModels = { ...models, generator: loadGenerator().generator, classifier: uncachedClassifier };
uncached.generator.setWeightCache(false);
uncachedClassifier.setWeightCache(false);
/**
 * The same weights with the synthesis layers' fused epilogue off (generator/synthesis-epilogue.ts):
 * the stock elementwise kernels, caches on — "before" for the fusion, in the same rounds.
 */
const unfused: AnalysisModels = { ...models, generator: loadGenerator().generator };
unfused.generator.setFusedEpilogue(false);

const tuned = {
  MALLOC_MMAP_THRESHOLD_: String(1 << 30),
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  MALLOC_TOP_PAD_: String(64 << 20),
  ...(existsSync(OPENBLAS_OPENMP) ? { LD_LIBRARY_PATH: OPENBLAS_OPENMP } : {}),
};
const debian = existsSync(REFERENCE_BLAS) ? { LD_LIBRARY_PATH: REFERENCE_BLAS } : {};
const variants: Array<[string, number, NodeJS.ProcessEnv]> = [
  ['torchDebian1Thread', 1, debian],
  ['torchDebian2Threads', 2, debian],
  ['torchTuned1Thread', 1, tuned],
  ['torchTuned2Threads', 2, tuned],
];
// PEER_ONLY=name,name runs a subset (on a loaded machine the 2-thread peers take most of the time).
const only = process.env.PEER_ONLY?.split(',');
const peers = variants
  .filter(([name]) => only === undefined || only.includes(name))
  .map(([name, threads, env]) => new Peer(name, threads, env));
await Promise.all(peers.map((p) => p.ready));
const peerInfo = Object.fromEntries(
  await Promise.all(peers.map(async (p) => [p.name, await p.request({ cmd: 'info' })])),
);

process.stderr.write('bench:peer: equality check...\n');
const checkSamples = Number(process.env.PEER_CHECK_SAMPLES ?? 32);
const check = await equalityCheck(models, peers, checkSamples);
const cacheCheck = await bitIdentityCheck(models, uncached, checkSamples);
const fusionCheck = await bitIdentityCheck(models, unfused, checkSamples);
const winoCheck = await winogradCheck(models, checkSamples);
process.stderr.write(`winograd: ${JSON.stringify(winoCheck)}\n`);
const checkPass = Object.values(check).every((c) => c.pass) && cacheCheck.bitIdentical && fusionCheck.bitIdentical;
process.stderr.write(`weight-terms caches: ${JSON.stringify(cacheCheck)}\n`);
process.stderr.write(`fused epilogue: ${JSON.stringify(fusionCheck)}\n`);
for (const [name, c] of Object.entries(check))
  process.stderr.write(
    `${name}: ${c.pass ? 'equal' : 'DIFFERENT'}; max errors: s ${round(c.stylesOfZ.relativeError)}, images ${round(c.images.maxAbsError)}, ` +
      `p_true ${round(c.pTrue.maxAbsError)}, gradient ${JSON.stringify(c.gradient.maxRelativeError)} (${c.gradient.samplesAtKinks} samples at kinks)\n`,
  );

const PROJECT = 'projectWasmMainThread';
const UNCACHED = 'projectWasmMainThreadUncached';
const UNFUSED = 'projectWasmMainThreadUnfused';
const SWEEP = 'projectSweepMainThread';
const WORKERS = 'projectSweepWorkers2';
const PROJECT_WINO = 'projectWasmMainThreadWinograd';
const WORKERS_WINO = 'projectSweepWorkers2Winograd';
const timing: Record<string, unknown> = {};
let pool: SweepPool | undefined;
let winoPool: SweepPool | undefined;
if (checkPass) {
  const source = await sweepModelSource(models);
  pool = await SweepPool.start(source, { threads: WORKER_THREADS, backend: 'wasm' });
  winoPool = await SweepPool.start(source, { threads: WORKER_THREADS, backend: 'wasm', conv: 'winograd' });
  const rounds = Number(process.env.PEER_ROUNDS ?? 7);
  for (const batch of BATCHES) {
    const { s, w, labels } = populationStyles(models, { seed: 1, count: 1_000_000, classIndex: null }, 0, batch);
    w.dispose();
    const streams = sampleNoiseStreams(0, batch);
    const calls = ROUNDS_PER_CALL[batch];
    const key = `grad${batch}`;
    const sHost = (await s.data()) as Float32Array;
    await Promise.all(peers.map((p) => p.request({ cmd: 'setup', key, s: b64(sHost), labels })));
    const loadBefore = loadAverage();
    const sweep = (m: AnalysisModels) => async () => {
      for (let c = 0; c < calls; c++) {
        const { probs, grad } = pTrueGradient(m, s, labels, streams);
        await grad.data();
        tf.dispose([probs, grad]);
      }
    };
    // The whole sweep (mapping, styles, noise, gradient, host sums) of 2 x batch x calls samples.
    const spec = { seed: 1, count: WORKER_THREADS * batch * calls, classIndex: null };
    const workers = WORKER_BATCHES.has(batch) ? pool : undefined;
    const winoWorkers = winoPool;
    const sweepVariants =
      workers && winoWorkers
        ? [
            { name: SWEEP, run: async () => void (await rankingSweep(models, spec, { batchSize: batch })) },
            { name: WORKERS, run: async () => void (await workers.sweep(models, spec, { batchSize: batch })) },
            { name: WORKERS_WINO, run: async () => void (await winoWorkers.sweep(models, spec, { batchSize: batch })) },
          ]
        : [];
    const times = await interleaved(
      [
        { name: PROJECT, run: sweep(models) },
        { name: UNCACHED, run: sweep(uncached) },
        { name: UNFUSED, run: sweep(unfused) },
        { name: PROJECT_WINO, run: () => withWinograd(sweep(models)) },
        ...sweepVariants,
        ...peers.map((p) => ({
          name: p.name,
          run: async () => void (await p.request({ cmd: 'grad', key, rounds: calls })),
        })),
      ],
      rounds,
    );
    s.dispose();
    const samplesPerCall = (k: string) => ([SWEEP, WORKERS, WORKERS_WINO].includes(k) ? spec.count : batch * calls);
    const rates = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, samplesPerCall(k) / median(t)]));
    const workerFigures = workers
      ? {
          /** The whole sweep on two worker threads over PyTorch: the same two cores against its 2-thread peers. */
          workersProjectOverPeer: ratios(rates, WORKERS, peers),
          /** The same with the opt-in Winograd convs. */
          winogradWorkersProjectOverPeer: ratios(rates, WORKERS_WINO, peers),
          /**
           * The issue's floor read on both cores: the project's faster sweep on two worker threads (direct
           * convs, bit-identical; Winograd, opt-in) over the faster of Debian's PyTorch with 1 and 2 threads.
           */
          bothCoresOverDebianBest: bestOverDebian(rates, WORKERS),
          winogradBothCoresOverDebianBest: bestOverDebian(rates, WORKERS_WINO),
          /** Two worker threads over the same sweep in this thread. */
          workerSpeedup: round(rates[WORKERS] / rates[SWEEP]),
          /** The whole sweep in this thread over pTrueGradient alone: what mapping, noise and the sums cost. */
          sweepOverGradient: round(rates[SWEEP] / rates[PROJECT]),
          sweepSamplesPerCall: spec.count,
        }
      : {};
    timing[`gradientBatch${batch}`] = {
      samplesPerCall: batch * calls,
      rounds,
      samplesPerSecond: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, round(v)])),
      projectOverPeer: ratios(rates, PROJECT, peers),
      uncachedProjectOverPeer: ratios(rates, UNCACHED, peers),
      weightCacheSpeedup: round(rates[PROJECT] / rates[UNCACHED]),
      fusedEpilogueSpeedup: round(rates[PROJECT] / rates[UNFUSED]),
      /** This thread with the opt-in Winograd convs over PyTorch, and over the default direct convs. */
      winogradProjectOverPeer: ratios(rates, PROJECT_WINO, peers),
      winogradSpeedup: round(rates[PROJECT_WINO] / rates[PROJECT]),
      unfusedProjectOverPeer: ratios(rates, UNFUSED, peers),
      ...workerFigures,
      secondsPerCall: times,
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
    process.stderr.write(`batch ${batch}: ${JSON.stringify(timing[`gradientBatch${batch}`])}\n`);
  }

  // 9-frame forward (render + classify, images and probabilities read back), as bench:core times it,
  // along a dim of the first layer (0: every layer runs at the full batch) and one of the last
  // block (500: the layers before it run once, SynthesisOptions.sharedStyleDims; PyTorch runs all).
  const { s, w, labels } = populationStyles(models, { seed: 1, count: 1_000_000, classIndex: 3 }, 0, 1);
  w.dispose();
  const s0 = (await s.data()) as Float32Array;
  s.dispose();
  for (const dim of NINE_FRAME_DIMS) {
    const key = `frames-${dim}`;
    const framesHost = new Float32Array(SHIFTS.length * s0.length);
    SHIFTS.forEach((shift, i) => {
      framesHost.set(s0, i * s0.length);
      framesHost[i * s0.length + dim] += shift;
    });
    await Promise.all(
      peers.map((p) => p.request({ cmd: 'setup', key, s: b64(framesHost), labels: SHIFTS.map(() => labels[0]) })),
    );
    const loadBefore = loadAverage();
    const frames = (m: AnalysisModels) => async () => {
      for (let c = 0; c < NINE_FRAME_CALLS; c++)
        await evaluateShifts(m, { s0, classIndex: labels[0], dim, std: 1, direction: 1 }, SHIFTS, true);
    };
    const times = await interleaved(
      [
        { name: PROJECT, run: frames(models) },
        { name: UNCACHED, run: frames(uncached) },
        { name: UNFUSED, run: frames(unfused) },
        ...peers.map((p) => ({
          name: p.name,
          run: async () => void (await p.request({ cmd: 'forward', key, rounds: NINE_FRAME_CALLS })),
        })),
      ],
      15,
    );
    const perCall = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, t.map((x) => x / NINE_FRAME_CALLS)]));
    const ms = Object.fromEntries(Object.entries(perCall).map(([k, t]) => [k, 1000 * median(t)]));
    timing[dim === 0 ? 'nineFrameForward' : `nineFrameForwardDim${dim}`] = {
      dim,
      callsPerRound: NINE_FRAME_CALLS,
      medianMs: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v)])),
      /** Peer time over project time: above 1, the project is faster. */
      projectSpeedupOverPeer: Object.fromEntries(peers.map((p) => [p.name, round(ms[p.name] / ms[PROJECT])])),
      uncachedProjectSpeedupOverPeer: Object.fromEntries(peers.map((p) => [p.name, round(ms[p.name] / ms[UNCACHED])])),
      weightCacheSpeedup: round(ms[UNCACHED] / ms[PROJECT]),
      fusedEpilogueSpeedup: round(ms[UNFUSED] / ms[PROJECT]),
      secondsPerCall: perCall,
      loadAverage: { before: loadBefore, after: loadAverage() },
    };
  }
}
for (const p of peers) p.close();
await pool?.close();
await winoPool?.close();

const report = {
  bench: 'peer',
  date: new Date().toISOString(),
  command: 'npm run bench:peer',
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    loadAverageAtEnd: loadAverage(),
    note:
      'Shared machine: variants run interleaved (one call each per round, order rotating), so ' +
      'load changes hit all alike; compare ratios within this file, not absolute figures across runs.',
  },
  models: { generator: 'weights/generator', classifier: `weights/${CLASSIFIER}`, styleSize: gen.generator.styleSize },
  project: {
    backend: 'wasm',
    thread: 'main',
    code: 'pTrueGradient (sampleNoiseStreams noise), evaluateShifts',
    uncached: `${UNCACHED}: the same code and weights with the generator's and classifier's weight-terms caches off`,
    unfused: `${UNFUSED}: the same with the synthesis layers' fused epilogue off (stock elementwise kernels)`,
    winograd:
      `${PROJECT_WINO} / ${WORKERS_WINO}: the gradient in this thread / the two-worker sweep with the opt-in ` +
      'Winograd F(2x2,3x3) convs (analyze --conv winograd): not bit-identical, winogradCheck says by how much',
    workers:
      `${SWEEP} / ${WORKERS} (batches ${[...WORKER_BATCHES].join(', ')}): the whole sweep (rankingSweep: mapping, ` +
      `styles, noise, gradient, host sums) of ${WORKER_THREADS} x batch x calls samples, in this thread / over ` +
      `${WORKER_THREADS} worker threads (SweepPool, one wasm backend each)`,
  },
  peers: {
    code: 'bench/peer/model.py (PyTorch, NCHW, autograd); noise drawn with torch.randn per call',
    debian,
    tuned,
    info: peerInfo,
  },
  check,
  weightCacheCheck: cacheCheck,
  fusedEpilogueCheck: fusionCheck,
  winogradCheck: winoCheck,
  timing: checkPass ? timing : 'not timed: the equality check failed',
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/peer.json', JSON.stringify(report, null, 2) + '\n');
process.stdout.write(JSON.stringify({ check: checkPass, timing }, null, 2) + '\n');
if (!checkPass) {
  process.stderr.write(`bench:peer: the PyTorch port differs from the project above tolerance ${TOLERANCE}\n`);
  process.exit(1);
}
