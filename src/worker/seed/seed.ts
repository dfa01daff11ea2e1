/**
 * `npm run seed:edge`: computes the built-in precomputed results the edge serves (ranking sums,
 * histograms, accuracy curves, corner cases for every classifier, on the default sweep) with the
 * same models the asset build packages, and writes them to src/worker/precomputed/ keyed by
 * content hash. Rerun it whenever the generator or a classifier changes (the asset build warns).
 *
 * Options: --count N (population size; default DEFAULT_SWEEP.count, which the API's default
 * queries use), --backend cpu|wasm (default wasm).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useBackend, isNodeBackend } from '../../node/backend.js';
import * as tf from '../../core/tf.js';
import { SimpleCnn, parseCnnConfig } from '../../core/classifier/simple-cnn.js';
import { DEFAULT_GENERATOR } from '../../core/generator/architecture.js';
import { Generator } from '../../core/generator/generator.js';
import { decodeWeights } from '../../core/weights/codec.js';
import { rankDimensions, rankingSweep } from '../../core/analysis/ranking.js';
import { samplePopulation } from '../../core/analysis/population.js';
import { styleHistograms } from '../../core/analysis/histograms.js';
import { accuracyCurves } from '../../core/analysis/accuracy-curve.js';
import { findCornerCases } from '../../core/analysis/corner-cases.js';
import { gridPng } from '../../core/image/png.js';
import type { AnalysisModels } from '../../core/analysis/models.js';
import { DEFAULT_OPTIONS, DEFAULT_SWEEP, RANDOM_INIT_ID, RANDOM_INIT_SEED, RESULT_SCHEMA, resultKey, type ResultKind, type ResultsIndex, type StoredResult, type SweepSpec } from '../catalog.js';
import { PRECOMPUTED_DIR } from '../build/assets.js';
import { pinGenerator, resolveEdgeModels } from '../build/sources.js';
import { EMBEDDINGS_KIND, EMBEDDINGS_OPTIONS, embeddingsKey } from '../embeddings.js';
import { computeEmbeddings } from './embeddings.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Rounds floats to 9 significant digits (JSON size) and turns typed arrays into arrays. */
function compact(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v, (x) => Number(x.toPrecision(9)));
    if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array);
    if (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v)) return Number(v.toPrecision(9));
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  }));
}

const pngUrl = (img: Float32Array) => `data:image/png;base64,${Buffer.from(gridPng([img], { size: 32, columns: 1, scale: 1, gap: 0 })).toString('base64')}`;

async function main(): Promise<void> {
  const backend = arg('backend') ?? 'wasm';
  if (!isNodeBackend(backend)) throw new Error(`--backend must be cpu or wasm, got ${backend}`);
  await useBackend(backend);
  if (arg('only') === 'embeddings') return seedEmbeddingsOnly();
  const sweep: SweepSpec = { seed: DEFAULT_SWEEP.seed, count: Number(arg('count') ?? DEFAULT_SWEEP.count) };
  const edge = resolveEdgeModels(process.cwd(), { fresh: true });
  if (edge.classifiers.length === 0) throw new Error('no classifier weights under weights/: train them first (npm run train:classifier)');
  let generator: Generator;
  let generatorId: string;
  if (edge.generator) {
    generator = Generator.fromWeights(edge.generator.manifest, decodeWeights(edge.generator.manifest, edge.generator.bytes), edge.generator.entry.name);
    generatorId = edge.generator.entry.sha256;
    if (edge.generator.entry.source === 'checkpoint') pinGenerator(edge.generator);
  } else {
    generator = new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED);
    generatorId = RANDOM_INIT_ID;
  }
  console.log(`seed:edge: generator ${edge.generator?.entry.label ?? 'random-init placeholder'} (${generatorId.slice(0, 12)}), ${edge.classifiers.length} classifier(s), sweep seed ${sweep.seed} count ${sweep.count}, backend ${backend}`);

  const classifiers = edge.classifiers.map((m) => {
    const file = `weights/${m.entry.name}/${m.manifest.weightsFile}`;
    return { name: m.entry.name, id: m.entry.sha256, model: SimpleCnn.fromWeights(m.entry.name, parseCnnConfig(m.manifest.architecture, file), decodeWeights(m.manifest, m.bytes, file), file) };
  });
  const modelsOf = (c: (typeof classifiers)[number]): AnalysisModels => ({ generator, classifier: c.model, generatorId, classifierId: c.id });

  rmSync(PRECOMPUTED_DIR, { recursive: true, force: true });
  mkdirSync(PRECOMPUTED_DIR, { recursive: true });
  const index: ResultsIndex = { schema: 'faultlines.edge-results-index/1', generatedAt: new Date().toISOString(), entries: [] };
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
      computed: { by: 'npm run seed:edge', backend: tf.getBackend(), seconds: Math.round(seconds * 10) / 10, at: new Date().toISOString() },
      payload: compact(payload),
    };
    const text = JSON.stringify(stored);
    writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
    index.entries.push({ key, kind, classifier: c.name, generatorId, classifierId: c.id, sweep, bytes: text.length });
    console.log(`  ${kind} ${c.name}: ${(text.length / 1024).toFixed(0)} KiB, ${seconds.toFixed(1)} s`);
  };

  // One population (same styles for every classifier): correctness per classifier.
  const pops = [];
  for (const c of classifiers) {
    const t0 = Date.now();
    pops.push({ c, pop: await samplePopulation(modelsOf(c), { ...sweep, classIndex: null, batchSize: 50 }), seconds: (Date.now() - t0) / 1000 });
  }
  for (const { c, pop, seconds: popSeconds } of pops) {
    const models = modelsOf(c);
    let t0 = Date.now();
    const sums = await rankingSweep(models, { ...sweep, classIndex: null }, { batchSize: 50 });
    write('ranking-sums', c, sums, (Date.now() - t0) / 1000);
    const ranking = rankDimensions(sums, generator.layout, null);

    t0 = Date.now();
    const ho = DEFAULT_OPTIONS.histograms as { top: number; random: number; bins: number; seed: number };
    write('histograms', c, styleHistograms(pop, { ranking: ranking.dims, ...ho }), popSeconds + (Date.now() - t0) / 1000);

    t0 = Date.now();
    const ao = DEFAULT_OPTIONS['accuracy-curves'] as { topDims: number; bins: number; centres: 'pooled' | 'per-class' };
    const others = Object.fromEntries(pops.filter((p) => p.c !== c).map((p) => [p.c.name, p.pop.correct]));
    write('accuracy-curves', c, accuracyCurves(pop, c.name, { ranking: ranking.dims, ...ao, labels: pop.labels }, others), popSeconds + (Date.now() - t0) / 1000);

    t0 = Date.now();
    const co = DEFAULT_OPTIONS['corner-cases'] as { perClass: number; maxCandidates: number; maxSteps: number; tolerance: number };
    const cc = await findCornerCases(models, sums, generator.layout, co);
    const slim = {
      ...cc,
      classes: cc.classes.map((k) => ({
        classIndex: k.classIndex,
        start: { pTrue: k.start.pTrue, predicted: k.start.predicted, image: pngUrl(k.start.image!) },
        cases: k.cases.map((x) => ({ dim: { index: x.dim.index, rank: x.dim.rank, layer: x.dim.layer, channel: x.dim.channel, score: x.dim.score, direction: x.dim.direction, std: x.dim.std }, shift: x.shift, pTrue: x.pTrue, predicted: x.predicted, newClass: x.newClass, image: pngUrl(x.image) })),
        skipped: k.skipped.map((x) => ({ dim: x.dim.index, reason: x.reason })),
      })),
    };
    write('corner-cases', c, slim, (Date.now() - t0) / 1000);
  }
  await writeEmbeddings(classifiers.map(modelsOf), sweep, index);
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
  const total = readdirSync(PRECOMPUTED_DIR).length;
  console.log(`seed:edge: wrote ${total} files to ${PRECOMPUTED_DIR}; rebuild the worker assets with npm run build:edge`);
}

