/**
 * `npm run bench:runner`: samples/s of the ranking sweep (forward + backward of generator and
 * classifier, per-sample sums) per backend the machine offers, run by the runner bundle exactly as
 * a runner runs a shard: wasm (and cpu) in Node, webgpu in Deno on whatever adapter it finds (a
 * real GPU, or a software adapter such as lavapipe, which measures correctness, not speed).
 * Writes bench/results/runner.json.
 *
 *   npm run bench:runner [-- --count N --gpu-count N --batch B --cpu]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildRunner } from '../src/gpu-runner/build.js';
import { intOption, parseOptions } from '../src/node/args.js';
import { findDeno } from '../src/gpu-runner/deno-bin.js';

const run = promisify(execFile);
const args = parseOptions(
  process.argv.slice(2),
  {
    count: { type: 'string', default: '512' },
    'gpu-count': { type: 'string', default: '128' },
    batch: { type: 'string', default: '64' },
    cpu: { type: 'boolean' },
  },
  'usage: npm run bench:runner [-- --count N --gpu-count N --batch B --cpu]',
);
const count = intOption(args.count, 'count', 1);
const batch = intOption(args.batch, 'batch', 1);

const bundle = await buildRunner();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'faultlines-bench-runner-'));
const plans: Array<{ backend: string; count: number }> = [{ backend: 'wasm', count }];
if (args.cpu) plans.push({ backend: 'cpu', count: Math.min(count, 128) });
const deno = findDeno();
if (deno) plans.push({ backend: 'webgpu', count: intOption(args['gpu-count'], 'gpu-count', 1) });
else console.log('no Deno binary: webgpu not measured (npm ci installs the npm package "deno")');

const results: unknown[] = [];
for (const p of plans) {
  const out = path.join(tmp, `${p.backend}.json`);
  const t0 = Date.now();
  const { stdout } = await run(
    process.execPath,
    [
      bundle,
      'sweep',
      '--backend',
      p.backend,
      '--seed',
      '1',
      '--count',
      String(p.count),
      '--batch',
      String(batch),
      '--warmup',
      '1',
      '--out',
      out,
    ],
    { timeout: 1_200_000, maxBuffer: 1 << 24 },
  );
  process.stdout.write(stdout);
  const r = JSON.parse(readFileSync(out, 'utf8')) as {
    backend: string;
    runtime: string;
    adapter: unknown;
    fallback: string | null;
    samples: number;
    seconds: number;
    samplesPerSecond: number;
  };
  results.push({
    asked: p.backend,
    backend: r.backend,
    runtime: r.runtime,
    adapter: r.adapter,
    fallback: r.fallback,
    samples: r.samples,
    batchSize: batch,
    seconds: +r.seconds.toFixed(3),
    samplesPerSecond: +r.samplesPerSecond.toFixed(2),
    wallSecondsWithStartup: (Date.now() - t0) / 1000,
  });
}

const report = {
  schema: 'faultlines.bench-runner/1',
  measuredAt: new Date().toISOString(),
  what:
    'ranking sweep (generator synthesis + classifier forward and d p_true / d s backward, ' +
    'per-sample float64 sums), timed after one warm-up batch, run by dist/gpu-runner/runner.mjs sweep',
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.versions.node,
  },
  gpu: 'none on this machine: webgpu ran on a software adapter (if listed), which measures correctness, not GPU speed',
  results,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/runner.json', JSON.stringify(report, null, 2) + '\n');
console.table(
  results.map((r: any) => ({
    backend: r.backend,
    runtime: r.runtime,
    adapter: r.adapter?.description ?? '',
    samples: r.samples,
    'samples/s': r.samplesPerSecond,
  })),
);
console.log('written to bench/results/runner.json');
