/**
 * `npm run seed:edge [-- --domain NAME]`: computes one domain's built-in precomputed results the edge
 * serves (ranking sums, histograms, accuracy curves, corner cases, directions and embeddings of every
 * built-in classifier of the domain, on the default sweep) with the same models the asset build
 * packages, and writes them to data/precomputed/ keyed by content hash (outside the default domain
 * the domain is part of every key and entry). The other domains' results are kept: one command per
 * domain. Rerun it whenever the domain's generator or a classifier changes (the asset build warns,
 * test/worker/edge-sources.test.ts fails).
 *
 * Options: --domain mnist|fashion|colored-mnist (default mnist: `weights/`; another: `weights/<domain>/`,
 * whose trained generator must be there), --count N (population size; default DEFAULT_SWEEP.count,
 * which the API's default queries use), --backend cpu|wasm (default wasm), --only embeddings|directions
 * (add that kind to the domain's existing results, from their stored ranking sums, with the models they
 * were computed with).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { DEFAULT_DOMAIN, domainNames } from '../../src/core/data/domain.js';
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
import { domainField } from '../../src/protocol/catalog.js';
import { PRECOMPUTED_DIR, seedCommand } from './assets.js';
import {
  buildEdgeModels,
  pinGenerator,
  resolveDomainEdgeModels,
  resolveEdgeModels,
  type EdgeModels,
} from './sources.js';
import { EMBEDDINGS_OPTIONS } from '../../src/worker/embeddings.js';
import { computeEmbeddings } from './seed-embeddings.js';

const USAGE =
  'usage: npm run seed:edge [-- --domain NAME] [--backend cpu|wasm] [--only embeddings|directions] [--count N]';

/** A domain's built-in models as the seeding computes with them, with the ids its results are keyed by. */
interface SeedModels {
  domain: string;
  generatorId: string;
  models: AnalysisModels[];
}

/** The packaged models of `domain` (`fresh`: the newest MNIST checkpoint, pinned for the asset build). */
function domainEdgeModels(domain: string, fresh: boolean): EdgeModels {
  if (domain === DEFAULT_DOMAIN) return resolveEdgeModels(process.cwd(), { fresh });
  const found = resolveDomainEdgeModels(process.cwd()).find((d) => d.domain.name === domain);
  if (!found?.models.generator)
    throw new Error(
      `domain ${domain} has no trained generator under weights/${domain}/generator/: ` +
        'its results are of generated samples (export the generator first)',
    );
  return found.models;
}

function seedModels(domain: string, edge: EdgeModels): SeedModels {
  const { generator, generatorId, classifiers } = buildEdgeModels(edge);
  return {
    domain,
    generatorId,
    models: classifiers.map((c) => ({ generator, generatorId, classifier: c.model, classifierId: c.id })),
  };
}

/** The other classifiers of the domain an accuracy-curves or directions result measures beside `m`. */
function comparedWith(all: SeedModels, m: AnalysisModels) {
  return comparedClassifiers(
    all.models.map((o) => ({ ...o, sha256: o.classifierId })),
    m.classifierId,
  ).map((o) => ({ name: o.classifier.name, classifier: o.classifier, classifierId: o.classifierId }));
}

function readIndex(): ResultsIndex {
  const file = path.join(PRECOMPUTED_DIR, 'index.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as ResultsIndex)
    : { schema: 'faultlines.edge-results-index/1', generatedAt: '', entries: [] };
}

const ofDomain = (domain: string) => (e: { domain?: string }) => (e.domain ?? DEFAULT_DOMAIN) === domain;

/**
 * Writes the index with `domain`'s time of seeding (the default domain's in `generatedAt`, as before
 * domains, so its listing is unchanged by another domain's seeding), and removes result files no
 * entry names (the replaced results of this domain).
 */
function writeIndex(index: ResultsIndex, domain: string): void {
  const at = new Date().toISOString();
  if (domain === DEFAULT_DOMAIN) index.generatedAt = at;
  else index.domainsGeneratedAt = { ...index.domainsGeneratedAt, [domain]: at };
  writeFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), JSON.stringify(index, null, 1));
  const kept = new Set(index.entries.map((e) => `${e.key}.json`));
  for (const f of readdirSync(PRECOMPUTED_DIR))
    if (/^[0-9a-f]{64}\.json$/.test(f) && !kept.has(f)) rmSync(path.join(PRECOMPUTED_DIR, f));
}

