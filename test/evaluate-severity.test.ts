/**
 * `faultlines evaluate --by-severity`: the accuracy on a corrupted test split broken down by the
 * samples' corruption metadata (clean half, corrupted half, blur x noise cells), here on 1,000
 * spread MNIST corrupted test digits with the built-in clean-trained CNN (the whole split is what
 * the command measures; a subset keeps the test short).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateClassifier } from '../src/core/classifier/classifier.js';
import { selectDigits } from '../src/core/data/digits.js';
import { useBackend } from '../src/node/backend.js';
import { bySeverity } from '../src/node/commands/evaluate.js';
import { loadDomainSet } from '../src/node/domain-data.js';
import { loadBuiltinClassifier } from '../src/node/builtin-models.js';

describe('evaluate --by-severity', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('splits the corrupted-split accuracy into its halves and 3x3 severity cells', async () => {
    const full = loadDomainSet('mnist', 'test', 'corrupted');
    // Every 10th sample: 500 from the clean half, 500 from the corrupted half.
    const test = selectDigits(
      full,
      Array.from({ length: 1000 }, (_, i) => i * 10),
    );
    const { classifier } = loadBuiltinClassifier('classifier-clean');
    const whole = (await evaluateClassifier(classifier, test.images, test.labels)).accuracy;
    const s = await bySeverity(classifier, test);
    classifier.dispose();
    // Equal halves: they average to the whole.
    expect((s.cleanHalf + s.corruptedHalf) / 2).toBeCloseTo(whole, 10);
    expect(s.cells.map((row) => row.length)).toEqual([3, 3, 3]);
    // Each cell is the accuracy of its own samples: the counts-weighted mean is the corrupted half's.
    let weighted = 0;
    let n = 0;
    for (let b = 1; b <= 3; b++) {
      for (let k = 1; k <= 3; k++) {
        const count = Array.from(test.blur).filter((v, i) => v === b && test.noise[i] === k).length;
        weighted += s.cells[b - 1][k - 1] * count;
        n += count;
      }
    }
    expect(weighted / n).toBeCloseTo(s.corruptedHalf, 10);
    // The clean-trained CNN loses accuracy on corrupted digits.
    expect(s.corruptedHalf).toBeLessThan(s.cleanHalf - 0.03);
  });
});
