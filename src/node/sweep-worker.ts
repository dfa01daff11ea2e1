/**
 * Worker thread of the parallel sweep (src/node/parallel-sweep.ts), bundled to
 * dist/sweep-worker.mjs: initialises its own tfjs backend, rebuilds the models from the tensors the
 * pool sends, then computes one batch per request with the core's `sweepBatch` and sends the
 * per-sample arrays back (transferred, not copied, when they own their buffers).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '../core/tf.js';
import { SimpleCnn } from '../core/classifier/simple-cnn.js';
import { Generator } from '../core/generator/generator.js';
import type { Classifier } from '../core/classifier/classifier.js';
import type { AnalysisModels } from '../core/analysis/analysis-models.js';
import { sweepBatch } from '../core/analysis/ranking.js';
import { useBackend } from './backend.js';
import { setConv3x3Algorithm } from '../core/nn/conv3x3/conv3x3-kernel.js';
import { loadUserClassifier } from './user-model.js';
import type { FromWorker, SweepModelSource, ToWorker, WorkerInit } from './parallel-sweep.js';

const port = parentPort;
if (port === null) throw new Error('sweep-worker.mjs runs as a worker thread of the parallel sweep');

async function buildModels(source: SweepModelSource): Promise<AnalysisModels> {
  const { arch, tensors } = source.generator;
  const generator = new Generator(arch, null, false); // load() below sets every weight and warms the cache
  generator.load(new Map(tensors), 'sweep pool (generator)');
  let classifier: Classifier;
  const c = source.classifier;
  if (c.kind === 'simple-cnn')
    classifier = SimpleCnn.fromWeights(c.name, c.config, new Map(c.tensors), 'sweep pool (classifier)');
  else classifier = (await loadUserClassifier(c.dir, c.adapter)).classifier;
  return {
    generator,
    classifier,
    generatorId: source.generatorId,
    classifierId: source.classifierId,
    noise: source.noise,
  };
}

/** The array itself when it owns its whole buffer (transferable), else a copy that does. */
function owned<T extends Float32Array | Int32Array>(a: T, transfer: boolean): T {
  return transfer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const init = workerData as WorkerInit;
  await useBackend(init.backend);
  setConv3x3Algorithm(init.conv);
  const models = await buildModels(init.source);
  // wasm's data() returns fresh copies out of its heap, safe to transfer; cpu may hand out a
  // tensor's own storage, which is copied instead.
  const transfer = tf.getBackend() === 'wasm';
  port.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        const b = await sweepBatch(models, m.spec, m.start, m.n);
        const styles = owned(b.styles, transfer);
        const grads = owned(b.grads, transfer);
        const { pTrue, predicted, runnerUp } = b.evaluation;
        post({ type: 'batch', id: m.id, start: b.start, labels: b.labels, styles, grads, pTrue, predicted, runnerUp }, [
          styles.buffer,
          grads.buffer,
          pTrue.buffer,
          predicted.buffer,
          runnerUp.buffer,
        ] as ArrayBuffer[]);
      } catch (err) {
        post({ type: 'error', id: m.id, message: (err as Error).stack ?? String(err) });
      }
    })();
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'error', id: null, message: `cannot start: ${(err as Error).stack ?? String(err)}` });
}
