/**
 * Planted failures, recovered (issue 14 item 5): on each fixture of test/fixtures/planted/ the naming
 * method (gradient ranking of S on 1,000 generated samples, describeDirections on its top-10 dims
 * against weights/classifier-corrupted, whyItFails) is run as `npm run fixtures:measure:planted` runs
 * it. The test pins the measured outcome both ways: a fixture in RECOVERED must have its planted
 * factor named first (with a positive margin), and one not in it must not — so a change to the method
 * that recovers a fixture turns this red until the fixture is moved to RECOVERED and docs/naming.md's
 * recovery table is updated. Measured (docs/naming.md): none of the four is recovered today.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/node/backend.js';
import { PLANTED } from './fixtures/planted-data.js';
import { namedFirst, PLANTED_FACTOR, recoverPlanted } from './fixtures/planted-recovery.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The fixtures whose planted factor the method names first (measured: docs/naming.md). */
const RECOVERED: string[] = [];

describe('planted failures, named by the method', () => {
  for (const { name } of PLANTED) {
    const expected = RECOVERED.includes(name);
    it(`${name}: ${expected ? 'names' : 'does not (yet) name'} "${PLANTED_FACTOR[name].label}" first`, async () => {
      const r = await recoverPlanted(name);
      expect(r.topDims).toHaveLength(10);
      expect(r.whyFlips).toBeGreaterThan(0);
      const n = namedFirst(r);
      expect(n.recovered, `${name}: named first "${n.top}" (margin ${n.margin.toFixed(2)}): ${r.sentence}`).toBe(
        expected,
      );
    });
  }
});