/** Stores one result of `m` in data/precomputed and in `index` (replacing an entry of the same key). */
function storeResult(
  index: ResultsIndex,
  seed: SeedModels,
  m: AnalysisModels,
  r: { kind: ResultKind; sweep: SweepSpec; payload: unknown; seconds: number; by: string },
): void {
  const options = DEFAULT_OPTIONS[r.kind];
  const domain = domainField(seed.domain);
  const ids = { generatorId: seed.generatorId, classifierId: m.classifierId };
  const key = resultKey({ kind: r.kind, ...ids, sweep: r.sweep, options, ...domain });
  const stored: StoredResult = {
    schema: RESULT_SCHEMA,
    key,
    kind: r.kind,
    ...domain,
    ...ids,
    classifier: m.classifier.name,
    sweep: r.sweep,
    options,
    computed: {
      by: r.by,
      backend: tf.getBackend(),
      seconds: Math.round(r.seconds * 10) / 10,
      at: new Date().toISOString(),
    },
    payload: compactResult(r.payload),
  };
  const text = JSON.stringify(stored);
  writeFileSync(path.join(PRECOMPUTED_DIR, `${key}.json`), text);
  index.entries = index.entries.filter((e) => e.key !== key);
  index.entries.push({
    key,
    kind: r.kind,
    ...domain,
    classifier: m.classifier.name,
    ...ids,
    sweep: r.sweep,
    bytes: text.length,
  });
  console.log(`  ${r.kind} ${m.classifier.name}: ${(text.length / 1024).toFixed(0)} KiB, ${r.seconds.toFixed(1)} s`);
}

const secondsSince = (t0: number) => (Date.now() - t0) / 1000;

async function main(): Promise<void> {
  const args = parseOptions(
    process.argv.slice(2),
    {
      backend: { type: 'string', default: 'wasm' },
      only: { type: 'string' },
      count: { type: 'string' },
      domain: { type: 'string', default: DEFAULT_DOMAIN },
    },
    USAGE,
  );
  const backend = args.backend;
  if (!isNodeBackend(backend)) throw new Error(`--backend must be cpu or wasm, got ${backend}`);
  const domain = enumOption(args.domain, 'domain', domainNames());
  await useBackend(backend);
  mkdirSync(PRECOMPUTED_DIR, { recursive: true });
  if (args.only !== undefined) {
    const only = enumOption(args.only, 'only', ['embeddings', 'directions'] as const);
    return only === 'embeddings' ? seedEmbeddingsOnly(domain) : seedDirectionsOnly(domain);
  }
  const sweep: SweepSpec = {
    seed: DEFAULT_SWEEP.seed,
    count: intOption(args.count ?? DEFAULT_SWEEP.count, 'count', 1),
  };
  const edge = domainEdgeModels(domain, true);
  if (edge.classifiers.length === 0)
    throw new Error(
      `no classifier weights of domain ${domain} under weights/: train them first (npm run train:classifier)`,
    );
  const seed = seedModels(domain, edge);
  if (edge.generator?.entry.source === 'checkpoint') pinGenerator(edge.generator);
  const started = Date.now();
  console.log(
    `seed:edge: domain ${domain}, generator ${edge.generator?.entry.label ?? 'random-init placeholder'} ` +
      `(${seed.generatorId.slice(0, 12)}), ${seed.models.length} classifier(s), sweep seed ${sweep.seed} ` +
      `count ${sweep.count}, backend ${backend}`,
  );
  // This domain's results are replaced; the other domains' stay.
  const index = readIndex();
  index.entries = index.entries.filter((e) => !ofDomain(domain)(e));
  const by = seedCommand(domain);
  const store = (m: AnalysisModels, kind: ResultKind, payload: unknown, seconds: number) =>
    storeResult(index, seed, m, { kind, sweep, payload, seconds, by });

  // The population of each classifier (the same styles for all), shared by its histograms and curves.
  const pops = [];
  for (const m of seed.models) {
    const t0 = Date.now();
    pops.push({ m, pop: await resultPopulation({ models: m, sweep }), seconds: secondsSince(t0) });
  }
  // Derived results are computed by src/core/analysis/derived-results.ts (as runners compute them) from the
  // sums as stored, which /v1/rankings and a runner read back.
  for (const { m, pop, seconds: popSeconds } of pops) {
    let t0 = Date.now();
    const sums = compactResult(await rankingSweep(m, { ...sweep, classIndex: null }, { batchSize: 50 }));
    store(m, 'ranking-sums', sums, secondsSince(t0));
    const input: ResultInput = { models: m, name: m.classifier.name, sweep, sums };
    const compare = comparedWith(seed, m);

    t0 = Date.now();
    const histograms = await histogramsResult(input, DEFAULT_OPTIONS.histograms, pop);
    store(m, 'histograms', histograms, popSeconds + secondsSince(t0));
    t0 = Date.now();
    const curves = await accuracyCurvesResult(input, DEFAULT_OPTIONS['accuracy-curves'], compare, pop);
    store(m, 'accuracy-curves', curves, popSeconds + secondsSince(t0));
    t0 = Date.now();
    store(m, 'corner-cases', await cornerCasesResult(input, DEFAULT_OPTIONS['corner-cases'], pop), secondsSince(t0));
    t0 = Date.now();
    store(m, 'directions', await directionsResult(input, DEFAULT_OPTIONS.directions, compare), secondsSince(t0));
  }
  await writeEmbeddings(seed, sweep, index, by);
  writeIndex(index, domain);
  console.log(
    `seed:edge: domain ${domain}: ${index.entries.filter(ofDomain(domain)).length} results in ` +
      `${secondsSince(started).toFixed(0)} s, written to ${PRECOMPUTED_DIR}; rebuild the worker assets with npm run build:edge`,
  );
}

