/**
 * The gradient sweep over worker threads (Node). tfjs-backend-wasm runs single-threaded in Node (its
 * threaded build starts its pthreads from blob: URLs), so the way to use more cores is more
 * backends: every worker thread initialises its own backend and builds its own copy of the models
 * from the same tensors, and computes whole batches of the sweep (`sweepBatch`).
 *
 * Exactness: the batches are the same as the in-process sweep's ([start + k*batch, ...)), each
 * batch's values depend only on (models, spec, batch) — the same wasm binary, the same kernels, the
 * same inputs — and the main thread accumulates them through the core's sweep driver (`driveSweep`,
 * one lane per worker) in sample order, whatever order they arrive in. The sums are therefore bit-identical to `rankingSweep`'s,
 * and `onBatch` sees the same batches in the same order (the population gets every sample).
 *
 * Batches are handed out one at a time to whichever worker is free, so a worker slowed down by
 * other processes on the machine simply computes fewer of them.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SimpleCnn, type SimpleCnnConfig } from '../core/classifier/simple-cnn.js';
import type { GeneratorArchitecture } from '../core/generator/architecture.js';
import {
  analysisNoise,
  type AnalysisModels,
  type AnalysisNoise,
  type StyleEvaluation,
} from '../core/analysis/analysis-models.js';
import type { PopulationSpec } from '../core/analysis/population.js';
import {
  driveSweep,
  sweepPlan,
  type RankingSums,
  type RankingSweepFn,
  type RankingSweepOptions,
  type SweepBatch,
} from '../core/analysis/ranking.js';
import type { HostTensor } from '../core/weights/codec.js';
import { canonicalJson } from '../core/hash.js';
import type { NodeBackend } from './backend.js';
import { conv3x3Algorithm, type Conv3x3Algorithm } from '../core/nn/conv3x3/conv3x3-kernel.js';

/** File name of the bundled worker entry (src/node/sweep-worker.ts), beside dist/cli.mjs. */
export const SWEEP_WORKER_BUNDLE = 'sweep-worker.mjs';

/** How a worker rebuilds the classifier: from its tensors, or from a user's TF.js model folder. */
type SweepClassifierSource =
  | { kind: 'simple-cnn'; name: string; config: SimpleCnnConfig; tensors: Array<[string, HostTensor]> }
  | { kind: 'tfjs-dir'; dir: string; adapter: string };

/** Everything a worker needs to rebuild the analysed models exactly. */
export interface SweepModelSource {
  generator: { arch: GeneratorArchitecture; tensors: Array<[string, HostTensor]> };
  classifier: SweepClassifierSource;
  generatorId: string;
  classifierId: string;
  /** The models' noise (resolved): every worker renders with it. */
  noise: AnalysisNoise;
}

/**
 * The source of `models` for the workers: the generator's and a built-in CNN's tensors as they are
 * now (a loaded or a freshly initialised model alike); a user's TF.js classifier by its folder and
 * adapter file (`userClassifier`), which each worker loads and checks itself.
 */
export async function sweepModelSource(
  models: AnalysisModels,
  userClassifier?: { dir: string; adapter: string },
): Promise<SweepModelSource> {
  let classifier: SweepClassifierSource;
  if (models.classifier instanceof SimpleCnn) {
    classifier = {
      kind: 'simple-cnn',
      name: models.classifier.name,
      config: models.classifier.config,
      tensors: await models.classifier.params.toHost(),
    };
  } else if (userClassifier !== undefined) {
    classifier = { kind: 'tfjs-dir', dir: userClassifier.dir, adapter: userClassifier.adapter };
  } else {
    throw new Error(
      `classifier "${models.classifier.name}" cannot be rebuilt in a worker thread (neither a SimpleCnn nor a TF.js model folder)`,
    );
  }
  return {
    generator: { arch: models.generator.arch, tensors: await models.generator.toHost() },
    classifier,
    generatorId: models.generatorId,
    classifierId: models.classifierId,
    noise: analysisNoise(models),
  };
}

