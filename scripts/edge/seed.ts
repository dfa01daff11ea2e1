/**
 * `npm run seed:edge`: computes the built-in precomputed results the edge serves (ranking sums,
 * histograms, accuracy curves, corner cases, directions for every classifier, on the default sweep) with the
 * same models the asset build packages, and writes them to data/precomputed/ keyed by
 * content hash. Rerun it whenever the generator or a classifier changes (the asset build warns).
 *
 * Options: --count N (population size; default DEFAULT_SWEEP.count, which the API's default
 * queries use), --backend cpu|wasm (default wasm), --only embeddings|directions (add that kind to
 * the existing results, from their stored ranking sums, with the models they were computed with).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { enumOption, intOption, parseOptions } from '../../src/node/args.js';
import { useBackend, isNodeBackend } from '../../src/node/backend.js';
import * as tf from '../../src/core/tf.js';
import { rankingSweep } from '../../src/core/analysis/ranking.js';
import {
  accuracyCurvesResult,
  compactResult,
  cornerCasesResult,
  directionsResult,
  histogramsResult,
  resultPopulation,
  type ResultInput,
} from '../../src/core/analysis/derived-results.js';
import type { AnalysisModels } from '../../src/core/analysis/analysis-models.js';
import type { RankingSums } from '../../src/core/analysis/ranking.js';
import {
  DEFAULT_OPTIONS,
  DEFAULT_SWEEP,
  RESULT_SCHEMA,
  comparedClassifiers,
  resultKey,
  type ResultKind,
  type ResultsIndex,
  type StoredResult,
  type SweepSpec,
} from '../../src/protocol/result-keys.js';
import { PRECOMPUTED_DIR } from './assets.js';
import { buildEdgeModels, pinGenerator, resolveEdgeModels } from './sources.js';
import { EMBEDDINGS_KIND, EMBEDDINGS_OPTIONS, embeddingsKey } from '../../src/worker/embeddings.js';
import { computeEmbeddings } from './seed-embeddings.js';

const USAGE = 'usage: npm run seed:edge [-- --backend cpu|wasm] [--only embeddings|directions] [--count N]';

async function main(): Promise<void> {
  const args = parseOptions(
    process.argv.slice(2),
    { backend: { type: 'string', default: 'wasm' }, only: { type: 'string' }, count: { type: 'string' } },
    USAGE,
  );
  const backend = args.backend;
  if (!isNodeBackend(backend)) throw new Error(`--backend must be cpu or wasm, got ${backend}`);
  await useBackend(backend);
  if (args.only !== undefined) {
    const only = enumOption(args.only, 'only', ['embeddings', 'directions'] as const);
    return only === 'embeddings' ? seedEmbeddingsOnly() : seedDirectionsOnly();
  }
  const sweep: SweepSpec = {
    seed: DEFAULT_SWEEP.seed,
    count: intOption(args.count ?? DEFAULT_SWEEP.count, 'count', 1),
  };
  const edge = resolveEdgeModels(process.cwd(), { fresh: true });
  if (edge.classifiers.length === 0)
    throw new Error('no classifier weights under weights/: train them first (npm run train:classifier)');
  const { generator, generatorId, classifiers } = buildEdgeModels(edge);
  if (edge.generator?.entry.source === 'checkpoint') pinGenerator(edge.generator);
  console.log(
    `seed:edge: generator ${edge.generator?.entry.label ?? 'random-init placeholder'} (${generatorId.slice(0, 12)}), ` +
      `${edge.classifiers.length} classifier(s), sweep seed ${sweep.seed} count ${sweep.count}, backend ${backend}`,
  );

  const modelsOf = (c: (typeof classifiers)[number]): AnalysisModels => ({
    generator,
    classifier: c.model,
    generatorId,
    classifierId: c.id,
  });

  rmSync(PRECOMPUTED_DIR, { recursive: true, force: true });
  mkdirSync(PRECOMPUTED_DIR, { recursive: true });
  const index: ResultsIndex = {
    schema: 'faultlines.edge-results-index/1',
    generatedAt: new Date().toISOString(),
    entries: [],
  };
  const write = (kind: ResultKind, c: (typeof classifiers)[number], payload: unknown, seconds: number) => {
    const options = DEFAULT_OPTIONS[kind];
    const key = resultKey({ kind, generatorId, classifierId: c.id, sweep, options });
    const stored: StoredResult = {
      schema: RESULT_SCHEMA,
      key,
      kind,
      generatorId,
      classifierId: c.id,
      classifier: c.name,
      sweep,
      options,
      computed: {
        by: 'npm run seed:edge',
        backend: tf.getBackend(),
        seconds: Math.round(seconds * 10) / 10,
        at: new Date().toISOString(),
      },
      payload: compactResult(payload),
    };
    const text = JSON.stringify(stored);
    writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
    index.entries.push({ key, kind, classifier: c.name, generatorId, classifierId: c.id, sweep, bytes: text.length });
    console.log(`  ${kind} ${c.name}: ${(text.length / 1024).toFixed(0)} KiB, ${seconds.toFixed(1)} s`);
  };

  // The population of each classifier (the same styles for all), shared by its histograms and curves.
  const pops = [];
  for (const c of classifiers) {
    const t0 = Date.now();
    pops.push({ c, pop: await resultPopulation({ models: modelsOf(c), sweep }), seconds: (Date.now() - t0) / 1000 });
  }
  // Derived results are computed by src/core/analysis/derived-results.ts (as runners compute them) from the
  // sums as stored, which /v1/rankings and a runner read back.
  for (const { c, pop, seconds: popSeconds } of pops) {
    const models = modelsOf(c);
    let t0 = Date.now();
    const sums = compactResult(await rankingSweep(models, { ...sweep, classIndex: null }, { batchSize: 50 }));
    write('ranking-sums', c, sums, (Date.now() - t0) / 1000);
    const input: ResultInput = { models, name: c.name, sweep, sums };

    t0 = Date.now();
    write(
      'histograms',
      c,
      await histogramsResult(input, DEFAULT_OPTIONS.histograms, pop),
      popSeconds + (Date.now() - t0) / 1000,
    );

    t0 = Date.now();
    const compare = comparedClassifiers(
      classifiers.map((o) => ({ ...o, sha256: o.id })),
      c.id,
    ).map((o) => ({ name: o.name, classifier: o.model, classifierId: o.id }));
    write(
      'accuracy-curves',
      c,
      await accuracyCurvesResult(input, DEFAULT_OPTIONS['accuracy-curves'], compare, pop),
      popSeconds + (Date.now() - t0) / 1000,
    );

    t0 = Date.now();
    write(
      'corner-cases',
      c,
      await cornerCasesResult(input, DEFAULT_OPTIONS['corner-cases'], pop),
      (Date.now() - t0) / 1000,
    );

    t0 = Date.now();
    write(
      'directions',
      c,
      await directionsResult(input, DEFAULT_OPTIONS.directions, compare),
      (Date.now() - t0) / 1000,
    );
  }
  await writeEmbeddings(classifiers.map(modelsOf), sweep, index);
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
  const total = readdirSync(PRECOMPUTED_DIR).length;
  console.log(
    `seed:edge: wrote ${total} files to ${PRECOMPUTED_DIR}; rebuild the worker assets with npm run build:edge`,
  );
}

/**
 * `--only directions`: adds the directions of every classifier to the existing results, derived from
 * their stored ranking sums (as a runner derives them) with the models they were computed with.
 */
