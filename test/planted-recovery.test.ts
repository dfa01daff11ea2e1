/**
 * Planted failures, recovered (issue 14 item 5): on each fixture of test/fixtures/planted/ the naming
 * method (gradient ranking of S on 1,000 generated samples, describeDirections on its top-10 dims
 * against weights/classifier-corrupted, whyItFails) is run as `npm run fixtures:measure:planted` runs
 * it, and the planted factor must be named first — asserted only for the fixtures the method honestly
 * recovers (docs/naming.md: the recovery table, with the ones it misses and why).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/node/backend.js';
import { PLANTED_FACTOR, recoverPlanted } from './fixtures/planted-recovery.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The fixtures whose planted factor the method names first (measured: docs/naming.md). */
const RECOVERED: string[] = [];

describe('planted failures, named by the method', () => {
  for (const name of RECOVERED) {
    it(`${name}: whyItFails names ${PLANTED_FACTOR[name].label} first, ahead of every other named label`, async () => {
      const r = await recoverPlanted(name);
      const planted = PLANTED_FACTOR[name];
      const named = r.why.filter((f) => f.factor !== null);
      expect(named.length, JSON.stringify(r.why)).toBeGreaterThan(0);
      expect(planted.factor, JSON.stringify(r.why)).toContain(named[0].factor);
      // Its sign: the planted direction of change (more noise, less sharpness, thicker, to the right).
      const d = r.result.directions.find((x) => x.id === named[0].directions[0])!;
      const e = d.effects.find((x) => x.factor === named[0].factor)!;
      expect(Math.sign(e.effect)).toBe(planted.sign);
      // The margin: its share of the flips beyond the reference's exceeds the runner-up named label's.
      expect(named[0].share).toBeGreaterThan(named[1]?.share ?? 0);
    });
  }
});
