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
const TIERS = [
  // The core and the Node CLI: no workerd, no browser, no Deno.
  { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/worker/**', 'test/runner/**', 'test/browser/**'] },
  // The worker in workerd (Miniflare), with at most a Node runner beside it.
  { name: 'edge', include: ['test/worker/**/*.test.ts', ...WORKERD_ONLY_RUNNER_TESTS], exclude: SLOW_EDGE },
  // Chromium, Deno runners on WebGPU, randomised (fuzz) and load runs.
  { name: 'e2e', include: ['test/browser/**/*.test.ts', 'test/runner/**/*.test.ts', ...SLOW_EDGE], exclude: WORKERD_ONLY_RUNNER_TESTS },
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
    // Two cores: test files run one at a time to keep timings and memory predictable.
    fileParallelism: false,
    projects: TIERS.map(({ name, include, exclude }) => ({ extends: true, test: { name, include, exclude } })),
  },
});
