/**
 * Which generator the edge packages (Node, build time): weights/generator/ when present, else the
 * training checkpoint's EMA generator (re-encoded, loadable), else none (random-init placeholder);
 * dropping weights/generator/ in later takes over without other changes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/node/backend.js';
import { writeWeightsDir } from '../../src/node/weights-fs.js';
import { DEFAULT_GENERATOR, Generator } from '../../src/core/generator/index.js';
import { decodeWeights, type HostTensor } from '../../src/core/weights/codec.js';
import { resolveEdgeModels } from '../../scripts/edge/sources.js';
import { PRECOMPUTED_DIR, seedCommand, writeEdgeAssets } from '../../scripts/edge/assets.js';
import { COLOUR, DEFAULT_DOMAIN, FASHION } from '../../src/core/data/domain.js';
import { RANDOM_INIT_ID, catalogDomains, generatorId, type Catalog } from '../../src/protocol/catalog.js';
import {
  DEFAULT_SWEEP,
  RESULT_KINDS,
  resultKey,
  type ResultsIndex,
  type StoredResult,
} from '../../src/protocol/result-keys.js';

let root: string;
let gTensors: Array<[string, HostTensor]>;

beforeAll(async () => {
  await useBackend('cpu');
  root = mkdtempSync(path.join(os.tmpdir(), 'faultlines-sources-'));
  const g = new Generator(DEFAULT_GENERATOR, 3);
  gTensors = await g.toHost();
  g.dispose();
  // A classifier folder copied from the real one, so the catalog has a default classifier.
  const real = JSON.parse(readFileSync('weights/classifier-clean/manifest.json', 'utf8'));
  mkdirSync(path.join(root, 'weights', 'classifier-clean'), { recursive: true });
  const bytes = readFileSync('weights/classifier-clean/weights.bin');
  const tensors = decodeWeights(real, new Uint8Array(bytes));
  writeWeightsDir(
    path.join(root, 'weights', 'classifier-clean'),
    {
      name: real.name,
      kind: 'classifier',
      architecture: real.architecture,
      weightsFile: 'weights.bin',
      provenance: real.provenance,
      metrics: real.metrics,
    },
    [...tensors.entries()],
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('edge model sources', () => {
  it('no generator weights and no checkpoint: the random-init placeholder', () => {
    const m = resolveEdgeModels(root);
    expect(m.generator).toBeNull();
    expect(m.classifiers.map((c) => c.entry.name)).toEqual(['classifier-clean']);
    const out = path.join(root, 'assets');
    const catalog: Catalog = writeEdgeAssets(out, m, path.join(root, 'none'));
    expect(generatorId(catalog)).toBe(RANDOM_INIT_ID);
    expect(catalog.defaultClassifier).toBe('classifier-clean');
    expect(readFileSync(path.join(out, 'models', 'classifier-clean', 'weights.bin')).length).toBe(
      m.classifiers[0].bytes.length,
    );
  });

  it('a training checkpoint: its EMA generator, re-encoded and loadable, labelled as a checkpoint', () => {
    const ckpt = path.join(root, 'checkpoints', 'generator', 'latest');
    writeWeightsDir(
      ckpt,
      {
        name: 'generator-checkpoint',
        kind: 'generator',
        architecture: { generator: DEFAULT_GENERATOR, discriminator: {}, styleSize: 0 },
        weightsFile: 'weights.bin',
        provenance: { iteration: 1234, trainSeconds: 1 },
        metrics: {},
      },
      [
        ...gTensors.map(([n, t]) => [`G/${n}`, t] as [string, HostTensor]),
        ...gTensors.map(([n, t]) => [`G_ema/${n}`, t] as [string, HostTensor]),
        ['D/x', { shape: [1], values: Float32Array.of(1) }],
      ],
    );
    const m = resolveEdgeModels(root, { fresh: true });
    expect(m.generator?.entry.source).toBe('checkpoint');
    expect(m.generator?.entry.label).toContain('1234');
    expect(m.generator?.manifest.tensors.length).toBe(gTensors.length);
    const g = Generator.fromWeights(m.generator!.manifest, decodeWeights(m.generator!.manifest, m.generator!.bytes));
    expect(g.styleSize).toBe(m.generatorArchitecture.styleSize);
    g.dispose();
  });

  it('weights/generator/ takes over when dropped in', () => {
    writeWeightsDir(
      path.join(root, 'weights', 'generator'),
      new Generator(DEFAULT_GENERATOR, 0).weightsInfo('generator', { note: 'test' }),
      gTensors,
    );
    const m = resolveEdgeModels(root);
    expect(m.generator?.entry.source).toBe('weights');
    expect(m.generator?.entry.name).toBe('generator');
    expect(m.classifiers.map((c) => c.entry.name)).toEqual(['classifier-clean']);
  });
});

describe('committed precomputed results', () => {
  it(
    'are current: every built-in classifier of every domain with a generator has every result kind of the ' +
      'default sweep, keyed by the models the edge packages and by its domain',
    () => {
      // Results seeded for other weights (a retrained model, another noise mode) are copied but never
      // served: the cached endpoints answer 404 and the runner tests have nothing to compare with. A domain
      // without a generator (as colored-mnist was before paint-generator) has none: they are of generated samples.
      const out = path.join(root, 'assets-current');
      const catalog = writeEdgeAssets(out, resolveEdgeModels(), PRECOMPUTED_DIR);
      const committed = JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, 'index.json'), 'utf8')) as ResultsIndex;
      const keys = new Set(committed.entries.map((e) => e.key));
      const missing: string[] = [];
      const domains = catalogDomains(catalog).filter((d) => d.name === DEFAULT_DOMAIN || d.generator !== null);
      for (const d of domains) {
        const gid = d.name === DEFAULT_DOMAIN ? generatorId(catalog) : d.generator!.sha256;
        for (const m of d.classifiers)
          for (const kind of RESULT_KINDS) {
            const key = resultKey({
              kind,
              generatorId: gid,
              classifierId: m.sha256,
              sweep: DEFAULT_SWEEP,
              domain: d.name,
            });
            if (!keys.has(key) || !existsSync(path.join(PRECOMPUTED_DIR, `${key}.json`)))
              missing.push(`${kind} of ${d.name} ${m.name} (${seedCommand(d.name)})`);
          }
      }
      expect(domains.map((d) => d.name)).toEqual(expect.arrayContaining([DEFAULT_DOMAIN, FASHION.name, COLOUR.name]));
      expect(catalog.classifiers.length).toBeGreaterThan(0);
      expect(missing, `stale or missing in ${PRECOMPUTED_DIR}: run the command named and commit the results`).toEqual(
        [],
      );
      // Each file holds what its index entry says (a domain's result under another domain's key is never served).
      for (const e of committed.entries) {
        const stored = JSON.parse(readFileSync(path.join(PRECOMPUTED_DIR, `${e.key}.json`), 'utf8')) as StoredResult;
        expect([stored.key, stored.kind, stored.domain, stored.classifierId], e.key).toEqual([
          e.key,
          e.kind,
          e.domain,
          e.classifierId,
        ]);
      }
    },
  );
});
