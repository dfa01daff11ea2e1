/**
 * Planted failures, recovered (issue 14 item 5): the counterfactual attribution
 * (src/core/analysis/counterfactual-attribution.ts) names each fixture's planted change first.
 *
 * Unit tier, on committed figures: `npm run fixtures:measure:planted -- --counterfactual` measured
 * each fixture against each reference on the population's first 256 frames (a few minutes) into
 * test/fixtures/planted/counterfactual.json: per edit, both readers' mean margin drop at each
 * strength (the curves), the ratios and their bootstrap intervals. Here:
 * 1. the ranking is recomputed from the committed curves (rankCurves) and must be the committed one,
 *    with the planted edit first where RECOVERED says so, by at least the measured margin;
 * 2. the committed curves are the code's: the spot check (the first 24 frames, no bootstrap) is
 *    recomputed from the fixtures and the generator and must match the committed one.
 * A change to the method, the edits or a fixture turns this red until the figures are re-measured
 * (and docs/naming.md's table with them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rankCurves, type CounterfactualAttribution } from '../src/core/analysis/counterfactual-attribution.js';
import { useBackend } from '../src/node/backend.js';
import { PLANTED } from './fixtures/planted-data.js';
import {
  COUNTERFACTUAL_DEFAULTS,
  counterfactualNamedFirst,
  counterfactualRecovery,
  PLANTED_DIR,
  PLANTED_FACTOR,
  restFrames,
  SPOT_CHECK_SAMPLES,
  type CounterfactualReference,
} from './fixtures/planted-recovery.js';

type Row = CounterfactualAttribution & {
  fixture: string;
  reference: CounterfactualReference;
  spotCheck: CounterfactualAttribution['curves'];
};
const rows: Row[] = JSON.parse(readFileSync(path.join(PLANTED_DIR, 'counterfactual.json'), 'utf8'));

/**
 * Per reference, the fixtures whose planted edit is named first, with the margin measured (the
 * planted edit's ratio minus the runner-up's, rounded down): docs/naming.md's recovery table.
 */
const RECOVERED: Record<CounterfactualReference, Record<string, number>> = {
  'planted-reference': { 'planted-noise': 0.35, 'planted-blur': 0.08, 'planted-thin': 0.14, 'planted-left': 1.31 },
  'classifier-corrupted': { 'planted-noise': 1.87, 'planted-left': 0.3 },
};

let frames: Awaited<ReturnType<typeof restFrames>>;
beforeAll(async () => {
  await useBackend('wasm');
  frames = await restFrames(SPOT_CHECK_SAMPLES, COUNTERFACTUAL_DEFAULTS.seed);
});

describe('planted failures, named by the counterfactual attribution (committed figures)', () => {
  for (const reference of Object.keys(RECOVERED) as CounterfactualReference[])
    for (const { name } of PLANTED) {
      const margin = RECOVERED[reference][name];
      const row = rows.find((r) => r.fixture === name && r.reference === reference);
      it(`${name} against ${reference}: ${margin !== undefined ? `names "${PLANTED_FACTOR[name].label}" first` : 'does not name its plant first'}`, () => {
        expect(row, `no committed row for ${name} against ${reference}`).toBeDefined();
        const ranked = rankCurves(row!.curves, row!.threshold);
        expect(ranked.map((e) => `${e.label} ${e.ratio.toFixed(6)}`)).toEqual(
          row!.edits.map((e) => `${e.label} ${e.ratio.toFixed(6)}`),
        );
        const n = counterfactualNamedFirst(name, row!);
        const table = row!.edits
          .slice(0, 4)
          .map((e) => `${e.label} ${e.ratio.toFixed(2)} [${e.ciLow.toFixed(2)}, ${e.ciHigh.toFixed(2)}]`)
          .join('; ');
        expect(n.recovered, `${name}: first "${n.top}", planted at rank ${n.rank}: ${table}`).toBe(
          margin !== undefined,
        );
        if (margin !== undefined) expect(n.margin).toBeGreaterThanOrEqual(margin);
      });
    }

  it('the committed curves are what the code computes (spot check: the first 24 frames of each fixture)', async () => {
    for (const { name } of PLANTED) {
      const row = rows.find((r) => r.fixture === name && r.reference === 'planted-reference')!;
      const again = await counterfactualRecovery(name, 'planted-reference', frames, {
        ...COUNTERFACTUAL_DEFAULTS,
        samples: SPOT_CHECK_SAMPLES,
        bootstrap: 0,
      });
      again.curves.forEach((c, e) => {
        const committed = row.spotCheck[e];
        expect(`${c.family}${c.way}`).toBe(`${committed.family}${committed.way}`);
        for (const reader of ['classifier', 'reference'] as const)
          c[reader].forEach((v, k) =>
            expect(Math.abs(v - committed[reader][k]), `${name} ${c.label} ${reader} ${k}`).toBeLessThan(1e-5),
          );
      });
    }
  }, 120_000);
});
