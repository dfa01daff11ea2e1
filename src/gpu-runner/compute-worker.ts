/**
 * The runner's compute thread (bundled by src/gpu-runner/build.ts into
 * dist/gpu-runner/compute-worker.mjs, started by src/gpu-runner/compute-thread.ts through
 * node:worker_threads, in Node and in Deno alike; in Deno the thread has navigator.gpu too).
 *
 * It owns the tfjs backend and the models and computes one leased shard at a time with the same
 * core code as before (`shardSweep`, or the core's derived results). Why a thread of its own: one
 * batch can block its thread for minutes (a software WebGPU adapter: 0.3 samples/s; a synchronous
 * wasm kernel), and the lease's heartbeats and SIGTERM handling must not wait for it. The main
 * thread keeps leases, heartbeats and signals, and stops this thread (terminate(), even mid-batch)
 * when a shard is abandoned.
 *
 * The thread holds no token: the model files and stored sums it needs are read by the main
 * thread's edge client and relayed here, and checked here with the core codec as before.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  DERIVED_KINDS,
  derivedResult,
  type DerivedKind,
  type ResultProgress,
} from '../core/analysis/derived-results.js';
import { embeddingsResult, parseEmbeddingsOptions } from '../core/analysis/embeddings-result.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import type { RankingSums } from '../core/analysis/ranking.js';
import { initBackend } from './backend.js';
import type { LeaseView } from './client.js';
import {
  fromThreadError,
  threadError,
  type ComputeInit,
  type EdgeRead,
  type FromCompute,
  type ToCompute,
} from './compute-messages.js';
import { jobFeatureExtractor, jobModels, type ModelFiles } from './job-models.js';
import { explainImage, explanationJson } from '../core/analysis/explain.js';
import { readDomainPng } from '../core/image/read-png.js';
import { ExplainJobOptionsSchema } from '../protocol/explain.js';
import { shardSweep } from './sweep.js';

const port = parentPort;
if (port === null) throw new Error("compute-worker.mjs runs as the GPU runner's compute thread");
const init = workerData as ComputeInit;
const post = (m: FromCompute) => port.postMessage(m);

let nextRead = 0;
const reads = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

/** One read from the edge, made by the main thread. */
function read<T>(r: EdgeRead): Promise<T> {
  const id = nextRead++;
  return new Promise<T>((resolve, reject) => {
    reads.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ type: 'read', id, read: r });
  });
}

const files: ModelFiles = {
  base: init.api.replace(/\/+$/, ''),
  modelFile: (id, file) => read<Uint8Array>({ what: 'model', id, file }),
  classifierFile: (id, file) => read<Uint8Array>({ what: 'classifier', id, file }),
};

/**
 * A histograms, accuracy-curves or corner-cases job: the sweep's ranking sums as the edge stores
 * them, the compared classifiers the job names, then the core's computation with its options.
 */
async function derived(
  lease: LeaseView,
  models: AnalysisModels,
  onProgress: (p: ResultProgress) => void,
): Promise<unknown> {
  const { spec } = lease;
  if (!(DERIVED_KINDS as readonly string[]).includes(lease.kind))
    throw new Error(`this runner cannot compute results of kind "${lease.kind}"`);
  const sums = await storedSums(lease);
  const compare = [];
  for (const c of spec.compare ?? []) {
    const m = await jobModels(files, spec.generatorId, c.classifierId, c.classifierFormat);
    compare.push({ name: c.classifier, classifier: m.classifier, classifierId: c.classifierId });
  }
  const input = {
    models,
    name: spec.classifier,
    sweep: { seed: spec.seed, count: spec.count },
    sums,
    onProgress,
  };
  return derivedResult(lease.kind as DerivedKind, input, spec.options ?? {}, compare);
}

/** The sweep's ranking sums a job names, as the edge stores them. */
async function storedSums(lease: LeaseView): Promise<RankingSums> {
  const { spec } = lease;
  if (!spec.sums) throw new Error(`the ${lease.kind} job names no ranking sums to derive from`);
  const stored = await read<{ kind: string; payload: RankingSums }>({ what: 'result', key: spec.sums });
  if (stored.kind !== 'ranking-sums')
    throw new Error(`result ${spec.sums} is a ${stored.kind} result, not ranking sums`);
  return stored.payload;
}

/**
 * An explain job: the submitted PNG decoded as the CLI decodes its file, explained by the core's
 * explainImage against the sweep's ranking sums, as `npx faultlines explain` does (report.json's content).
 */
async function explain(lease: LeaseView, models: AnalysisModels): Promise<unknown> {
  const { spec } = lease;
  const o = ExplainJobOptionsSchema.parse(spec.options);
  if (typeof spec.featureExtractorId !== 'string') throw new Error('the explain job names no feature extractor');
  const featureExtractor = await jobFeatureExtractor(files, spec.featureExtractorId);
  const sums = await storedSums(lease);
  const g = models.generator;
  const bytes = Uint8Array.from(atob(o.image), (ch) => ch.charCodeAt(0));
  const image = readDomainPng(bytes, { size: g.resolution, channels: g.arch.imageChannels }, 'image');
  const e = await explainImage(
    models,
    { featureExtractor },
    { spec: { seed: spec.seed, count: spec.count, classIndex: null }, sums },
    image,
    o.label,
    { projection: { steps: o.steps, seed: o.seed }, topDims: o.top },
  );
  return explanationJson(e, g.resolution);
}

async function compute(lease: LeaseView, batchSize: number): Promise<unknown> {
  const { spec, shard } = lease;
  const models = await jobModels(files, spec.generatorId, spec.classifierId, spec.classifierFormat);
  const onProgress = (p: ResultProgress) =>
    post({ type: 'progress', done: p.done, total: p.total, samplesPerSecond: p.samplesPerSecond });
  if (lease.kind === 'ranking-sums')
    return shardSweep(
      models,
      { seed: spec.seed, count: spec.count, classIndex: null },
      shard.start,
      shard.end,
      batchSize,
      onProgress,
    );
  if (lease.kind === 'explain') return explain(lease, models);
  if (lease.kind === 'embeddings') {
    // Whole (one shard): UMAP and the kNN score need every point at once. No progress within it:
    // the lease's heartbeats come from the main thread, not from this one.
    return embeddingsResult(models, { seed: spec.seed, count: spec.count }, parseEmbeddingsOptions(spec.options ?? {}));
  }
  return derived(lease, models, onProgress);
}

port.on('message', (m: ToCompute) => {
  if (m.type === 'compute') {
    compute(m.lease, m.batchSize).then(
      (payload) => post({ type: 'done', payload }),
      (e: unknown) => post({ type: 'failed', error: threadError(e) }),
    );
    return;
  }
  const pending = reads.get(m.id);
  if (!pending) return;
  reads.delete(m.id);
  if (m.type === 'read') pending.resolve(m.value);
  else pending.reject(fromThreadError(m.error));
});

initBackend(init.backend, (line) => post({ type: 'log', line })).then(
  (info) => post({ type: 'ready', info }),
  (e: unknown) => post({ type: 'init-failed', error: threadError(e) }),
);
