/**
 * Determinism across backends: the same sweep (seed 7, 128 samples, the edge's models read from the
 * built assets) run by the runner bundle on cpu and wasm in Node and on webgpu in Deno (lavapipe
 * here) gives the same top-10 order, the same per-class accuracy counts, and top-10 scores within a
 * relative SCORE_RELATIVE_TOLERANCE (3e-3, see helpers.ts) of the cpu reference.
 *
 * Why 1e-3: every backend computes in float32 and the runner sums per sample in float64, so the
 * differences are float32 rounding in the forward and backward kernels (other summation orders,
 * fused ops), amplified where a dim's mean gradient is a small difference of large per-sample
 * terms. Measured here: webgpu vs wasm 1e-6 (seed 1, 128 samples) to 2.3e-4 (seed 31, 256) relative
 * on the top-10 scores with an early generator, 1.13e-3 (webgpu vs cpu, seed 7) with the generator
 * checkpoint at iteration 4,749.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { rankDimensions, type RankingSums } from '../../src/core/analysis/ranking.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import { RUNNER_BUNDLE } from '../../src/gpu-runner/build.js';
import { readCatalog } from '../../src/gpu-runner/local.js';
import { ensureBuilt } from '../worker/harness.js';
import { SCORE_RELATIVE_TOLERANCE, ensureRunnerBuilt } from './helpers.js';

const run = promisify(execFile);
const ASSETS = 'dist/edge-assets';

interface SweepOut {
  backend: string;
  runtime: string;
  adapter: { description: string; software: boolean } | null;
  samplesPerSecond: number;
  sums: RankingSums;
}

async function sweep(backend: string): Promise<SweepOut> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'faultlines-det-')), `${backend}.json`);
  await run(process.execPath, [RUNNER_BUNDLE, 'sweep', '--assets', ASSETS, '--backend', backend, '--seed', '7', '--count', '128', '--warmup', '0', '--out', out], { timeout: 170_000 });
  return JSON.parse(readFileSync(out, 'utf8')) as SweepOut;
}

beforeAll(async () => {
  await Promise.all([ensureBuilt(), ensureRunnerBuilt()]);
});

describe('determinism across backends', () => {
  it('cpu, wasm and webgpu give the same top-10 order and scores within the stated tolerance', async () => {
    const results: SweepOut[] = [];
    for (const b of ['cpu', 'wasm', 'webgpu']) results.push(await sweep(b));
    expect(results.map((r) => r.backend)).toEqual(['cpu', 'wasm', 'webgpu']);
    expect(results[1].runtime).toMatch(/^node/);
    expect(results[2].runtime).toMatch(/^deno/);
    expect(results[2].adapter).not.toBeNull();
    const layout = buildStyleLayout(GeneratorArchitectureSchema.parse(readCatalog(ASSETS).generatorArchitecture));
    const [ref, ...others] = results.map((r) => rankDimensions(r.sums, layout));
    const top = ref.dims.slice(0, 10);
    for (const [i, r] of others.entries()) {
      const name = results[i + 1].backend;
      expect(r.dims.slice(0, 10).map((d) => d.index), name).toEqual(top.map((d) => d.index));
      expect(results[i + 1].sums.correct, name).toEqual(results[0].sums.correct);
      const worst = Math.max(...top.map((d, k) => Math.abs(r.dims[k].score - d.score) / Math.abs(d.score)));
      console.log(`${name} vs cpu: worst top-10 relative score difference ${worst.toExponential(2)} (${results[i + 1].samplesPerSecond.toFixed(1)} samples/s)`);
      expect(worst, name).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
    }
  });
});
