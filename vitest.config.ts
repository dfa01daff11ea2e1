import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { prebundleTfjs } from './test/tfjs-prebundle.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const tensorflowPackages = `${root}node_modules/@tensorflow/`;

/**
 * The four test tiers, by what a file needs (`npm run test:unit|test:long-node|test:edge|test:e2e`;
 * `npm test` runs all four). Every test file lands in exactly one: a file in a new folder is `unit`
 * until it is listed here.
 */
const SLOW_EDGE = ['test/worker/fuzz.test.ts', 'test/worker/load.test.ts'];
const WORKERD_ONLY_RUNNER_TESTS = ['test/runner/board.test.ts'];
/**
 * Node only, but end to end and long: the built CLI in child processes (analyze, training on an
 * image folder, generator classes), worker-thread sweeps, the findings reproduced on 2,000-sample
 * populations of the committed models, and the cpu backend's parity (minutes each on two cores).
 * Their own tier, two files at a time: each file is one process with its own temporary folders
 * (no port, no fixed path), and most of them keep one core busy, so one at a time left the CI
 * machine's second core idle for about 12 minutes.
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
  // The committed classifiers' recorded accuracies recomputed on the whole 10,000-digit test split,
  // clean and corrupted (40,000 classifications): 20 s of the unit tier's wall on a quiet machine.
  'test/classifiers.test.ts',
];
/**
 * `isolate: false` (unit tier): the tier's files share their worker's process and module cache, so
 * tfjs and the core are imported once per worker instead of once per file (imports were 64 of the
 * tier's 122 s). No file reads state another leaves: each file that runs tf picks its backend and
 * seeds its generators, and the one leak found (stock gradients registered over the portable ones)
 * is fixed at its cause in `resolve.alias` below.
 * `workers`: how many files of the tier run at once. The unit and long-node tiers' files are
 * in-process (or spawn their own children) with nothing shared between workers (no port, no fixed
 * directory), so they use both cores of the CI machine; the edge and e2e tiers boot workerd,
 * browsers and runners on fixed resources, keep one file at a time and one process per file. Tiers
 * run one after another (`groupOrder`), so two workers never overlap an edge or e2e file.
 * `timeoutSeconds`: the long-node tier's files share the two cores, so a test or hook takes up to
 * about twice its time alone (the longest alone: ~70 s); its limits catch hangs, not slowness.
 */
const TIERS = [
  // The core and the Node helpers, in process: no workerd, no browser, no Deno, no CLI child process.
  {
    name: 'unit',
    include: ['test/**/*.test.ts'],
    exclude: ['test/worker/**', 'test/runner/**', 'test/browser/**', ...LONG_NODE_RUNS],
    workers: 2,
    isolate: false,
  },
  // The long Node runs, two files at a time (above).
  { name: 'long-node', include: LONG_NODE_RUNS, workers: 2, timeoutSeconds: 600 },
  // The worker in workerd (Miniflare), with at most a Node runner beside it.
  {
    name: 'edge',
    include: ['test/worker/**/*.test.ts', ...WORKERD_ONLY_RUNNER_TESTS],
    exclude: SLOW_EDGE,
    workers: 1,
  },
  // Chromium, Deno runners on WebGPU, randomised (fuzz) and load runs.
  {
    name: 'e2e',
    include: ['test/browser/**/*.test.ts', 'test/runner/**/*.test.ts', ...SLOW_EDGE],
    exclude: WORKERD_ONLY_RUNNER_TESTS,
    workers: 1,
  },
];

export default defineConfig({
  resolve: {
    // One tfjs-core instance: every tfjs package's ESM build, as the esbuild bundles have it. Tests
    // run server side, where a bare tfjs package resolved to its `main` (the CJS bundle; `mainFields`
    // did not change that), and a CJS tfjs package `require`s a second, CJS tfjs-core. tfjs-layers'
    // bundle also re-registered tfjs's stock gradients over the core's portable ones
    // (src/core/gradients) when it loaded after src/core/tf.ts: hidden inside one file by import
    // order, but in the unit tier's shared process (`isolate: false`) every file after the first
    // that loaded a TF.js model ran the stock Conv2D gradient, whose kernel wasm lacks.
    // The packages the tests import come pre-built, one tfjs-core inside (test/tfjs-prebundle.ts):
    // Node loads them itself instead of Vite transforming tfjs's files in every test process. Any
    // other tfjs package still resolves to its ESM build, inlined, and so to the same tfjs-core.
    alias: [
      ...(await prebundleTfjs(root)),
      { find: /^@tensorflow\/(tfjs-[a-z-]+)$/, replacement: `${tensorflowPackages}$1/dist/index.js` },
    ],
    mainFields: ['module', 'main'],
  },
  test: {
    server: { deps: { inline: [/@tensorflow\//] } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: TIERS.map(({ name, include, exclude, workers, isolate = true, timeoutSeconds }, groupOrder) => ({
      extends: true,
      test: {
        name,
        include,
        exclude,
        maxWorkers: workers,
        isolate,
        sequence: { groupOrder },
        ...(timeoutSeconds ? { testTimeout: timeoutSeconds * 1000, hookTimeout: timeoutSeconds * 1000 } : {}),
      },
    })),
  },
});
