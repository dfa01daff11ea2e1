/**
 * The import layering of src/, enforced by `npm run lint:layers` (part of `npm test`):
 *
 *   core  <-  protocol  <-  { worker, gpu-runner, node, widgets, dashboard }
 *
 * Why dependency-cruiser: it is made for exactly this (rules over the resolved import graph, with
 * type-only imports and Node built-ins told apart), it reads TypeScript through the project's
 * tsconfig without a build, and it needs no linter set-up of its own — Biome, the project's linter,
 * has no path-based import restrictions, and eslint's `import/no-restricted-paths` would bring a
 * second linter with its own parser only for this. v17 because v18 needs Node 22 (engines: >=20).
 *
 * Each rule's comment says why the arrow is forbidden; `npx depcruise src --output-type dot` draws
 * the graph.
 */
/** Node's own modules (node:fs, fs, path, worker_threads, ...): resolved as dependency type "core". */
const NODE_BUILTIN = { dependencyTypes: ['core'] };

module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-other-layer',
      comment:
        'src/core is the deterministic method shared by every runtime: it may import only itself, ' +
        '@tensorflow/tfjs-core and pure libraries, never another src/ folder.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'protocol-imports-only-core',
      comment:
        'src/protocol is the runtime-free contract between worker, runners, widgets and seeding: it ' +
        'may import src/core and nothing else under src/.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/', pathNot: '^src/(core|protocol)/' },
    },
    {
      name: 'no-node-api-in-core-or-protocol',
      comment: 'src/core and src/protocol run in workerd, browsers and Deno too: no Node built-in module.',
      severity: 'error',
      from: { path: '^src/(core|protocol)/' },
      to: NODE_BUILTIN,
    },
    {
      name: 'runtimes-do-not-import-each-other',
      comment:
        'worker, gpu-runner, node and widgets each build on core and protocol only: an arrow between ' +
        'two of them ties one runtime to another (what they share belongs in protocol or core).',
      severity: 'error',
      from: { path: '^src/(worker|gpu-runner|node|widgets)/' },
      to: { path: '^src/(worker|gpu-runner|node|widgets|dashboard)/', pathNot: '^src/$1/' },
    },
    {
      name: 'dashboard-imports-only-widgets',
      comment: 'The dashboard page is made of the widgets; it imports no other runtime.',
      severity: 'error',
      from: { path: '^src/dashboard/' },
      to: { path: '^src/(worker|gpu-runner|node)/' },
    },
    {
      name: 'worker-runtime-has-no-node-api',
      comment:
        'The worker runs in workerd without nodejs_compat (wrangler.toml): no Node built-in module ' +
        'anywhere under src/worker (its Node-side build and seed scripts live in scripts/edge/).',
      severity: 'error',
      from: { path: '^src/worker/' },
      to: NODE_BUILTIN,
    },
    {
      name: 'src-does-not-import-scripts',
      comment:
        'Build, seed and fixture scripts (scripts/) are Node programs that use src/; no runtime ' +
        'under src/ may reach into them (not even for a type): what both need belongs in src/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(scripts|test|bench)/' },
    },
    {
      name: 'only-app-imports-routes',
      comment:
        'A route file registers its endpoints; only app.ts imports it. No route imports another, and ' +
        'no other worker file reaches into one: what routes share (result lookup, job views, model ' +
        'ids, inference) lives in src/worker/services/.',
      severity: 'error',
      from: { path: '^src/worker/', pathNot: '^src/worker/app[.]ts$' },
      to: { path: '^src/worker/routes/' },
    },
    {
      name: 'browser-bundles-have-no-node-api',
      comment: 'widgets and the dashboard are browser bundles: no Node built-in module.',
      severity: 'error',
      from: { path: '^src/(widgets|dashboard)/' },
      to: NODE_BUILTIN,
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type import from another runtime still ties the two together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: {
      dot: { collapsePattern: '^src/[^/]+/' },
    },
  },
};
