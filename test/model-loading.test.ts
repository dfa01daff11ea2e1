/**
 * The one model loader, its builders, the promise cache and the sweep driver (src/core/loading/,
 * `driveSweep` in src/core/analysis/ranking.ts), checked against independent computations: the
 * loaded tensors against the codec's own decoding of the committed files, a threaded-style sweep
 * (lanes answering out of order) against the in-process sweep bit for bit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisModels } from '../src/core/analysis/analysis-models.js';
import { driveSweep, rankingSweep, sweepBatch, type SweepBatch } from '../src/core/analysis/ranking.js';
import { DEFAULT_GENERATOR, Generator } from '../src/core/generator/index.js';
import { buildClassifier, buildGenerator, placeholderGenerator } from '../src/core/loading/built-models.js';
import {
  folderSource,
  loadModelFiles,
  loadModelFilesSync,
  type ModelByteSource,
  type ModelFile,
} from '../src/core/loading/model-files.js';
import { RANDOM_INIT_SEED } from '../src/core/loading/placeholder-id.js';
import { PromiseCache } from '../src/core/loading/promise-cache.js';
import {
  WeightsError,
  decodeWeights,
  encodeWeights,
  parseManifest,
  sha256Hex,
  type HostTensor,
} from '../src/core/weights/codec.js';
import { shardSweep } from '../src/gpu-runner/sweep.js';
import { useBackend } from '../src/node/backend.js';
import { weightsRoot } from '../src/node/weights-fs.js';

const dir = path.join(weightsRoot(), 'classifier-clean');
const manifestBytes = readFileSync(path.join(dir, 'manifest.json'));
const manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')), 'manifest.json');
const weightsBytes = readFileSync(path.join(dir, manifest.weightsFile));

/** An in-memory source with the committed classifier's files, edited per test. */
function memorySource(files: { manifest?: Uint8Array | Error; weights?: Uint8Array | Error } = {}) {
  const reads: string[] = [];
  const pick = (f: ModelFile) =>
    f.role === 'manifest' ? (files.manifest ?? manifestBytes) : (files.weights ?? weightsBytes);
  const source: ModelByteSource<Uint8Array> = {
    where: (f) => (f.role === 'manifest' ? 'mem/manifest.json' : `mem/${f.weightsFile}`),
    read: (f) => {
      reads.push(f.role);
      const got = pick(f);
      if (got instanceof Error) throw got;
      return got;
    },
  };
  return { source, reads };
}

function weightsError(f: () => unknown): WeightsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    return e as WeightsError;
  }
  throw new Error('expected a WeightsError');
}