/** The domain's stored ranking sums, by classifier id (at least one, else it says what to run). */
function storedSums(index: ResultsIndex, domain: string) {
  const entries = index.entries.filter((e) => e.kind === 'ranking-sums' && ofDomain(domain)(e));
  if (entries.length === 0)
    throw new Error(`no precomputed ranking sums of domain ${domain}: run ${seedCommand(domain)}`);
  return entries;
}

/**
 * `--only directions`: adds the directions of every classifier of the domain to its existing results,
 * derived from their stored ranking sums (as a runner derives them) with the models they were computed with.
 */
async function seedDirectionsOnly(domain: string): Promise<void> {
  const index = readIndex();
  const sumsEntries = storedSums(index, domain);
  const seed = loadSeededModels(domain, sumsEntries[0].generatorId);
  const byId = new Map(seed.models.map((m) => [m.classifierId, m]));
  index.entries = index.entries.filter((e) => !(e.kind === 'directions' && ofDomain(domain)(e)));
  for (const e of sumsEntries) {
    const m = byId.get(e.classifierId);
    if (!m)
      throw new Error(
        `the precomputed sums of ${e.classifier} are for classifier weights ` +
          `${e.classifierId.slice(0, 12)}, not under weights/: run the whole ${seedCommand(domain)}`,
      );
    const sums = (
      JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, `${e.key}.json`), 'utf8')) as StoredResult<RankingSums>
    ).payload;
    const t0 = Date.now();
    const payload = await directionsResult(
      { models: m, name: e.classifier, sweep: e.sweep, sums },
      DEFAULT_OPTIONS.directions,
      comparedWith(seed, m),
    );
    storeResult(index, seed, m, {
      kind: 'directions',
      sweep: e.sweep,
      payload,
      seconds: secondsSince(t0),
      by: seedCommand(domain, '--only directions'),
    });
  }
  writeIndex(index, domain);
}

/** Embeddings (figure 3) for every classifier of the domain, added to `index` (replacing earlier ones). */
async function writeEmbeddings(seed: SeedModels, sweep: SweepSpec, index: ResultsIndex, by: string): Promise<void> {
  const t0 = Date.now();
  const payloads = await computeEmbeddings(seed.models, sweep);
  const seconds = secondsSince(t0);
  for (const m of seed.models)
    storeResult(index, seed, m, { kind: 'embeddings', sweep, payload: payloads.get(m.classifier.name), seconds, by });
  console.log(`  embeddings: ${seconds.toFixed(1)} s (options ${JSON.stringify(EMBEDDINGS_OPTIONS)})`);
}

/** `--only embeddings`: adds the embeddings to the domain's existing results, with the models they were computed with. */
async function seedEmbeddingsOnly(domain: string): Promise<void> {
  const index = readIndex();
  const first = storedSums(index, domain)[0];
  await writeEmbeddings(
    loadSeededModels(domain, first.generatorId),
    first.sweep,
    index,
    seedCommand(domain, '--only embeddings'),
  );
  writeIndex(index, domain);
}

/** The domain's packaged models (MNIST: the pinned generator), checked to be those of its seeded results. */
function loadSeededModels(domain: string, seededGeneratorId: string): SeedModels {
  const seed = seedModels(domain, domainEdgeModels(domain, false));
  if (seed.generatorId !== seededGeneratorId)
    throw new Error(
      `the precomputed results of domain ${domain} are for generator ${seededGeneratorId.slice(0, 12)}, ` +
        `the available one is ${seed.generatorId.slice(0, 12)}: run the whole ${seedCommand(domain)}`,
    );
  return seed;
}

await main();
