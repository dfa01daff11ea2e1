/**
 * What a direction's counterfactual label says (src/core/analysis/counterfactual-attribution.ts
 * `directionWeaknesses`): of the changes a direction makes (an effect of at least minEffect with its
 * interval excluding 0), the one whose edit the classifier is specifically weak to (ratio interval
 * above 1), the largest ratio first; nothing when none of its changes is such an edit.
 */
import { describe, expect, it } from 'vitest';
import {
  directionWeaknesses,
  type CounterfactualAttribution,
  type EditSensitivity,
} from '../src/core/analysis/counterfactual-attribution.js';
import type { DirectionDescription, DirectionsResult, FactorEffect } from '../src/core/analysis/directions.js';
import type { Factor } from '../src/core/image/factors.js';

const effect = (factor: Factor, value: number, half = 0.05): FactorEffect => ({
  factor,
  effect: value,
  ciLow: value - half,
  ciHigh: value + half,
  start: 0,
  end: 0,
  std: 1,
  relative: false,
});

const direction = (id: string, effects: FactorEffect[]): DirectionDescription => ({
  id,
  classIndex: null,
  dims: [Number(id.slice(4))],
  samples: 24,
  effects,
  label: { kind: 'entangled', text: '', factor: effects[0]?.factor ?? null, margin: 1 },
  classifiers: [],
  contrastive: null,
});

const edit = (family: EditSensitivity['family'], way: 1 | -1, label: string, ratio: number, ciLow: number) =>
  ({
    family,
    way,
    label,
    breaks: { classifier: 1, reference: ratio },
    referenceExtrapolated: false,
    ratio,
    ciLow,
    ciHigh: ratio + 0.2,
    firstShare: 0,
  }) satisfies EditSensitivity;

// By ratio, largest first, as counterfactualAttribution returns them.
const cf = {
  edits: [
    edit('noise', 1, 'adds noise', 1.8, 1.5),
    edit('y position', 1, 'moves down', 1.3, 1.1),
    edit('ink', -1, 'fades strokes', 1.2, 0.9),
    edit('stroke', 1, 'thickens strokes', 1.1, 1.05),
  ],
} as unknown as CounterfactualAttribution;

const result = (directions: DirectionDescription[]) => ({ minEffect: 0.25, directions }) as unknown as DirectionsResult;

describe('directionWeaknesses', () => {
  it('names, of the changes a direction makes, the edit the classifier is weakest to', () => {
    const [moves, noisy, none, small] = directionWeaknesses(
      result([
        // Moves down and fades: fading's interval reaches 1, moving down's does not: "moves down".
        direction('dim:408', [effect('intensity', -0.5), effect('centroidY', 0.33)]),
        // Adds noise and moves down: noise has the larger ratio.
        direction('dim:137', [effect('centroidY', 0.6), effect('noise', 0.3)]),
        // Moves up (the other way) and thins (the other way): neither is a weakness.
        direction('dim:502', [effect('centroidY', -0.6), effect('thickness', -0.4)]),
        // Thickens, but below minEffect, or with an interval through 0.
        direction('dim:7', [effect('thickness', 0.2), effect('area', 0.3, 0.4)]),
      ]),
      cf,
    );
    expect(moves).toMatchObject({ id: 'dim:408', edit: { label: 'moves down', factor: 'centroidY', effect: 0.33 } });
    expect(noisy.edit).toMatchObject({ label: 'adds noise', family: 'noise', way: 1, ratio: 1.8 });
    expect(none).toEqual({ id: 'dim:502', edit: null });
    expect(small.edit).toBeNull();
  });

  it('a family is read through any of its factors (area for strokes)', () => {
    const [w] = directionWeaknesses(result([direction('dim:9', [effect('area', 0.4)])]), cf);
    expect(w.edit).toMatchObject({ label: 'thickens strokes', factor: 'area' });
  });
});
