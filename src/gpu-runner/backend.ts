/**
 * Backend choice for the runner, made once at start: `webgpu` (Deno has navigator.gpu built in;
 * a real GPU or a software adapter such as lavapipe), `wasm` (Node or Deno, CPU), `cpu` (reference),
 * or `auto` (webgpu on a hardware adapter, else wasm — never a software adapter — with a log line
 * saying why).
 *
 * The webgpu backend registers itself at import only if navigator.gpu exists, so it is imported
 * here, after the check. Never call dataSync() on webgpu outside a browser: the core awaits data().
 */
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '../core/tf.js';
import { registerWasmSynthesisEpilogue } from '../core/generator/synthesis-epilogue.js';
import { registerWasmConv3x3 } from '../core/nn/conv3x3/conv3x3-kernel.js';

export const RUNNER_BACKENDS = ['webgpu', 'wasm', 'cpu', 'auto'] as const;
export type RunnerBackendChoice = (typeof RUNNER_BACKENDS)[number];

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation of WebGPU (lavapipe, llvmpipe, SwiftShader, WARP): correct, not fast. */
  software: boolean;
}

export interface BackendInfo {
  /** The tfjs backend in use. */
  backend: 'webgpu' | 'wasm' | 'cpu';
  runtime: string;
  adapter: AdapterDescription | null;
  /** Why the backend differs from the one asked for, if it does. */
  fallback: string | null;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|basic render/i;

export function runtimeName(): string {
  const g = globalThis as { Deno?: { version?: { deno?: string } } };
  if (g.Deno?.version?.deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

function gpu(): GpuLike | null {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? null;
}

/** The WebGPU adapter tfjs will get (high-performance preference), or why there is none. */
async function probeAdapter(): Promise<{ adapter: AdapterDescription } | { none: string }> {
  const g = gpu();
  if (!g) return { none: `navigator.gpu is absent in ${runtimeName()} (WebGPU needs Deno, or a browser)` };
  let a: GpuAdapterLike | null;
  try {
    a = await g.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { none: `navigator.gpu.requestAdapter() threw: ${(e as Error).message}` };
  }
  if (!a)
    return {
      none:
        'navigator.gpu.requestAdapter() returned null: no WebGPU adapter (no GPU and no ' +
        'software Vulkan driver such as lavapipe: apt-get install mesa-vulkan-drivers libvulkan1)',
    };
  const i = a.info ?? {};
  const text = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
  return {
    adapter: {
      vendor: i.vendor ?? '',
      architecture: i.architecture ?? '',
      device: i.device ?? '',
      description: i.description ?? '',
      software: Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter) || SOFTWARE.test(text),
    },
  };
}

let wasmPathsSet = false;
function pointWasmAtNodeModules(): void {
  if (wasmPathsSet) return;
  const require = createRequire(import.meta.url);
  setWasmPaths(
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep,
  );
  wasmPathsSet = true;
}

async function use(name: 'webgpu' | 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') pointWasmAtNodeModules();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  // The synthesis layers' fused epilogue (one pass instead of five each way; bit-identical).
  if (name === 'wasm') registerWasmSynthesisEpilogue(tf.backend());
  // The direct 3x3 conv for Conv2D's 3x3 stride-1 'same' calls (bit-identical to XNNPACK's; faster).
  if (name === 'wasm') registerWasmConv3x3(tf.backend());
}

/** One line naming an adapter (empty and "0" fields left out). */
export function adapterName(a: AdapterDescription): string {
  return (
    [a.description, a.device, a.vendor && `vendor ${a.vendor}`, a.architecture]
      .filter((x) => x && x !== '0')
      .join(' / ') || 'unnamed adapter'
  );
}

/** Chooses and initialises the backend; `log` receives the lines an operator needs. */
export async function initBackend(
  choice: RunnerBackendChoice,
  log: (line: string) => void = () => undefined,
): Promise<BackendInfo> {
  const runtime = runtimeName();
  if (choice === 'wasm' || choice === 'cpu') {
    await use(choice);
    log(`backend ${choice} on ${runtime}`);
    return { backend: choice, runtime, adapter: null, fallback: null };
  }
  const probe = await probeAdapter();
  if ('none' in probe) {
    log(`no WebGPU adapter: ${probe.none}; falling back to the wasm backend (CPU)`);
    await use('wasm');
    return { backend: 'wasm', runtime, adapter: null, fallback: probe.none };
  }
  const a = probe.adapter;
  const name = adapterName(a);
  log(
    `WebGPU adapter: ${name} — ${a.software ? 'SOFTWARE adapter (CPU emulation: proves correctness, not speed)' : 'hardware GPU'}`,
  );
  if (choice === 'auto' && a.software) {
    // Measured: 0.3 samples/s on llvmpipe against 35 on wasm, with first batches longer than a
    // lease. `auto` never runs jobs on a software adapter; `--backend webgpu` still can (tests).
    const why = `the only WebGPU adapter (${name}) is a software one, about 100x slower than the wasm backend on the same CPU`;
    log(`${why}: using the wasm backend (CPU); pass --backend webgpu to use it anyway`);
    await use('wasm');
    return { backend: 'wasm', runtime, adapter: a, fallback: why };
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  try {
    await use('webgpu');
  } catch (e) {
    const why = `the webgpu backend failed to start: ${(e as Error).message}`;
    log(`${why}; falling back to the wasm backend (CPU)`);
    await use('wasm');
    return { backend: 'wasm', runtime, adapter: a, fallback: why };
  }
  log(`backend webgpu on ${runtime}`);
  return { backend: 'webgpu', runtime, adapter: a, fallback: null };
}
