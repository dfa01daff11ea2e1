/**
 * Boots the real worker bundle in workerd (Miniflare, configured from wrangler.toml) on a free
 * loopback port. Builds the bundle and its assets first (`buildEdge`), then copies the assets to a
 * temporary folder the test may alter (a corrupted weights file, synthetic cached results).
 */
import { afterAll, beforeAll } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalWorkerd } from '../../scripts/edge/local-workerd.js';
import { buildEdge } from '../../scripts/edge/build.js';
import { generatorId, type Catalog } from '../../src/protocol/catalog.js';
import {
  DEFAULT_OPTIONS,
  DEFAULT_SWEEP,
  RESULTS_INDEX_PATH,
  RESULT_SCHEMA,
  resultKey,
  resultPath,
  type ResultKind,
  type ResultsIndex,
  type StoredResult,
  type SweepSpec,
} from '../../src/protocol/result-keys.js';
import { GeneratorArchitectureSchema } from '../../src/core/generator/architecture.js';
import { buildStyleLayout } from '../../src/core/generator/style-layout.js';
import {
  ACCURACY_CURVE_SCHEMA,
  CORNER_CASES_SCHEMA,
  DIRECTIONS_RESULT_SCHEMA,
  FLIP_SUFFICIENCY_SCHEMA,
  FRONTIER_SCHEMA,
  HISTOGRAMS_SCHEMA,
} from '../../src/core/analysis/schema-versions.js';

/** A 1x1 gray PNG as a data URL: the image of a synthetic corner case's start. */
const ONE_PIXEL_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==';

export const RUNNER_TOKEN = 'test-runner-token';
/** The submitter scope's secret (POST /v1/jobs); different from the runner's (src/worker/auth.ts). */
export const SUBMIT_TOKEN = 'test-submit-token';
/** Headers of a job submission with the submitter token. */
export const SUBMIT_AUTH = { authorization: `Bearer ${SUBMIT_TOKEN}` } as const;
/** The worker's secrets in tests (a developer's .dev.vars is never read). */
export const SECRETS = { RUNNER_TOKEN, SUBMIT_TOKEN };
/**
 * The read rate limit in tests: high, so the suites (the fuzzer sends 10,000+ requests from one
 * address) measure the API, not the limiter; test/worker/access.test.ts sets a small one.
 */
const TEST_READ_RATE_LIMIT = { limit: 1_000_000 };

let built: Promise<unknown> | null = null;
/** Builds dist/worker and dist/edge-assets once per test process. */
export function ensureBuilt(): Promise<unknown> {
  built ??= buildEdge({ quiet: true });
  return built;
}

