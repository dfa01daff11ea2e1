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
 *    recomputed from the fixtures and the generator and must match the committed one (all four
 *    fixtures in one `counterfactualAttributions` pass, which must return for each classifier what
 *    `counterfactualAttribution` returns for it alone: checked on a few frames).
 * A change to the method, the edits or a fixture turns this red until the figures are re-measured
 * (and docs/naming.md's table with them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  counterfactualAttribution,
  counterfactualAttributions,
  rankCurves,
  type CounterfactualAttribution,
} from '../src/core/analysis/counterfactual-attribution.js';
import { useBackend } from '../src/node/backend.js';
import { PLANTED } from './fixtures/planted-data.js';
import {
  COUNTERFACTUAL_DEFAULTS,
  counterfactualNamedFirst,
  counterfactualRecoveries,
  loadPlanted,
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
    // All four fixtures in one pass: the edited frames and the reference's reads are shared.
    const names = PLANTED.map((p) => p.name);
    const all = await counterfactualRecoveries(names, 'planted-reference', frames, {
      ...COUNTERFACTUAL_DEFAULTS,
      samples: SPOT_CHECK_SAMPLES,
      bootstrap: 0,
    });
    names.forEach((name, f) => {
      const row = rows.find((r) => r.fixture === name && r.reference === 'planted-reference')!;
      all[f].curves.forEach((c, e) => {
        const committed = row.spotCheck[e];
        expect(`${c.family}${c.way}`).toBe(`${committed.family}${committed.way}`);
        for (const reader of ['classifier', 'reference'] as const)
          c[reader].forEach((v, k) =>
            expect(Math.abs(v - committed[reader][k]), `${name} ${c.label} ${reader} ${k}`).toBeLessThan(1e-5),
          );
      });
    });
  }, 120_000);
});

describe('counterfactualAttributions: several classifiers against one reference in one pass', () => {
  it('returns, for each classifier, exactly what counterfactualAttribution returns for it alone', async () => {
    // Three frames and a short bootstrap: the identity is checked, not the figures; the bootstrap
    // is on so that each classifier's seeded resampling is compared too.
    const per = frames.size * frames.size * frames.channels;
    const few = { ...frames, images: frames.images.subarray(0, 3 * per), labels: frames.labels.subarray(0, 3) };
    const o = { seed: 3, bootstrap: 20 };
    const names = ['planted-left', 'planted-noise'];
    const fixtures = names.map((name) => loadPlanted(name).classifier);
    const reference = loadPlanted('planted-reference').classifier;
    try {
      const together = await counterfactualAttributions(fixtures, reference, few, o);
      expect(together).toHaveLength(names.length);
      for (const [f, fixture] of fixtures.entries())
        expect(together[f], names[f]).toEqual(await counterfactualAttribution([fixture, reference], few, o));
    } finally {
      for (const f of fixtures) f.dispose();
      reference.dispose();
    }
  });
});
