/**
 * `faultlines noise-correlation` — is the generated noise one fixed texture? Residual correlations
 * (image minus 3x3 median) between different noisy digits: generated with each analysis noise mode
 * (const, per-sample) and real corrupted MNIST digits; writes docs/analysis/noise-modes.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { measureNoiseCorrelation } from '../../core/evaluation/noise-correlation.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDigits } from '../mnist.js';
import { loadGenerator } from '../builtin-models.js';

/** Noise strength of the mechanism check (the trained generator's own strengths are ~1e-3). */
const WEIGHTED_STRENGTH = 0.3;

export const summary = 'residual correlation of generated noise per noise mode vs real corrupted digits';

const usage = `usage: faultlines noise-correlation [options]

  --samples N        noisy digits per set (default 200)
  --seed N           population seed of the generated digits (default 1)
  --backend cpu|wasm tfjs backend (default wasm)
  --generator DIR    generator weights folder (default weights/generator)
  --out FILE         output JSON (default docs/analysis/noise-modes.json)`;

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      samples: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'wasm' },
      generator: { type: 'string' },
      out: { type: 'string', default: 'docs/analysis/noise-modes.json' },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const count = intOption(o.samples, 'samples', 2, 2000);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const t0 = Date.now();
  const gen = loadGenerator(o.generator ? path.resolve(o.generator) : undefined);
  const real = loadDigits('test', 'corrupted');
  const report = await measureNoiseCorrelation(gen.generator, gen.manifest.sha256, real, { seed, count });
  // The mechanism, on the same generator with its noise inputs given weight (every strength set to
  // WEIGHTED_STRENGTH; its own are ~1e-3): what per-sample noise does when the noise is used.
  for (const name of gen.generator.params.names())
    if (name.endsWith('/noise_strength'))
      tf.tidy(() => gen.generator.params.get(name).assign(tf.tensor([WEIGHTED_STRENGTH])));
  const weighted = await measureNoiseCorrelation(gen.generator, gen.manifest.sha256, real, { seed, count });
  const out = path.resolve(o.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        ...report,
        withNoiseInputsWeighted: { noiseStrength: WEIGHTED_STRENGTH, sets: weighted.sets },
        computed: {
          by: `faultlines noise-correlation --samples ${count} --seed ${seed}`,
          backend: tf.getBackend(),
          seconds: Math.round((Date.now() - t0) / 100) / 10,
        },
      },
      null,
      2,
    ) + '\n',
  );
  const f = (x: number) => x.toFixed(3).padStart(7);
  process.stdout.write(
    `residual (image - 3x3 median) correlation between different noisy digits, ${count} per set\n\n`,
  );
  process.stdout.write(
    `${'set'.padEnd(44)} ${'mean r'.padStart(7)} ${'median'.padStart(7)} ${'max r'.padStart(7)} ${'1-px shifted mean'.padStart(18)}\n`,
  );
  for (const s of report.sets)
    process.stdout.write(
      `${s.name.padEnd(44)} ${f(s.mean)} ${f(s.median)} ${f(s.max)} ${f(s.shifted.mean).padStart(18)}\n`,
    );
  process.stdout.write(
    `\nthe same generator with every noise strength set to ${WEIGHTED_STRENGTH} (its own: ~1e-3):\n`,
  );
  for (const s of weighted.sets.slice(0, -1))
    process.stdout.write(
      `${s.name.padEnd(44)} ${f(s.mean)} ${f(s.median)} ${f(s.max)} ${f(s.shifted.mean).padStart(18)}\n`,
    );
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)}\n`);
}