describe('model loader', () => {
  beforeAll(() => useBackend('cpu'));

  it('loads the same checked files from a synchronous and an asynchronous source', async () => {
    const sync = loadModelFilesSync(
      folderSource(dir, (f) => readFileSync(f), path.join),
      {
        sha256: manifest.sha256,
      },
    );
    const async_ = await loadModelFiles(
      folderSource(`${dir}/`, async (f) => new Uint8Array(readFileSync(f))),
      {
        sha256: manifest.sha256,
      },
    );
    // Independent: the codec decoding the committed bytes directly.
    const direct = decodeWeights(manifest, weightsBytes);
    for (const loaded of [sync, async_]) {
      expect(loaded.manifest).toEqual(manifest);
      expect(loaded.manifestText).toBe(manifestBytes.toString('utf8'));
      expect(loaded.bytes.buffer.byteLength).toBe(weightsBytes.byteLength);
      expect([...loaded.tensors.keys()]).toEqual([...direct.keys()]);
      for (const [name, t] of direct) expect(loaded.tensors.get(name)).toEqual(t);
    }
    expect(sync.weightsWhere).toBe(path.join(dir, manifest.weightsFile));
  });

  it('names the file at fault for every failure, and reads no weights after a bad manifest', () => {
    let m = memorySource({ manifest: new Error('gone') });
    let e = weightsError(() => loadModelFilesSync(m.source));
    expect([e.problem, e.file, e.message]).toEqual([
      'invalid-manifest',
      'mem/manifest.json',
      'mem/manifest.json: cannot read manifest: gone',
    ]);
    expect(m.reads).toEqual(['manifest']);

    m = memorySource({ manifest: new TextEncoder().encode('{ not json') });
    e = weightsError(() => loadModelFilesSync(m.source));
    expect(e.problem).toBe('invalid-manifest');
    expect(e.message).toMatch(/cannot read manifest/);

    m = memorySource();
    e = weightsError(() => loadModelFilesSync(m.source, { sha256: 'f'.repeat(64), sha256Of: "the catalog's" }));
    expect([e.problem, e.file]).toEqual(['checksum', 'mem/manifest.json']);
    expect(e.message).toContain(`manifest sha256 ${manifest.sha256} is not the catalog's ${'f'.repeat(64)}`);
    expect(m.reads).toEqual(['manifest']);

    m = memorySource({ weights: new Error('HTTP 404') });
    e = weightsError(() => loadModelFilesSync(m.source));
    expect([e.problem, e.file, e.message]).toEqual([
      'truncated',
      `mem/${manifest.weightsFile}`,
      `mem/${manifest.weightsFile}: cannot read weights: HTTP 404`,
    ]);

    const flipped = new Uint8Array(weightsBytes);
    flipped[100] ^= 1;
    e = weightsError(() => loadModelFilesSync(memorySource({ weights: flipped }).source));
    expect(e.problem).toBe('checksum');
  });

  it('passes a source’s own WeightsError through, and rejects asynchronously like it throws synchronously', async () => {
    const own = new WeightsError('elsewhere', 'truncated', 'short read');
    const m = memorySource({ weights: own });
    expect(weightsError(() => loadModelFilesSync(m.source))).toBe(own);
    const asyncSource: ModelByteSource<Promise<Uint8Array>> = {
      where: m.source.where,
      read: async (f) => m.source.read(f),
    };
    await expect(loadModelFiles(asyncSource)).rejects.toBe(own);
  });

  it('builds the classifier the files hold and refuses files of another kind', () => {
    const files = loadModelFilesSync(memorySource().source);
    const cnn = buildClassifier('classifier-clean', files);
    expect(cnn.name).toBe('classifier-clean');
    const generatorFiles = { ...files, manifest: { ...files.manifest, kind: 'generator' as const } };
    const e = weightsError(() => buildClassifier('x', generatorFiles));
    expect([e.problem, e.file]).toEqual(['invalid-manifest', `mem/${manifest.weightsFile}`]);
    expect(e.message).toContain('model "x" is a generator, not a classifier');
  });

  it('builds a generator back from its own weights, and the placeholder from its seed', async () => {
    const g = new Generator(DEFAULT_GENERATOR, 7);
    const { manifest: gm, bytes } = encodeWeights(g.weightsInfo('g'), await g.toHost());
    const back = buildGenerator({ manifest: gm, tensors: decodeWeights(gm, bytes), weightsWhere: 'g' });
    expect(weightPrints(await back.toHost())).toEqual(weightPrints(await g.toHost()));
    expect(weightPrints(await placeholderGenerator().toHost())).toEqual(
      weightPrints(await new Generator(DEFAULT_GENERATOR, RANDOM_INIT_SEED).toHost()),
    );
  });
});

/**
 * Per tensor, its name, shape and the sha256 of its exact bytes: equal exactly when toEqual on the
 * weights would be (bit for bit, so -0 and 0 differ too), and a differing tensor is named in the
 * diff; toEqual walking a generator's ~300k values took 0.9 s per comparison.
 */
function weightPrints(tensors: ReadonlyArray<readonly [string, HostTensor]>): string[] {
  return tensors.map(([name, t]) => {
    const bytes = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    return `${name} [${t.shape.join(', ')}] ${sha256Hex(bytes)}`;
  });
}