async function seedDirectionsOnly(): Promise<void> {
  const index = JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), 'utf8')) as ResultsIndex;
  const sumsEntries = index.entries.filter((e) => e.kind === 'ranking-sums');
  if (sumsEntries.length === 0) throw new Error('no precomputed ranking sums: run npm run seed:edge');
  const models = loadSeededModels(sumsEntries[0].generatorId);
  const byId = new Map(models.map((m) => [m.classifierId, m]));
  index.entries = index.entries.filter((e) => e.kind !== 'directions');
  for (const e of sumsEntries) {
    const m = byId.get(e.classifierId);
    if (!m)
      throw new Error(
        `the precomputed sums of ${e.classifier} are for classifier weights ` +
          `${e.classifierId.slice(0, 12)}, not under weights/: run the whole npm run seed:edge`,
      );
    const sums = (
      JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, `${e.key}.json`), 'utf8')) as StoredResult<RankingSums>
    ).payload;
    const compare = comparedClassifiers(
      models.map((o) => ({ ...o, sha256: o.classifierId })),
      m.classifierId,
    ).map((o) => ({
      name: o.classifier.name,
      classifier: o.classifier,
      classifierId: o.classifierId,
    }));
    const t0 = Date.now();
    const payload = await directionsResult(
      { models: m, name: e.classifier, sweep: e.sweep, sums },
      DEFAULT_OPTIONS.directions,
      compare,
    );
    const options = DEFAULT_OPTIONS.directions;
    const key = resultKey({
      kind: 'directions',
      generatorId: m.generatorId,
      classifierId: m.classifierId,
      sweep: e.sweep,
      options,
    });
    const stored: StoredResult = {
      schema: RESULT_SCHEMA,
      key,
      kind: 'directions',
      generatorId: m.generatorId,
      classifierId: m.classifierId,
      classifier: e.classifier,
      sweep: e.sweep,
      options,
      computed: {
        by: 'npm run seed:edge -- --only directions',
        backend: tf.getBackend(),
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        at: new Date().toISOString(),
      },
      payload,
    };
    const text = JSON.stringify(stored);
    writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
    index.entries.push({
      key,
      kind: 'directions',
      classifier: e.classifier,
      generatorId: m.generatorId,
      classifierId: m.classifierId,
      sweep: e.sweep,
      bytes: text.length,
    });
    console.log(
      `  directions ${e.classifier}: ${(text.length / 1024).toFixed(0)} KiB, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
}

/** Embeddings (figure 3) for every classifier, added to `index` (replacing earlier ones). */
async function writeEmbeddings(models: AnalysisModels[], sweep: SweepSpec, index: ResultsIndex): Promise<void> {
  const t0 = Date.now();
  const payloads = await computeEmbeddings(models, sweep);
  index.entries = index.entries.filter((e) => e.kind !== EMBEDDINGS_KIND);
  for (const m of models) {
    const key = embeddingsKey(m.generatorId, m.classifierId, sweep);
    const stored = {
      schema: RESULT_SCHEMA,
      key,
      kind: EMBEDDINGS_KIND,
      generatorId: m.generatorId,
      classifierId: m.classifierId,
      classifier: m.classifier.name,
      sweep,
      options: EMBEDDINGS_OPTIONS,
      computed: {
        by: 'npm run seed:edge',
        backend: tf.getBackend(),
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        at: new Date().toISOString(),
      },
      payload: payloads.get(m.classifier.name),
    };
    const text = JSON.stringify(stored);
    writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
    index.entries.push({
      key,
      kind: EMBEDDINGS_KIND,
      classifier: m.classifier.name,
      generatorId: m.generatorId,
      classifierId: m.classifierId,
      sweep,
      bytes: text.length,
    });
    console.log(`  embeddings ${m.classifier.name}: ${(text.length / 1024).toFixed(0)} KiB`);
  }
  console.log(`  embeddings: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** `--only embeddings`: adds the embeddings to the existing results, with the models they were computed with (the pinned generator). */
async function seedEmbeddingsOnly(): Promise<void> {
  const index = JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), 'utf8')) as ResultsIndex;
  const first = index.entries.find((e) => e.kind !== EMBEDDINGS_KIND);
  if (!first) throw new Error('no precomputed results: run npm run seed:edge');
  await writeEmbeddings(loadSeededModels(first.generatorId), first.sweep, index);
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
}

/** The models under weights/ (the pinned generator), checked to be those of the seeded results (`generatorId`). */
function loadSeededModels(seededGeneratorId: string): AnalysisModels[] {
  const { generator, generatorId, classifiers } = buildEdgeModels(resolveEdgeModels(process.cwd()));
  if (generatorId !== seededGeneratorId)
    throw new Error(
      `the precomputed results are for generator ${seededGeneratorId.slice(0, 12)}, ` +
        `the available one is ${generatorId.slice(0, 12)}: run the whole npm run seed:edge`,
    );
  return classifiers.map((c) => ({
    generator,
    generatorId,
    classifierId: c.id,
    classifier: c.model,
  }));
}

await main();