export interface EdgeServer {
  url: URL;
  assets: string;
  catalog: Catalog;
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  /**
   * Stops workerd and starts it again on the same port and assets (a worker restart). Only with
   * `persist`: the Durable Objects' SQLite and KV then survive it, as they do on Cloudflare.
   */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface EdgeOptions {
  /** Keep the storage (job board, result KV, cache) in a folder of its own that survives `restart()`. */
  persist?: boolean;
  /** Vars beside the secrets (e.g. SERVER_TIMING). */
  vars?: Record<string, string>;
}

/**
 * One edge for a whole test file: started before its tests (built assets, altered by `alter` if
 * given), closed after them. Returns a getter (the edge exists only once `beforeAll` has run).
 */
export function edgeForFile(alter?: (assetsDir: string, catalog: Catalog) => void): () => EdgeServer {
  let edge: EdgeServer | undefined;
  beforeAll(async () => {
    edge = await startEdge(alter);
  }, 600_000);
  afterAll(async () => {
    await edge?.close();
  });
  return () => edge!;
}

/** A copy of the built assets, optionally altered before the server starts. */
export async function startEdge(
  alter?: (assetsDir: string, catalog: Catalog) => void,
  opts: EdgeOptions = {},
): Promise<EdgeServer> {
  await ensureBuilt();
  const assets = mkdtempSync(path.join(os.tmpdir(), 'faultlines-edge-'));
  cpSync('dist/edge-assets', assets, { recursive: true });
  const catalog = JSON.parse(readFileSync(path.join(assets, 'catalog.json'), 'utf8')) as Catalog;
  alter?.(assets, catalog);
  const persistDir = opts.persist ? mkdtempSync(path.join(os.tmpdir(), 'faultlines-state-')) : undefined;
  const bindings = { ...SECRETS, ...opts.vars };
  const started = await startLocalWorkerd(assets, bindings, { persistDir, readRateLimit: TEST_READ_RATE_LIMIT });
  const url = started.url;
  let mf = started.mf;
  return {
    url,
    assets,
    catalog,
    fetch: (pathname, init) => fetch(new URL(pathname, url), init),
    restart: async (downMs = 0) => {
      if (!persistDir) throw new Error('restart() needs startEdge(..., { persist: true }): the state would be lost');
      await mf.dispose();
      // Down for a while, as a real restart or deploy can be (runners must wait it out).
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      mf = (
        await startLocalWorkerd(assets, bindings, {
          persistDir,
          port: Number(url.port),
          readRateLimit: TEST_READ_RATE_LIMIT,
        })
      ).mf;
    },
    close: async () => {
      await mf.dispose();
      rmSync(assets, { recursive: true, force: true });
      if (persistDir) rmSync(persistDir, { recursive: true, force: true });
    },
  };
}

/** Synthetic ranking sums of the right shape (deterministic, no model needed). */
export function syntheticSums(catalog: Catalog, sweep: SweepSpec, specHash = 'synthetic') {
  const S = buildStyleLayout(GeneratorArchitectureSchema.parse(catalog.generatorArchitecture)).size;
  const K = 10;
  const per = Math.floor(sweep.count / K);
  const v = (i: number, a: number) => Math.sin(i * a) * 0.01;
  return {
    schema: 'faultlines.ranking-sums/1',
    specHash,
    ranges: [[0, per * K]],
    styleSize: S,
    numClasses: K,
    count: new Array(K).fill(per),
    correct: new Array(K).fill(Math.floor(per * 0.9)),
    gradSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) * per),
    gradSqSum: Array.from({ length: S * K }, (_, i) => v(i, 1.7) ** 2 * per + 1e-4),
    styleSum: Array.from({ length: S * K }, (_, i) => v(i, 0.3) * per),
    styleSqSum: Array.from({ length: S * K }, (_, i) => (v(i, 0.3) ** 2 + 0.25) * per),
  };
}

/**
 * Adds ranking sums of the default sweep for `domain`'s default classifier to the built-in results
 * in `assetsDir` (its index too), keyed as the worker keys them (the domain is part of the key),
 * unless the domain's precomputed ones are there and current; synthetic, of the right shape: for
 * tests of the serving per domain. Returns the key.
 */
export function addDomainSums(assetsDir: string, catalog: Catalog, domain: string): string {
  const models = catalog.domains!.find((d) => d.name === domain)!;
  const entry = {
    key: resultKey({
      kind: 'ranking-sums',
      generatorId: models.generator!.sha256,
      classifierId: models.classifiers[0].sha256,
      sweep: DEFAULT_SWEEP,
      domain,
    }),
    kind: 'ranking-sums' as const,
    domain,
    classifier: models.classifiers[0].name,
    generatorId: models.generator!.sha256,
    classifierId: models.classifiers[0].sha256,
    sweep: DEFAULT_SWEEP,
  };
  if (existsSync(path.join(assetsDir, resultPath(entry.key)))) return entry.key; // precomputed and current
  const body = JSON.stringify({
    schema: RESULT_SCHEMA,
    ...entry,
    options: {},
    computed: { command: 'test: synthetic' },
    payload: syntheticSums(catalog, DEFAULT_SWEEP),
  });
  writeFileSync(path.join(assetsDir, resultPath(entry.key)), body);
  const indexFile = path.join(assetsDir, RESULTS_INDEX_PATH);
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as ResultsIndex;
  index.entries.push({ ...entry, bytes: body.length });
  writeFileSync(indexFile, JSON.stringify(index));
  return entry.key;
}

