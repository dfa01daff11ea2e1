/**
 * The messages between the runner's main thread (leases, heartbeats, signals: src/gpu-runner/runner.ts)
 * and its compute thread (src/gpu-runner/compute-worker.ts, which owns the tfjs backend and the
 * models). Types only: both sides import them, neither imports the other.
 */
import type { BackendInfo, RunnerBackendChoice } from './backend.js';
import type { LeaseView } from './client.js';

/** The compute thread's start data (worker_threads' workerData). */
export interface ComputeInit {
  backend: RunnerBackendChoice;
  /** The edge's base URL, only for naming where a file came from in errors. */
  api: string;
}

/** An error crossing threads: its name and message (what a failed shard reports). */
export interface ThreadError {
  name: string;
  message: string;
}

/** A read from the edge that the compute thread asks the main thread (which holds the client and its token) to make. */
export type EdgeRead =
  | { what: 'model'; id: string; file: 'manifest' | 'weights' }
  | { what: 'classifier'; id: string; file: 'model' | 'weights' | 'adapter' }
  | { what: 'result'; key: string };

export type ToCompute =
  | { type: 'compute'; lease: LeaseView; batchSize: number }
  | { type: 'read'; id: number; value: unknown }
  | { type: 'read-failed'; id: number; error: ThreadError };

export type FromCompute =
  | { type: 'ready'; info: BackendInfo }
  | { type: 'init-failed'; error: ThreadError }
  | { type: 'log'; line: string }
  | { type: 'read'; id: number; read: EdgeRead }
  | { type: 'progress'; done: number; total: number; samplesPerSecond: number }
  | { type: 'done'; payload: unknown }
  | { type: 'failed'; error: ThreadError };

export function threadError(e: unknown): ThreadError {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

/** The error a ThreadError stands for, with its name and message (`${name}: ${message}` reads as before). */
export function fromThreadError(e: ThreadError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
