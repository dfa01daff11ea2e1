/**
 * The edge's check of a runner's explain result (src/worker/jobs/explain-payload.ts): a well-formed
 * explanation passes; each malformed one, or one that answers another request, is refused with a
 * 400 naming the field.
 */
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/protocol/job.js';
import { checkExplainPayload } from '../../src/worker/jobs/explain-payload.js';
import { ProblemError } from '../../src/worker/problem.js';

const frame = { styleSize: 6, numClasses: 10 };
const spec = {
  kind: 'explain',
  classifier: 'c',
  seed: 1,
  count: 2000,
  generatorId: 'g',
  classifierId: 'c',
  options: { image: 'iVBORw0KGgo=', label: 0, steps: 8, seed: 1, top: 2 },
} as unknown as JobSpec;
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==';

/** A misread image (label 0 read as 3) with a counterfactual, as explanationJson writes it. */
function payload() {
  const dim = (index: number, deviation: number) => ({
    index,
    name: `b4.conv0:${index}`,
    deviation,
    value: 0.5,
    centre: 0.1,
    std: 0.2,
    classRank: index + 1,
    label: 'no visible change',
  });
  return {
    schema: 'faultlines.explanation/1',
    label: 0,
    original: { predicted: 3, pTrue: 0.02 },
    reconstruction: {
      predicted: 3,
      pTrue: 0.1,
      image: PNG,
      style: [0, 1, 2, 3, 4, 5],
      psnr: 14.2,
      featureDistance: 0.3,
    },
    sameDecision: true,
    warnings: [],
    centre: { samples: 200, wellClassified: 186 },
    deviations: [dim(4, -1.5), dim(1, 1.2)],
    counterfactual: {
      found: true,
      dims: [4, 1],
      allDims: false,
      fraction: 0.4,
      distance: 0.77,
      frames: [
        { fraction: 0, predicted: 3, pTrue: 0.1, image: PNG },
        { fraction: 0.4, predicted: 0, pTrue: 0.6, image: PNG },
      ],
      reason: 'moving 2 dim(s) 40.0% of the way back to the class centre (0.77 std) makes the classifier read 0',
    },
    boundary: null,
    seconds: { projection: 1, explanation: 2 },
  };
}

function refusal(p: unknown, s: JobSpec = spec): { status: number; field: unknown } {
  try {
    checkExplainPayload(p, frame, s);
  } catch (e) {
    if (e instanceof ProblemError) return { status: e.problem.status, field: e.problem.field };
    throw e;
  }
  return { status: 200, field: undefined };
}

describe('checkExplainPayload', () => {
  it('accepts an explanation of the job’s request', () => {
    expect(refusal(payload())).toEqual({ status: 200, field: undefined });
  });

  it('refuses malformed or mismatched explanations, naming the field', () => {
    const cases: Array<[string, (p: ReturnType<typeof payload>) => void]> = [
      ['payload.label', (p) => (p.label = 1)],
      ['payload.reconstruction.style', (p) => p.reconstruction.style.pop()],
      ['payload.deviations.0.index', (p) => (p.deviations[0].index = 6)],
      ['payload.deviations', (p) => p.deviations.push({ ...p.deviations[0], index: 2 })],
      ['payload.original.predicted', (p) => (p.original.predicted = 10)],
      ['payload.sameDecision', (p) => (p.sameDecision = false)],
      ['payload.counterfactual', (p) => ((p as { counterfactual: unknown }).counterfactual = null)],
      ['payload.counterfactual.dims.1', (p) => (p.counterfactual.dims[1] = 99)],
      [
        'payload.counterfactual.frames.1.image',
        (p) => (p.counterfactual.frames[1].image = 'data:image/gif;base64,R0lG'),
      ],
      ['payload.reconstruction.pTrue', (p) => (p.reconstruction.pTrue = 1.5)],
      ['payload', (p) => Object.assign(p, { extra: 1 })],
    ];
    for (const [field, mangle] of cases) {
      const p = payload();
      mangle(p);
      expect(refusal(p), field).toEqual({ status: 400, field });
    }
  });

  it('refuses an explanation for a job that is not an explain job (409)', () => {
    expect(refusal(payload(), { ...spec, options: {} } as JobSpec).status).toBe(409);
  });
});