/** Cores this process may use (os.availableParallelism). */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * The bundled worker: `dist/sweep-worker.mjs`, found beside the running bundle (dist/cli.mjs) or one
 * folder up (dist/bench/*.mjs).
 */
function defaultWorkerFile(): string {
  for (const rel of [`./${SWEEP_WORKER_BUNDLE}`, `../${SWEEP_WORKER_BUNDLE}`]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error(
    `the sweep worker bundle (${SWEEP_WORKER_BUNDLE}) is not beside ${fileURLToPath(import.meta.url)}: run \`npm run build\``,
  );
}

/** Messages between the pool and its workers. */
export type ToWorker = { type: 'batch'; id: number; spec: PopulationSpec; start: number; n: number };
export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'batch';
      id: number;
      start: number;
      labels: number[];
      styles: Float32Array;
      grads: Float32Array;
      pTrue: Float32Array;
      predicted: Int32Array;
      runnerUp: Int32Array;
    }
  | { type: 'error'; id: number | null; message: string };

export interface WorkerInit {
  backend: NodeBackend;
  /** The 3x3 conv algorithm every worker sets (src/core/nn/conv3x3/conv3x3-kernel.ts). */
  conv: Conv3x3Algorithm;
  source: SweepModelSource;
}

/** One worker thread and its single outstanding request. */
class SweepWorker {
  private pending: { id: number; resolve: (b: SweepBatch) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private nextId = 0;
  readonly ready: Promise<void>;

  constructor(
    readonly worker: Worker,
    readonly index: number,
  ) {
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      failReady(e);
      const p = this.pending;
      this.pending = null;
      p?.reject(e);
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') return markReady();
      if (m.type === 'error') return fail(new Error(`sweep worker ${index}: ${m.message}`));
      const p = this.pending;
      if (p === null || p.id !== m.id) return fail(new Error(`sweep worker ${index}: unexpected answer ${m.id}`));
      this.pending = null;
      const evaluation: StyleEvaluation = { pTrue: m.pTrue, predicted: m.predicted, runnerUp: m.runnerUp };
      p.resolve({ start: m.start, labels: m.labels, styles: m.styles, grads: m.grads, evaluation });
    });
    worker.on('error', (e) => fail(new Error(`sweep worker ${index} failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`sweep worker ${index} exited (code ${code})`)));
  }

  run(spec: PopulationSpec, start: number, n: number): Promise<SweepBatch> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error(`sweep worker ${this.index} is busy`));
    const id = this.nextId++;
    return new Promise<SweepBatch>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.worker.postMessage({ type: 'batch', id, spec, start, n } satisfies ToWorker);
    });
  }
}

export interface SweepPoolOptions {
  /** Worker threads (>= 1). */
  threads: number;
  /** The backend every worker initialises (the one the main thread uses, for identical results). */
  backend: NodeBackend;
  /** The bundled worker entry; default `defaultWorkerFile()`. */
  workerFile?: string;
  /**
   * The 3x3 conv algorithm of the workers' wasm backends; default the main thread's at start
   * (`conv3x3Algorithm()`), so that `setConv3x3Algorithm` before the pool starts covers it too.
   */
  conv?: Conv3x3Algorithm;
}

/**
 * Worker threads that each hold the models; `sweep` has `rankingSweep`'s contract and result.
 * @example
 * const pool = await SweepPool.start(await sweepModelSource(models), { threads: 2, backend: 'wasm' });
 * try { sums = await pool.sweep(models, spec, { onBatch }); } finally { await pool.close(); }
 */
export class SweepPool {
  private closed = false;

  private constructor(
    private readonly workers: SweepWorker[],
    private readonly source: Pick<SweepModelSource, 'generatorId' | 'classifierId' | 'noise'>,
  ) {}

  get threads(): number {
    return this.workers.length;
  }

  /** Starts the workers and waits until every one has its backend and models. */
  static async start(source: SweepModelSource, opts: SweepPoolOptions): Promise<SweepPool> {
    if (!Number.isInteger(opts.threads) || opts.threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${opts.threads}`);
    const file = path.resolve(opts.workerFile ?? defaultWorkerFile());
    const init: WorkerInit = { backend: opts.backend, conv: opts.conv ?? conv3x3Algorithm(), source };
    const workers = Array.from(
      { length: opts.threads },
      (_, i) => new SweepWorker(new Worker(file, { workerData: init }), i),
    );
    const pool = new SweepPool(workers, {
      generatorId: source.generatorId,
      classifierId: source.classifierId,
      noise: source.noise,
    });
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** `rankingSweep` over the workers: the same sums, `onBatch` for every batch in sample order. */
  readonly sweep: RankingSweepFn = async (
    models: AnalysisModels,
    spec: PopulationSpec,
    opts: RankingSweepOptions = {},
  ): Promise<RankingSums> => {
    if (this.closed) throw new Error('the sweep pool is closed');
    if (models.generatorId !== this.source.generatorId || models.classifierId !== this.source.classifierId) {
      throw new Error('the sweep pool holds other models than the ones asked for (generator or classifier id differ)');
    }
    if (canonicalJson(analysisNoise(models)) !== canonicalJson(this.source.noise)) {
      throw new Error(
        `the sweep pool renders with noise ${JSON.stringify(this.source.noise)}, the models ask for ${JSON.stringify(analysisNoise(models))}`,
      );
    }
    sweepPlan(models, spec, opts); // a bad range or batch size is the caller's error: the pool stays usable
    try {
      return await driveSweep(
        models,
        spec,
        opts,
        this.workers.map((w) => (start: number, n: number) => w.run(spec, start, n)),
      );
    } catch (err) {
      // A worker died or onBatch threw: the pool's state is unknown, so it is not reused.
      await this.close();
      throw err;
    }
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/**
 * The pool for `analyze`'s sweep when threads > 1 (the caller closes it); null for 1 thread, where
 * the core's in-process `rankingSweep` runs unchanged.
 */
export async function startSweepPool(
  models: AnalysisModels,
  opts: SweepPoolOptions & { userClassifier?: { dir: string; adapter: string } },
): Promise<SweepPool | null> {
  if (opts.threads <= 1) return null;
  return SweepPool.start(await sweepModelSource(models, opts.userClassifier), opts);
}
