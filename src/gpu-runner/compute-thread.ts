/**
 * The main thread's handle on the runner's compute thread (src/gpu-runner/compute-worker.ts): starts
 * it (the backend is chosen and initialised there), hands it one lease at a time, relays the edge
 * reads it asks for through the main thread's client, passes its progress on, and stops it at once
 * (`terminate()`, even while a batch blocks its thread) when the shard is abandoned.
 *
 * node:worker_threads in both runtimes: Node has it, and Deno's implementation of it gives the
 * thread navigator.gpu (WebGPU) like its own Worker does, so one code path serves webgpu and wasm.
 */
import { Worker } from 'node:worker_threads';
import type { ResultProgress } from '../core/analysis/derived-results.js';
import type { BackendInfo, RunnerBackendChoice } from './backend.js';
import type { EdgeClient, LeaseView } from './client.js';
import {
  fromThreadError,
  threadError,
  type ComputeInit,
  type EdgeRead,
  type FromCompute,
  type ToCompute,
} from './compute-messages.js';

/** The compute thread's bundle, beside the runner's (dist/gpu-runner/). */
const WORKER_URL = new URL('./compute-worker.mjs', import.meta.url);

export class ComputeThread {
  private job: {
    resolve: (payload: unknown) => void;
    reject: (e: Error) => void;
    onProgress: (p: ResultProgress) => void;
  } | null = null;
  private exited: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly edge: EdgeClient,
    readonly info: BackendInfo,
    private readonly log: (line: string) => void,
  ) {
    worker.on('message', (m: FromCompute) => this.onMessage(m));
    // A thread that dies (an uncaught error, memory) fails the shard it was computing.
    worker.on('error', (e) => this.died(new Error(`the compute thread crashed: ${e.message}`)));
    worker.on('exit', (code) => this.died(new Error(`the compute thread exited (code ${code})`)));
  }

  /** Starts a compute thread and waits until its backend is ready (`log` receives its lines). */
  static start(backend: RunnerBackendChoice, edge: EdgeClient, log: (line: string) => void): Promise<ComputeThread> {
    const init: ComputeInit = { backend, api: edge.base };
    const worker = new Worker(WORKER_URL, { workerData: init });
    return new Promise<ComputeThread>((resolve, reject) => {
      const onMessage = (m: FromCompute) => {
        if (m.type === 'log') log(m.line);
        else if (m.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          resolve(new ComputeThread(worker, edge, m.info, log));
        } else if (m.type === 'init-failed') {
          void worker.terminate();
          reject(fromThreadError(m.error));
        }
      };
      const onExit = (code: number) =>
        reject(new Error(`the compute thread exited (code ${code}) before its backend was ready`));
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.once('error', (e) => reject(new Error(`the compute thread failed to start: ${e.message}`)));
    });
  }

  /** False once the thread has died or been terminated: a new one must be started. */
  get alive(): boolean {
    return this.exited === null;
  }

  /** Computes one leased shard (its payload, as the edge expects it); one at a time. */
  run(lease: LeaseView, batchSize: number, onProgress: (p: ResultProgress) => void): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.job) return Promise.reject(new Error('the compute thread is already computing a shard'));
    return new Promise((resolve, reject) => {
      this.job = { resolve, reject, onProgress };
      this.send({ type: 'compute', lease, batchSize });
    });
  }

  /** Stops the thread now, whatever it is doing (a batch mid-flight included). */
  async terminate(): Promise<void> {
    this.died(new Error('the compute thread was stopped'));
    await this.worker.terminate();
  }

  private send(m: ToCompute): void {
    this.worker.postMessage(m);
  }

  private died(e: Error): void {
    if (this.exited) return;
    this.exited = e;
    const job = this.job;
    this.job = null;
    job?.reject(e);
  }

  private onMessage(m: FromCompute): void {
    switch (m.type) {
      case 'log':
        this.log(m.line);
        return;
      case 'read':
        void this.read(m.id, m.read);
        return;
      case 'progress':
        this.job?.onProgress(m);
        return;
      case 'done':
      case 'failed': {
        const job = this.job;
        this.job = null;
        if (m.type === 'done') job?.resolve(m.payload);
        else job?.reject(fromThreadError(m.error));
        return;
      }
      default:
        return;
    }
  }

  /** One edge read for the thread, with the client's retries; its failure is the thread's to report. */
  private async read(id: number, r: EdgeRead): Promise<void> {
    try {
      const value =
        r.what === 'model'
          ? await this.edge.modelFile(r.id, r.file)
          : r.what === 'classifier'
            ? await this.edge.classifierFile(r.id, r.file)
            : await this.edge.result(r.key);
      if (!this.exited) this.send({ type: 'read', id, value });
    } catch (e) {
      if (!this.exited) this.send({ type: 'read-failed', id, error: threadError(e) });
    }
  }
}
