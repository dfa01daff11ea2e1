/**
 * Registered classifiers built in this isolate: the TF.js model of a stored registration, loaded
 * from its verified files once and kept while among the recently used (BUILT_LIMITS), so users'
 * models cannot exhaust the isolate's memory. An evicted model is disposed once no request is in
 * flight (`trackRequests`): a request that got it before the eviction may still be computing with it.
 */
import type { TfjsClassifier } from '../../core/classifier/tfjs-model.js';
import { parseModelJson } from '../../core/classifier/tfjs-model-json.js';
import type { Env } from '../env.js';
import { isolateCache, type KeepAlive } from '../isolate-cache.js';
import { ProblemError } from '../problem.js';
import { liveCompute } from '../isolate-models.js';
import { BUILT_LIMITS } from './limits.js';
import { storedFiles, type RegisteredRecord } from './records.js';

/** The core's TF.js classifier (tfjs-layers + tfjs-converter), imported when first needed. */
export const tfjsClassifier = () => import('../../core/classifier/tfjs-model.js');

const evicted: Array<Promise<TfjsClassifier>> = [];
/** Dropped models (evicted, or presumed lost and built again) wait in `evicted` for disposal. */
const builds = isolateCache<TfjsClassifier>({
  limit: { entries: BUILT_LIMITS.models, cost: BUILT_LIMITS.weightBytes },
  onDrop: (p) => evicted.push(p),
});
/** Start times of the requests in flight (a cancelled request may never run its `finally`: stale after REQUEST_STALE_MS). */
const active = new Map<number, number>();
let nextRequest = 0;
const REQUEST_STALE_MS = 60_000;

function disposeEvicted(): void {
  for (const p of evicted.splice(0))
    p.then(
      (m) => m.dispose(),
      () => undefined,
    );
}

/** Middleware bookkeeping: evicted models are disposed when the last request in flight ends. */
export async function trackRequests(next: () => Promise<void>): Promise<void> {
  const me = nextRequest++;
  active.set(me, Date.now());
  try {
    await next();
  } finally {
    active.delete(me);
    const now = Date.now();
    for (const [id, started] of active) if (now - started > REQUEST_STALE_MS) active.delete(id);
    if (active.size === 0 && evicted.length > 0) disposeEvicted();
  }
}

/** Built registered classifiers in this isolate (tests, health). */
export function builtRegistered(): { models: number; weightBytes: number; awaitingDisposal: number } {
  return {
    models: builds.size,
    weightBytes: builds.cost,
    awaitingDisposal: evicted.length,
  };
}

/** The registered classifier, built once per isolate (while it stays among the recently used) from its verified stored files. */
export function registeredClassifier(
  env: Env,
  record: RegisteredRecord,
  keepAlive?: KeepAlive,
): Promise<TfjsClassifier> {
  return builds.get(
    record.id,
    async () => {
      const { modelJson, weights, adapter } = await storedFiles(env, record);
      const { TfjsClassifier } = await tfjsClassifier();
      await (await liveCompute()).ensureBackend();
      try {
        const weightData = weights.buffer.slice(
          weights.byteOffset,
          weights.byteOffset + weights.byteLength,
        ) as ArrayBuffer;
        return await TfjsClassifier.create(
          record.id,
          { modelJson: parseModelJson(modelJson, 'model.json'), weightData },
          adapter,
          `classifier ${record.id}`,
        );
      } catch (err) {
        throw new ProblemError(
          503,
          'weights-refused',
          `classifier ${record.id} could not be built: ${(err as Error).message}`,
          { model: record.id },
        );
      }
    },
    { cost: record.bytes.weights, keepAlive },
  );
}

/** Keeps a classifier just built and checked by registration for this isolate's next requests. */
export function rememberBuilt(id: string, classifier: TfjsClassifier, weightBytes: number): void {
  builds.set(id, Promise.resolve(classifier), weightBytes);
}

/** Drops a deleted classifier's built model from this isolate (disposed once no request is in flight). */
export function forgetBuilt(id: string): void {
  builds.drop(id);
}