/**
 * Writes a result for the default classifier into `assetsDir` unless the precomputed ones are
 * current (synthetic payloads: the tests check the serving, not the analysis).
 */
export function ensureCachedResults(assetsDir: string, catalog: Catalog): Record<ResultKind, string> {
  const cls = catalog.classifiers[0];
  const gid = generatorId(catalog);
  const keys = {} as Record<ResultKind, string>;
  // Stand-ins valid under the payload schemas a runner's result must pass (DERIVED_PAYLOAD_SCHEMAS),
  // so a test that checks a served result's shape checks the route, not a malformed stand-in.
  const start = { pTrue: 0.9, predicted: 3, image: ONE_PIXEL_PNG };
  const payloads: Record<ResultKind, unknown> = {
    'ranking-sums': syntheticSums(catalog, DEFAULT_SWEEP),
    histograms: {
      schema: HISTOGRAMS_SCHEMA,
      specHash: 'synthetic',
      wellCount: 1,
      misCount: 1,
      dims: [],
      meanKsTop: 0.5,
      meanKsRandom: 0.1,
    },
    'accuracy-curves': {
      schema: ACCURACY_CURVE_SCHEMA,
      specHash: 'synthetic',
      classIndex: null,
      dims: [],
      centredOn: 'well-classified',
      centres: 'per-class',
      normalisation: { scale: 1, percentile: 95, minDistance: 0, maxDistance: 1 },
      minCount: 20,
      bootstrap: { resamples: 200, seed: 1 },
      count: 1,
      curves: [],
    },
    'corner-cases': {
      schema: CORNER_CASES_SCHEMA,
      specHash: 'synthetic',
      maxSteps: 20,
      tolerance: 0.01,
      classes: [3, 4].map((classIndex) => ({
        classIndex,
        start: { ...start, predicted: classIndex },
        cases: [],
        skipped: [],
        counts: { tried: 0, pTrueHalf: 0, decision: 0 },
      })),
      flipSufficiency: {
        schema: FLIP_SUFFICIENCY_SCHEMA,
        ks: [],
        ts: [],
        seed: 1,
        samples: 0,
        randomDims: [],
        classifiers: [],
      },
      frontier: { schema: FRONTIER_SCHEMA, topDims: 3, maxSteps: 20, dims: [], classifiers: [] },
    },
    directions: {
      schema: DIRECTIONS_RESULT_SCHEMA,
      specHash: 'synthetic',
      classifiers: [cls.name],
      reference: null,
      all: { classIndex: null, dims: [], result: null, contrastiveOrder: null, why: [], strips: [] },
      classes: [3, 4].map((classIndex) => ({
        classIndex,
        dims: [],
        result: null,
        contrastiveOrder: null,
        why: [],
        strips: [],
      })),
    },
    embeddings: {
      schema: 'faultlines.embedding/1',
      count: 2,
      labels: [0, 1],
      correct: [1, 0],
      k: 1,
      spaces: (['Z', 'W', 'S'] as const).map((space) => ({
        space,
        dims: 2,
        points: [
          [0, 0],
          [1, 1],
        ],
        knnAuroc: 0.5,
      })),
    },
  };
  for (const kind of Object.keys(payloads) as ResultKind[]) {
    const key = resultKey({ kind, generatorId: gid, classifierId: cls.sha256, sweep: DEFAULT_SWEEP });
    keys[kind] = key;
    const file = path.join(assetsDir, resultPath(key));
    try {
      readFileSync(file);
      continue; // precomputed and current
    } catch {
      /* write a synthetic one */
    }
    const stored: StoredResult = {
      schema: RESULT_SCHEMA,
      key,
      kind,
      generatorId: gid,
      classifierId: cls.sha256,
      classifier: cls.name,
      sweep: DEFAULT_SWEEP,
      options: DEFAULT_OPTIONS[kind],
      computed: { by: 'test (synthetic)' },
      payload: payloads[kind],
    };
    writeFileSync(file, JSON.stringify(stored));
  }
  return keys;
}

