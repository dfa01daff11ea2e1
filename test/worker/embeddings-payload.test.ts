/**
 * The edge's check of a runner's embeddings result (src/worker/jobs/embeddings-payload.ts): a
 * well-formed payload passes; each malformed one is refused with a 400 naming the field.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/protocol/result-keys.js';
import type { JobSpec } from '../../src/protocol/job.js';
import { checkEmbeddingsPayload } from '../../src/worker/jobs/embeddings-payload.js';
import { ProblemError } from '../../src/worker/problem.js';

const frame = { styleSize: 6, numClasses: 3, zDim: 4, wDim: 5 };
const spec = {
  kind: 'embeddings',
  classifier: 'c',
  seed: 0,
  count: 7,
  generatorId: 'g',
  classifierId: 'c',
  options: DEFAULT_OPTIONS.embeddings,
} as unknown as JobSpec;

function payload() {
  const n = 7;
  return {
    schema: 'faultlines.embedding/1',
    count: n,
    labels: Array.from({ length: n }, (_, i) => i % 3),
    correct: [1, 0, 1, 1, 0, 1, 1],
    k: 10,
    spaces: [
      ['Z', 4],
      ['W', 5],
      ['S', 6],
    ].map(([space, dims]) => ({
      space,
      dims,
      points: Array.from({ length: n }, (_, i) => [i * 0.5, -i]),
      knnAuroc: 0.6,
    })),
  };
}

function refusedField(p: unknown): unknown {
  try {
    checkEmbeddingsPayload(p, frame, spec);
    return null;
  } catch (e) {
    if (!(e instanceof ProblemError)) throw e;
    expect(e.problem.status).toBe(400);
    return (e.problem as { field?: unknown }).field;
  }
}

describe('checkEmbeddingsPayload', () => {
  it('accepts a well-formed payload (a null kNN AUROC too: one verdict only)', () => {
    expect(refusedField(payload())).toBeNull();
    const p = payload();
    p.spaces[1].knnAuroc = null as unknown as number;
    expect(refusedField(p)).toBeNull();
  });

  it('refuses each malformed payload naming the field', () => {
    const cases: Array<[string, (p: ReturnType<typeof payload>) => void]> = [
      ['payload.count', (p) => (p.count = 6)],
      ['payload.k', (p) => (p.k = 5)],
      ['payload.labels.4', (p) => (p.labels[4] = 0)],
      ['payload.correct', (p) => p.correct.pop()],
      ['payload.correct.2', (p) => (p.correct[2] = 2)],
      ['payload.spaces.1.dims', (p) => (p.spaces[1].dims = 4)],
      ['payload.spaces.2.points', (p) => p.spaces[2].points.pop()],
      ['payload.spaces.0.points.3.0', (p) => (p.spaces[0].points[3][0] = Number.NaN)],
      ['payload.spaces.0.knnAuroc', (p) => (p.spaces[0].knnAuroc = 1.5)],
      ['payload.spaces', (p) => p.spaces.reverse()],
    ];
    for (const [field, mangle] of cases) {
      const p = payload();
      mangle(p);
      expect(refusedField(p), field).toBe(field);
    }
  });
});
