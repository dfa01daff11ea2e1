import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const tfjsCoreEsm = fileURLToPath(new URL('./node_modules/@tensorflow/tfjs-core/dist/index.js', import.meta.url));

export default defineConfig({
  resolve: {
    // One tfjs-core instance: its ESM build everywhere (the core's `register_all_gradients` import is
    // ESM-only), including inside the backends, which would otherwise load the CJS bundle.
    alias: [{ find: /^@tensorflow\/tfjs-core$/, replacement: tfjsCoreEsm }],
    mainFields: ['module', 'main'],
  },
  test: {
    include: ['test/**/*.test.ts'],
    server: { deps: { inline: [/@tensorflow\//] } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: test files run one at a time to keep timings and memory predictable.
    fileParallelism: false,
  },
});
