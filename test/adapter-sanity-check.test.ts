/**
 * The adapter's sanity check (src/core/classifier/sanity-check.ts) on the user-model fixtures, with
 * their right adapters and deliberately wrong ones, on the MNIST test images the CLI uses. The
 * measured accuracies are in docs/bring-your-own-model.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAdapter, type Adapter } from '../src/core/classifier/adapter.js';
import { adapterSanityCheck, PLAUSIBLE_CLEAN_ACCURACY } from '../src/core/classifier/sanity-check.js';
import { TfjsClassifier } from '../src/core/classifier/tfjs-model.js';
import { useBackend } from '../src/node/backend.js';
import { sanityCheckImages } from '../src/node/domain-data.js';
import { readTfjsModelDir } from '../src/node/user-model.js';

const fixture = (...p: string[]) => path.resolve('test/fixtures', ...p);
const adapterOf = (file: string) => parseAdapter(JSON.parse(readFileSync(fixture(file), 'utf8')));

async function check(dir: string, adapter: Adapter) {
  const { files } = readTfjsModelDir(fixture(dir));
  const c = await TfjsClassifier.create(dir, files, adapter, dir);
  const images = sanityCheckImages('mnist');
  try {
    return await adapterSanityCheck(c, images.sets, images.data);
  } finally {
    c.dispose();
  }
}

const acc = (r: Awaited<ReturnType<typeof check>>) =>
  r.splits.map((s) => `${s.split} ${(100 * s.accuracy).toFixed(1)}%`);

describe('adapter sanity check on real test images', () => {
  beforeAll(async () => useBackend('wasm'));
  const right = () => adapterOf('mlp-layers/adapter.json');
  const normalised = () => adapterOf('mlp-normalised/adapter.json');

  it('passes the fixtures with their right adapters (the normalised one computes what mlp-layers does)', async () => {
    const a = await check('mlp-layers', right());
    const b = await check('mlp-normalised/model', normalised());
    console.log('mlp-layers, right adapter:', acc(a), '| mlp-normalised, right adapter:', acc(b));
    expect(a.plausible).toBe(true);
    expect(a.warning).toBeNull();
    expect(a.splits.map((s) => s.count)).toEqual([2000, 2000]);
    expect(a.splits[0].accuracy).toBeGreaterThan(0.9);
    // Folding the normalisation into the first layer is exact up to float rounding.
    for (const i of [0, 1]) expect(Math.abs(b.splits[i].accuracy - a.splits[i].accuracy)).toBeLessThanOrEqual(0.001);
    expect(b.plausible).toBe(true);
  });

  it("warns about the README's old mean 0 / std 1 adapter on a normalised model and a wrong class map, naming the adapter fields to check", async () => {
    const n = normalised();
    const unnormalised = await check('mlp-normalised/model', { ...n, input: { ...n.input, mean: [0], std: [1] } });
    const base = right();
    const shifted = await check('mlp-layers', {
      ...base,
      classes: { ...base.classes, generatorToModel: base.classes.generatorToModel.map((m) => (m + 1) % 10) },
    });
    console.log(
      'mlp-normalised, mean 0 / std 1:',
      acc(unnormalised),
      '| mlp-layers, class map shifted by one:',
      acc(shifted),
    );
    for (const r of [unnormalised, shifted]) {
      expect(r.plausible).toBe(false);
      expect(r.splits[0].accuracy).toBeLessThan(PLAUSIBLE_CLEAN_ACCURACY);
      expect(r.warning).toMatch(
        /adapter\.input\.range, adapter\.input\.mean, adapter\.input\.std, adapter\.classes\.generatorToModel/,
      );
      expect(r.fieldsToCheck).toContain('adapter.input.mean');
    }
    expect(unnormalised.warning).toMatch(/far below the 50\.0%/);
    expect(shifted.warning).toMatch(/near chance 10\.0%/);
  });

  it('cannot see mistakes that keep the arg-max: probabilities read as logits, a scaled range, a mild normalisation', async () => {
    const base = right();
    const a = await check('mlp-layers', base);
    const logits = await check('mlp-layers', { ...base, output: { ...base.output, kind: 'logits' } });
    const range = await check('mlp-layers', { ...base, input: { ...base.input, range: [0, 255] } });
    const wrongNorm = await check('mlp-layers', { ...base, input: { ...base.input, mean: [0.1307], std: [0.3081] } });
    console.log(
      'mlp-layers, probabilities read as logits:',
      acc(logits),
      '| range [0, 255]:',
      acc(range),
      '| MNIST mean/std on an unnormalised model:',
      acc(wrongNorm),
    );
    // The arg-max of probabilities and of their log agree; a ReLU MLP with small biases is nearly
    // scale-invariant in its arg-max. Both pass, though p_true (and so the ranking) differs.
    expect(logits.splits.map((s) => s.accuracy)).toEqual(a.splits.map((s) => s.accuracy));
    for (const r of [logits, range, wrongNorm]) expect(r.plausible).toBe(true);
    expect(wrongNorm.splits[0].accuracy).toBeLessThan(a.splits[0].accuracy - 0.05);
  });
});
