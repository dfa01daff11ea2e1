/**
 * `faultlines evaluate --by-severity`: the accuracy on the corrupted test split broken down by the
 * samples' corruption metadata (clean half, corrupted half, blur x noise cells), on MNIST's
 * built-in classifiers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as evaluate } from '../src/node/commands/evaluate.js';

describe('evaluate --by-severity', () => {
  afterEach(() => vi.restoreAllMocks());

  it('splits the corrupted-split accuracy into its halves and 3x3 severity cells', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    await evaluate(['--by-severity', '--json']);
    const rows = JSON.parse(out) as Array<{ classifier: string; corrupted: number; bySeverity: { cleanHalf: number; corruptedHalf: number; cells: number[][] } }>;
    expect(rows.map((r) => r.classifier)).toEqual(['classifier-clean', 'classifier-corrupted']);
    for (const r of rows) {
      const s = r.bySeverity;
      // The split is 5,000 clean + 5,000 corrupted samples: the halves average to the whole.
      expect((s.cleanHalf + s.corruptedHalf) / 2).toBeCloseTo(r.corrupted, 10);
      expect(s.cells).toHaveLength(3);
      for (const row of s.cells) for (const v of row) expect(v).toBeGreaterThan(0.5);
    }
    const clean = rows[0].bySeverity;
    // The clean-trained CNN loses accuracy on corrupted digits, most where noise is strongest.
    expect(clean.corruptedHalf).toBeLessThan(clean.cleanHalf - 0.05);
    expect(clean.cells[2][2]).toBeLessThan(clean.cells[0][0]);
  });
});
