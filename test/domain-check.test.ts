/**
 * Domains in the weights (src/core/data/domain.ts): manifests carry `domain` (name, class names,
 * image shape), older manifests count as MNIST's, and a classifier/generator pair whose domains,
 * classes or image shapes disagree is refused with an error naming both models.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameDomain,
  domainClassifiers,
  domainStamp,
  FASHION,
  getDomain,
  manifestDomain,
  MNIST,
} from '../src/core/data/domain.js';
import { encodeWeights, parseManifest } from '../src/core/weights/codec.js';
import { useBackend } from '../src/node/backend.js';
import { analysisModels, builtinModelPath, loadBuiltinClassifier, loadGenerator } from '../src/node/builtin-models.js';
import { run as trainGenerator } from '../src/node/commands/train-generator.js';
import { run as evaluate } from '../src/node/commands/evaluate.js';

describe('domains of classifier/generator pairs', () => {
  let gen: ReturnType<typeof loadGenerator>;
  let cls: ReturnType<typeof loadBuiltinClassifier>;
  beforeAll(async () => {
    await useBackend('cpu');
    gen = loadGenerator();
    cls = loadBuiltinClassifier('classifier-clean');
  });

  it('reads the built-in MNIST weights (no domain field) as MNIST and accepts the pair', () => {
    expect(manifestDomain(cls.manifest)).toEqual(domainStamp(MNIST));
    expect(manifestDomain(gen.manifest)).toEqual(domainStamp(MNIST));
    expect(() => analysisModels(gen, cls)).not.toThrow();
  });

  it('refuses a pair of different domains, classes or image shapes, naming both models', () => {
    const fashion = { ...cls, manifest: { ...cls.manifest, domain: domainStamp(FASHION) } };
    expect(() => analysisModels(gen, fashion)).toThrow(
      /classifier classifier-clean is for domain "fashion" but generator generator is for domain "mnist"/,
    );
    const renamed = {
      ...cls,
      manifest: {
        ...cls.manifest,
        domain: { ...domainStamp(MNIST), classNames: ['zero', ...MNIST.classNames.slice(1)] },
      },
    };
    expect(() => analysisModels(gen, renamed)).toThrow(
      /classifier classifier-clean has classes \[zero, 1, .*\] but generator generator has \[0, 1, /,
    );
    const rgb = {
      ...cls,
      manifest: { ...cls.manifest, domain: { ...domainStamp(MNIST), image: { size: 32, channels: 3 } } },
    };
    expect(() => analysisModels(gen, rgb)).toThrow(/takes 32x32x3 images but generator generator gives 32x32x1/);
    // Stamped on both sides and equal: accepted.
    const stampedGen = { ...gen, manifest: { ...gen.manifest, domain: domainStamp(FASHION) } };
    expect(() => analysisModels(stampedGen, fashion)).not.toThrow();
  });

  it('leaves a generator of a user folder (unknown domain) to the class-count checks', () => {
    const folderGen = loadGenerator(path.resolve('test/fixtures/generator-3class'));
    expect(manifestDomain(folderGen.manifest)).toBeNull();
    expect(() =>
      assertSameDomain({ label: 'c', manifest: cls.manifest }, { label: 'g', manifest: folderGen.manifest }),
    ).not.toThrow();
  });

  it('keeps the domain through a manifest round trip and rejects a malformed one, naming the field', () => {
    const info = {
      name: 'x',
      kind: 'classifier' as const,
      architecture: {},
      weightsFile: 'weights.bin',
      provenance: {},
      metrics: {},
      domain: domainStamp(FASHION),
    };
    const { manifest } = encodeWeights(info, [['w', { shape: [1], values: new Float32Array([1]) }]]);
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)), 'm.json').domain).toEqual(domainStamp(FASHION));
    expect(() =>
      parseManifest({ ...manifest, domain: { ...domainStamp(FASHION), image: { size: 32, channels: 0 } } }, 'm.json'),
    ).toThrow(/invalid manifest at "domain\.image\.channels"/);
  });

  it('finds built-in models per domain and refuses unknown domains and --data with --domain', async () => {
    expect(builtinModelPath('classifier-clean')).toBe('classifier-clean');
    expect(builtinModelPath('generator', 'fashion')).toBe('fashion/generator');
    expect(() => getDomain('cifar')).toThrow(/unknown domain "cifar" \(known: mnist, fashion, colored-mnist\)/);
    await expect(trainGenerator(['--domain', 'fashion', '--data', 'some/folder'])).rejects.toThrow(
      /--data and --domain exclude each other/,
    );
    await expect(trainGenerator(['--domain', 'cifar'])).rejects.toThrow(/unknown domain "cifar"/);
    await expect(evaluate(['--domain', 'cifar'])).rejects.toThrow(
      /--domain must be one of mnist, fashion, colored-mnist, got "cifar"/,
    );
  });

  it('train-generator refuses a bad command line before it loads or trains anything, naming the flag', async () => {
    await expect(trainGenerator(['--iteratons', '10'])).rejects.toThrow(/Unknown option '--iteratons'/);
    await expect(trainGenerator(['--lr', 'fast'])).rejects.toThrow(/--lr needs a number, got "fast"/);
    await expect(trainGenerator(['--lr-g', 'slow'])).rejects.toThrow(/--lr-g needs a number, got "slow"/);
    await expect(trainGenerator(['--warm-up-d', 'x'])).rejects.toThrow(/--warm-up-d needs a number, got "x"/);
    await expect(trainGenerator(['--batch'])).rejects.toThrow(/--batch <value>' argument missing/);
    await expect(trainGenerator(['--fresh', '--resume'])).rejects.toThrow(/--fresh and --resume exclude each other/);
    await expect(trainGenerator(['--backend', 'gpu', '--export-only'])).rejects.toThrow(/unknown backend "gpu"/);
  });

  it('calls coloured MNIST colored-mnist, and refuses weights whose manifest names another domain', () => {
    const colored = getDomain('colored-mnist');
    expect(colored.image).toEqual({ size: 32, channels: 3 });
    expect(() => getDomain('colour')).toThrow(/unknown domain "colour"/);
    expect(domainClassifiers(colored)).toEqual(['classifier-spurious', 'classifier-independent']);
    expect(domainClassifiers(MNIST)).toEqual(['classifier-clean', 'classifier-corrupted']);
    // The committed weights live in weights/colored-mnist/ and say so in their manifests.
    for (const name of domainClassifiers(colored)) {
      const { manifest } = loadBuiltinClassifier(name, 'colored-mnist');
      expect(manifestDomain(manifest)?.name).toBe('colored-mnist');
    }
    // A copy of a classifier whose manifest still says "colour" (the old name) is refused, naming both.
    const root = mkdtempSync(path.join(tmpdir(), 'faultlines-weights-'));
    const rel = 'colored-mnist/classifier-spurious';
    cpSync(path.join('weights', rel), path.join(root, rel), { recursive: true });
    const file = path.join(root, rel, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"name": "colored-mnist"', '"name": "colour"'));
    const was = process.env.FAULTLINES_WEIGHTS;
    process.env.FAULTLINES_WEIGHTS = root;
    try {
      expect(() => loadBuiltinClassifier('classifier-spurious', 'colored-mnist')).toThrow(
        /weights\/colored-mnist\/classifier-spurious\/manifest.json is for domain "colour", not "colored-mnist"/,
      );
    } finally {
      if (was === undefined) delete process.env.FAULTLINES_WEIGHTS;
      else process.env.FAULTLINES_WEIGHTS = was;
    }
  });

  it('names the command that makes a built-in model a domain does not have yet', () => {
    const was = process.env.FAULTLINES_WEIGHTS;
    process.env.FAULTLINES_WEIGHTS = mkdtempSync(path.join(tmpdir(), 'faultlines-weights-'));
    try {
      expect(() => loadGenerator(undefined, 'fashion')).toThrow(
        /no trained generator yet \(weights\/fashion\/generator is missing\): train one with `npm run train:generator -- --domain fashion`/,
      );
      // A colour domain's generator is painted from MNIST's, not trained.
      expect(() => loadGenerator(undefined, 'colored-mnist')).toThrow(
        /\(weights\/colored-mnist\/generator is missing\): make one with `npm run paint:generator -- --domain colored-mnist`/,
      );
      expect(() => loadBuiltinClassifier('classifier-clean', 'fashion')).toThrow(
        /no classifier-clean for domain "fashion" .*npm run train:classifier -- --domain fashion/,
      );
    } finally {
      if (was === undefined) delete process.env.FAULTLINES_WEIGHTS;
      else process.env.FAULTLINES_WEIGHTS = was;
    }
  });
});
