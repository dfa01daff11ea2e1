/**
 * Determinism across backends: the same sweep (seed 7, 128 samples, the edge's models read from the
 * built assets) run by the runner bundle on cpu and wasm in Node and on webgpu in Deno (lavapipe
 * here) gives the same per-class accuracy counts, and top-10 scores and order that agree with the
 * cpu reference within SCORE_RELATIVE_TOLERANCE of its leading score (1e-2; helpers.ts gives why
 * and the measured figures). Every backend computes in float32 and the runner sums per sample in
 * float64, so the differences are float32 rounding in the forward and backward kernels.
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
import { SCORE_RELATIVE_TOLERANCE, compareTopDims, ensureRunnerBuilt } from './helpers.js';

const run = promisify(execFile);
/**
 * One sweep's bound: 128 samples take seconds on an idle machine and minutes on a loaded one (the
 * three sweeps together went past vitest's default 120 s at load average 20 on 2 cores). The test's
 * own timeout covers its three sweeps one after the other.
 */
const SWEEP_TIMEOUT_MS = 170_000;
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
  // FAULTLINES_RUNNER_PARENT: the sweep (and its Deno child for webgpu) stops when this process dies,
  // whatever kills it; `timeout` kills a sweep that hangs while this process lives.
  await run(
    process.execPath,
    [
      RUNNER_BUNDLE,
      'sweep',
      '--assets',
      ASSETS,
      '--backend',
      backend,
      '--seed',
      '7',
      '--count',
      '128',
      '--warmup',
      '0',
      '--out',
      out,
    ],
    { timeout: SWEEP_TIMEOUT_MS, env: { ...process.env, FAULTLINES_RUNNER_PARENT: String(process.pid) } },
  );
  return JSON.parse(readFileSync(out, 'utf8')) as SweepOut;
}

beforeAll(async () => {
  await Promise.all([ensureBuilt(), ensureRunnerBuilt()]);
});

describe('determinism across backends', () => {
  it(
    'cpu, wasm and webgpu give the same top-10 dims and scores within the stated tolerance',
    async () => {
      const results: SweepOut[] = [];
      for (const b of ['cpu', 'wasm', 'webgpu']) results.push(await sweep(b));
      expect(results.map((r) => r.backend)).toEqual(['cpu', 'wasm', 'webgpu']);
      expect(results[1].runtime).toMatch(/^node/);
      expect(results[2].runtime).toMatch(/^deno/);
      expect(results[2].adapter).not.toBeNull();
      const layout = buildStyleLayout(GeneratorArchitectureSchema.parse(readCatalog(ASSETS).generatorArchitecture));
      const [ref, ...others] = results.map((r) => rankDimensions(r.sums, layout));
      for (const [i, r] of others.entries()) {
        const name = results[i + 1].backend;
        expect(results[i + 1].sums.correct, name).toEqual(results[0].sums.correct);
        const { worstScore, worstOrder } = compareTopDims(ref, r);
        const sameOrder = r.dims.slice(0, 10).every((d, k) => d.index === ref.dims[k].index);
        console.log(
          `${name} vs cpu: worst top-10 score difference ${worstScore.toExponential(2)} of the leading score, order ` +
            `gap ${worstOrder.toExponential(2)}, same order ${sameOrder} (${results[i + 1].samplesPerSecond.toFixed(1)} samples/s)`,
        );
        expect(worstScore, name).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
        expect(worstOrder, name).toBeLessThan(SCORE_RELATIVE_TOLERANCE);
      }
    },
    3 * SWEEP_TIMEOUT_MS + 30_000,
  );
});