/** Flips one byte in the middle of a model's weights file. */
export function corruptWeights(assetsDir: string, modelPath: string): void {
  const file = path.join(assetsDir, modelPath, 'weights.bin');
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
}

export async function problemOf(
  res: Response,
): Promise<{ type: string; title: string; status: number; detail: string; field?: string; [k: string]: unknown }> {
  if (!res.headers.get('content-type')?.startsWith('application/problem+json')) {
    throw new Error(
      `expected application/problem+json, got ${res.headers.get('content-type')} (status ${res.status}): ${(await res.text()).slice(0, 300)}`,
    );
  }
  return res.json() as Promise<never>;
}

/** A file of the TF.js classifier fixtures (test/fixtures, built by `npm run fixtures:build`). */
export const fixture = (...p: string[]) => path.resolve('test/fixtures', ...p);
export const fixtureFile = (p: string) => new Blob([readFileSync(p)]);

/**
 * The multipart body curl sends for `-F model=@… -F weights=@… -F adapter=@…` (POST
 * /v1/classifiers) from a model folder; `weights` and `adapter` replace the folder's.
 */
export function classifierUpload(
  dir: string,
  opts: { adapter?: unknown; weights?: Array<[string, Blob]>; name?: string; domain?: string } = {},
): FormData {
  const form = new FormData();
  form.append('model', fixtureFile(path.join(dir, 'model.json')), 'model.json');
  const modelJson = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: Array<{ paths: string[] }>;
  };
  const weights =
    opts.weights ??
    modelJson.weightsManifest.flatMap((g) => g.paths).map((p): [string, Blob] => [p, fixtureFile(path.join(dir, p))]);
  for (const [name, blob] of weights) form.append('weights', blob, name);
  form.append(
    'adapter',
    opts.adapter === undefined ? fixtureFile(path.join(dir, 'adapter.json')) : new Blob([JSON.stringify(opts.adapter)]),
    'adapter.json',
  );
  if (opts.name) form.append('name', opts.name);
  if (opts.domain) form.append('domain', opts.domain);
  return form;
}

/**
 * The lease tokens a test's runners hold, by job, shard and runner name: a runner call made through
 * `withLease` carries its runner's token the way the real runner does, and a runner that holds no
 * lease of that shard sends a well-formed token that is nobody's (so the board answers 409, as to
 * any stranger).
 */
const leaseTokens = new Map<string, string>();
const NOBODYS_TOKEN = '0'.repeat(64);

/** Remembers the token of a lease response (`lease`: the body of POST /v1/runner/lease). */
export function recordLease(
  runner: string,
  lease: { id: string; shard: { index: number; leaseToken: string } } | null,
): void {
  if (lease) leaseTokens.set(`${lease.id}:${lease.shard.index}:${runner}`, lease.shard.leaseToken);
}

/** The body of a runner call on `path` with its runner's lease token added (unless it names one). */
export function withLease(path: string, body: unknown): unknown {
  const m = /^\/v1\/runner\/jobs\/([^/]+)\/(heartbeat|complete|fail|release)$/.exec(path);
  if (!m || body === null || typeof body !== 'object' || 'lease' in body) return body;
  const b = body as { runner?: string; shard?: number };
  return { ...b, lease: leaseTokens.get(`${m[1]}:${b.shard ?? 0}:${b.runner}`) ?? NOBODYS_TOKEN };
}
