import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const tfjsCoreEsm = fileURLToPath(new URL('./node_modules/@tensorflow/tfjs-core/dist/index.js', import.meta.url));

/**
 * The three test tiers, by what a file needs (`npm run test:unit|test:edge|test:e2e`; `npm test`
 * runs all three). Every test file lands in exactly one: a file in a new folder is `unit` until it
 * is listed here.
 */
const SLOW_EDGE = ['test/worker/fuzz.test.ts', 'test/worker/load.test.ts'];
const WORKERD_ONLY_RUNNER_TESTS = ['test/runner/board.test.ts'];
/**
 * Node only, but end to end and long: the built CLI in child processes (analyze, training on an
 * image folder, generator classes), worker-thread sweeps, the findings reproduced on 2,000-sample
 * populations of the committed models, and the cpu backend's parity (minutes each on two cores).
 */
const LONG_NODE_RUNS = [
  'test/cli.test.ts',
  'test/explain-cli.test.ts',
  // analyze --domain for fashion (its whole data package parsed for the sanity check) and colored-mnist.
  'test/domain-cli.test.ts',
  'test/image-folder.test.ts',
  'test/generator-classes.test.ts',
  'test/parallel-sweep.test.ts',
  'test/findings.test.ts',
  'test/accuracy-curve.test.ts',
  // 60,000 RGB test images through two CNNs: a minute alone on two cores.
  'test/colour-classifiers.test.ts',
  // tfjs's pure-JS cpu backend against wasm (the unit tier runs the same checks on wasm).
  'test/cpu-backend.test.ts',
  // The committed generator's recorded quality recomputed on 600 samples: most of a minute.
  'test/generator-weights.test.ts',
];
/**
 * `workers`: how many files of the tier run at once. The unit tier's files are in-process, each in
 * its own forked process with nothing shared (no port, no fixed directory), so they use both cores
 * of the CI machine; the edge and e2e tiers boot workerd, browsers and runners on fixed resources and
 * keep one file at a time. Tiers run one after another (`groupOrder`), so the unit tier's two files
 * never overlap an edge or e2e file.
 */
const TIERS = [
  // The core and the Node helpers, in process: no workerd, no browser, no Deno, no CLI child process.
  {
    name: 'unit',
    include: ['test/**/*.test.ts'],
    exclude: ['test/worker/**', 'test/runner/**', 'test/browser/**', ...LONG_NODE_RUNS],
    workers: 2,
  },
  // The worker in workerd (Miniflare), with at most a Node runner beside it.
  {
    name: 'edge',
    include: ['test/worker/**/*.test.ts', ...WORKERD_ONLY_RUNNER_TESTS],
    exclude: SLOW_EDGE,
    workers: 1,
  },
  // Chromium, Deno runners on WebGPU, randomised (fuzz) and load runs, and the long Node runs.
  {
    name: 'e2e',
    include: ['test/browser/**/*.test.ts', 'test/runner/**/*.test.ts', ...SLOW_EDGE, ...LONG_NODE_RUNS],
    exclude: WORKERD_ONLY_RUNNER_TESTS,
    workers: 1,
  },
];

export default defineConfig({
  resolve: {
    // One tfjs-core instance: its ESM build everywhere (the core's `register_all_gradients` import is
    // ESM-only), including inside the backends, which would otherwise load the CJS bundle.
    alias: [{ find: /^@tensorflow\/tfjs-core$/, replacement: tfjsCoreEsm }],
    mainFields: ['module', 'main'],
  },
  test: {
    server: { deps: { inline: [/@tensorflow\//] } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: TIERS.map(({ name, include, exclude, workers }, groupOrder) => ({
      extends: true,
      test: { name, include, exclude, maxWorkers: workers, sequence: { groupOrder } },
    })),
  },
});