describe('PromiseCache', () => {
  it('shares one load per key, and forgets a failure only when told to', async () => {
    let loads = 0;
    const cache = new PromiseCache<number>({ forget: (e) => (e as Error).message !== 'refused' });
    const ok = () => Promise.resolve(++loads);
    expect(await Promise.all([cache.get('a', ok), cache.get('a', ok)])).toEqual([1, 1]);
    expect(loads).toBe(1);

    await expect(cache.get('t', () => Promise.reject(new Error('transient')))).rejects.toThrow('transient');
    await Promise.resolve();
    expect(await cache.get('t', ok)).toBe(2);

    await expect(cache.get('r', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await Promise.resolve();
    await expect(cache.get('r', ok)).rejects.toThrow('refused');
    expect(loads).toBe(2);
  });

  it('starts a stale pending load again and hands the lost one to onDrop', async () => {
    let now = 0;
    const dropped: Array<Promise<string>> = [];
    const cache = new PromiseCache<string>({ staleMs: 100, now: () => now, onDrop: (p) => dropped.push(p) });
    const lost = cache.get('k', () => new Promise<string>(() => undefined));
    now = 99;
    expect(cache.get('k', () => Promise.resolve('again'))).toBe(lost);
    now = 100;
    expect(await cache.get('k', () => Promise.resolve('again'))).toBe('again');
    expect(dropped).toEqual([lost]);
    now = 10_000; // settled entries never go stale
    expect(await cache.get('k', () => Promise.resolve('third'))).toBe('again');
  });

  it('keeps at most the limit, dropping the least recently used first', async () => {
    const dropped: string[] = [];
    const cache = new PromiseCache<string>({
      limit: { entries: 2, cost: 10 },
      onDrop: (p) => void p.then((v) => dropped.push(v)),
    });
    const v = (s: string) => () => Promise.resolve(s);
    await cache.get('a', v('a'), { cost: 4 });
    await cache.get('b', v('b'), { cost: 4 });
    await cache.get('a', v('a2')); // a is now the most recently used
    await cache.get('c', v('c'), { cost: 4 });
    await Promise.resolve();
    expect(dropped).toEqual(['b']);
    expect([cache.size, cache.cost]).toEqual([2, 8]);
    cache.set('big', Promise.resolve('big'), 9);
    await Promise.resolve();
    expect(dropped).toEqual(['b', 'a', 'c']);
    expect([cache.size, cache.cost]).toEqual([1, 9]);
  });
});

describe('sweep driver', () => {
  let models: AnalysisModels;
  const spec = { seed: 5, count: 24, classIndex: null };
  beforeAll(async () => {
    await useBackend('wasm');
    const classifier = buildClassifier('classifier-clean', loadModelFilesSync(memorySource().source));
    models = {
      generator: new Generator(DEFAULT_GENERATOR, 3),
      classifier,
      generatorId: 'g3',
      classifierId: manifest.sha256,
    };
  });

  it('gives the in-process sums bit for bit when lanes answer out of order, with onBatch in sample order', async () => {
    const reference = await rankingSweep(models, spec, { start: 3, end: 21, batchSize: 4 });
    const seen: number[] = [];
    const arrivals: number[] = [];
    // Three lanes; each later batch answers sooner, so batches arrive out of order.
    const lane = async (start: number, n: number): Promise<SweepBatch> => {
      const b = await sweepBatch(models, spec, start, n);
      await new Promise((r) => setTimeout(r, (24 - start) * 5));
      arrivals.push(start);
      return b;
    };
    const progress: number[] = [];
    const sums = await driveSweep(
      models,
      spec,
      { start: 3, end: 21, batchSize: 4, onBatch: (b) => seen.push(b.start), onProgress: (p) => progress.push(p.done) },
      [lane, lane, lane],
    );
    expect(sums).toEqual(reference);
    expect(arrivals).not.toEqual([3, 7, 11, 15, 19]); // the lanes did answer out of order
    expect(seen).toEqual([3, 7, 11, 15, 19]);
    expect(progress).toEqual([4, 8, 12, 16, 18]);
  });

  it('a runner shard is the in-process sweep of its range, bit for bit', async () => {
    expect(await shardSweep(models, spec, 4, 16, 4)).toEqual(
      await rankingSweep(models, spec, { start: 4, end: 16, batchSize: 4 }),
    );
  });

  it('rejects when a lane fails, and refuses a bad batch size before any work', async () => {
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('lane died');
    };
    await expect(driveSweep(models, spec, { batchSize: 4 }, [failing, failing])).rejects.toThrow('lane died');
    expect(calls).toBe(2); // each lane took one batch, then the hand-out stopped
    await expect(driveSweep(models, spec, { batchSize: 0 }, [failing])).rejects.toThrow(RangeError);
    expect(calls).toBe(2);
  });
});
