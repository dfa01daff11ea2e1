/**
 * Backend selection for Node processes (CLI, training, benchmarks). The core never picks a backend;
 * the process that runs it does.
 */
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '../core/tf.js';

export const NODE_BACKENDS = ['cpu', 'wasm'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export function isNodeBackend(name: string): name is NodeBackend {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

// Point the wasm backend at its binaries in node_modules before anything can initialise it (the
// first tensor created initialises the highest-priority registered backend).
const require = createRequire(import.meta.url);
setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);

/**
 * Switches tfjs to `name` and waits until it is ready. wasm (SIMD) is 5-30x faster than cpu here;
 * in Node it runs single-threaded (its threaded build starts workers from blob: URLs).
 */
export async function useBackend(name: NodeBackend): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
}
