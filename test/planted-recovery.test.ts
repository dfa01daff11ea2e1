/**
 * Planted failures, recovered (issue 14 item 5): on each fixture of test/fixtures/planted/ the naming
 * method (the contrastive ranking against weights/classifier-corrupted on 1,000 generated samples and
 * the factor attribution of the fixture's margin deficit, src/core/analysis/contrastive-ranking.ts) is
 * run as `npm run fixtures:measure:planted` runs it, without describing the top dims (which do not
 * change the attribution). The test pins the measured outcome both ways: a fixture in RECOVERED must
 * have its planted factor named first (interval excluding 0, positive margin over the runner-up), and
 * one not in it must not, so a change to the method that recovers (or loses) a fixture turns this red
 * until RECOVERED and docs/naming.md's recovery table are updated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/node/backend.js';
import { PLANTED } from './fixtures/planted-data.js';
import { namedFirst, PLANTED_FACTOR, RECOVERY_DEFAULTS, recoverPlanted } from './fixtures/planted-recovery.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The fixtures whose planted factor the method names first (measured: docs/naming.md). */
const RECOVERED: string[] = ['planted-noise'];

describe('planted failures, named by the method', () => {
  for (const { name } of PLANTED) {
    const expected = RECOVERED.includes(name);
    it(`${name}: ${expected ? 'names' : 'does not (yet) name'} "${PLANTED_FACTOR[name].label}" first`, async () => {
      const r = await recoverPlanted(name, { ...RECOVERY_DEFAULTS, dims: 0 });
      expect(r.topDims).toHaveLength(10);
      const n = namedFirst(r);
      const table = r.factors.map((f) => `${f.label} ${f.coefficient.toFixed(3)}`).join('; ');
      expect(n.recovered, `${name}: named first "${n.top}" (margin ${n.margin.toFixed(3)}): ${table}`).toBe(expected);
      if (expected) expect(n.margin).toBeGreaterThan(0);
      // Two gradient passes over 1,000 samples per fixture: 130-260 s each at a load average of 35.
    }, 600_000);
  }
});