/** Embeddings (figure 3) for every classifier, added to `index` (replacing earlier ones). */
async function writeEmbeddings(models: AnalysisModels[], sweep: SweepSpec, index: ResultsIndex): Promise<void> {
  const t0 = Date.now();
  const payloads = await computeEmbeddings(models, sweep);
  index.entries = index.entries.filter((e) => e.kind !== EMBEDDINGS_KIND);
  for (const m of models) {
    const key = embeddingsKey(m.generatorId, m.classifierId, sweep);
    const stored = { schema: RESULT_SCHEMA, key, kind: EMBEDDINGS_KIND, generatorId: m.generatorId, classifierId: m.classifierId, classifier: m.classifier.name, sweep, options: EMBEDDINGS_OPTIONS, computed: { by: 'npm run seed:edge', backend: tf.getBackend(), seconds: Math.round((Date.now() - t0) / 100) / 10, at: new Date().toISOString() }, payload: payloads.get(m.classifier.name) };
    const text = JSON.stringify(stored);
    writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
    index.entries.push({ key, kind: EMBEDDINGS_KIND, classifier: m.classifier.name, generatorId: m.generatorId, classifierId: m.classifierId, sweep, bytes: text.length });
    console.log(`  embeddings ${m.classifier.name}: ${(text.length / 1024).toFixed(0)} KiB`);
  }
  console.log(`  embeddings: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** `--only embeddings`: adds the embeddings to the existing results, with the models they were computed with (the pinned generator). */
async function seedEmbeddingsOnly(): Promise<void> {
  const index = JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), 'utf8')) as ResultsIndex;
  const first = index.entries.find((e) => e.kind !== EMBEDDINGS_KIND);
  if (!first) throw new Error('no precomputed results: run npm run seed:edge');
  const edge = resolveEdgeModels(process.cwd());
  const generator = edge.generator ? Generator.fromWeights(edge.generator.manifest, decodeWeights(edge.generator.manifest, edge.generator.bytes), edge.generator.entry.name) : new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED);
  const generatorId = edge.generator?.entry.sha256 ?? RANDOM_INIT_ID;
  if (generatorId !== first.generatorId) throw new Error(`the precomputed results are for generator ${first.generatorId.slice(0, 12)}, the available one is ${generatorId.slice(0, 12)}: run the whole npm run seed:edge`);
  const models: AnalysisModels[] = edge.classifiers.map((m) => {
    const file = `weights/${m.entry.name}/${m.manifest.weightsFile}`;
    return { generator, generatorId, classifierId: m.entry.sha256, classifier: SimpleCnn.fromWeights(m.entry.name, parseCnnConfig(m.manifest.architecture, file), decodeWeights(m.manifest, m.bytes, file), file) };
  });
  await writeEmbeddings(models, first.sweep, index);
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
}

await main();
