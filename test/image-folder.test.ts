/**
 * Training a generator on a user's own labelled images (a tiny folder, a few iterations): the
 * result is a loadable generator in the weights format that serves the analyses.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../src/core/tf.js';
import { latentBatch } from '../src/core/random.js';
import { useBackend } from '../src/node/backend.js';
import { loadImageFolder } from '../src/node/image-folder.js';
import { loadGenerator } from '../src/node/builtin-models.js';

const run = promisify(execFile);

/** A folder of 3 classes (bars, squares, rings), 6 images each, 28x28 and 32x32, gray and RGB. */
function makeFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultlines-images-'));
  const shapes = ['bars', 'squares', 'rings'];
  shapes.forEach((name, k) => {
    mkdirSync(path.join(dir, name));
    for (let i = 0; i < 6; i++) {
      const size = i % 2 === 0 ? 28 : 32;
      const rgb = i % 3 === 0;
      const data = new Uint8Array(size * size * (rgb ? 3 : 1));
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const c = size / 2;
          const r = Math.hypot(x - c, y - c);
          const on =
            k === 0
              ? Math.abs(x - c - i + 3) < 2
              : k === 1
                ? Math.max(Math.abs(x - c), Math.abs(y - c)) < 6 + i
                : Math.abs(r - 7 - i / 2) < 1.5;
          const v = on ? 255 : 0;
          if (rgb) data.set([v, v, v], (y * size + x) * 3);
          else data[y * size + x] = v;
        }
      }
      writeFileSync(
        path.join(dir, name, `${i}.png`),
        encode({ width: size, height: size, data, channels: rgb ? 3 : 1, depth: 8 }),
      );
    }
  });
  return dir;
}

describe('user image folders', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeFolder();
  });

  it('loads one class per subfolder, pads 28x28 and converts colour', () => {
    const f = loadImageFolder(dir);
    expect(f.classNames).toEqual(['bars', 'rings', 'squares']);
    expect(f.set.count).toBe(18);
    expect(Array.from(new Set(f.set.labels))).toEqual([0, 1, 2]);
    // A padded 28x28 image has a 2 px empty border.
    expect(f.set.images[0]).toBe(0);
    expect(Math.max(...f.set.images.subarray(0, 1024))).toBe(1);
  });

  it('refuses unsupported sizes and folders without classes, naming the file', () => {
    const bad = makeFolder();
    writeFileSync(
      path.join(bad, 'bars', 'big.png'),
      encode({ width: 64, height: 64, data: new Uint8Array(64 * 64), channels: 1, depth: 8 }),
    );
    expect(() => loadImageFolder(bad)).toThrow(/big\.png: 64x64 images are not supported; the generator is 32x32/);
    const empty = mkdtempSync(path.join(tmpdir(), 'faultlines-empty-'));
    expect(() => loadImageFolder(empty)).toThrow(/needs one subfolder per class/);
  });

  it('trains a generator for a few iterations into a loadable model (npm run train:generator -- --data DIR)', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'faultlines-usergen-'));
    const ckpt = mkdtempSync(path.join(tmpdir(), 'faultlines-userckpt-'));
    // The CLI on this folder, into these output and checkpoint folders, with `extra` flags.
    const trainGenerator = (extra: string[]) =>
      run(
        process.execPath,
        [path.resolve('dist/cli.mjs'), 'train-generator', '--data', dir, '--out', out, '--checkpoint-dir', ckpt].concat(
          ['--sample-every', '1000'],
          extra,
        ),
        { maxBuffer: 16 << 20 },
      );
    // A transfer run's knobs, recorded in the manifest (here on a fresh run: one D-only iteration).
    const r = await trainGenerator(['--iterations', '2', '--batch', '4', '--lr-g', '0.0007', '--warm-up-d', '1']);
    expect(r.stderr).toContain(`wrote ${out}`);
    await useBackend('cpu');
    const { generator, manifest } = loadGenerator(out);
    expect(generator.arch.numClasses).toBe(3);
    expect(manifest.provenance.classNames).toEqual(['bars', 'rings', 'squares']);
    // The manifest's classes: the folder names, the default traversal class min(3, K - 1).
    expect(manifest.classes).toEqual({ names: ['bars', 'rings', 'squares'], traversalClass: 2 });
    expect(generator.classes).toEqual({ names: ['bars', 'rings', 'squares'], traversalClass: 2 });
    expect(String(manifest.provenance.data)).toContain('18 images');
    expect(manifest.provenance.hyper).toMatchObject({ lrG: 0.0007, lrD: 0.0025, discriminatorWarmUp: 1 });
    const img = generator.generate(
      tf.tensor2d(latentBatch(1, 0, 3, generator.arch.zDim), [3, generator.arch.zDim]),
      [0, 1, 2],
    );
    expect(img.shape).toEqual([3, 32, 32, 1]);
    img.dispose();
    generator.dispose();
    // Resumed with --retune: G's learning rate and the warm-up change from here on, the rest stays.
    const resumed = await trainGenerator(['--iterations', '3', '--retune', '--lr-g', '0.0001', '--warm-up-d', '0']);
    expect(resumed.stderr).toContain('resumed from');
    const again = loadGenerator(out);
    expect(again.manifest.provenance.iteration).toBe(3);
    expect(again.manifest.provenance.hyper).toMatchObject({
      lrG: 0.0001,
      lrD: 0.0025,
      discriminatorWarmUp: 0,
      batch: 4,
    });
    again.generator.dispose();
  });
});
