/**
 * The check of a runner's explain result against the job that asked for it, before it becomes an
 * immutable, served result: the shape (src/protocol/explain.ts, no unknown fields), the label and
 * the number of deviating dims the job asked for, every dim inside S, the reconstruction's style of
 * S values, and the verdicts inside the classes.
 */
import { ExplainJobOptionsSchema, ExplanationPayloadSchema } from '../../protocol/explain.js';
import type { JobSpec } from '../../protocol/job.js';
import { ProblemError } from '../problem.js';
import { parsePayload, payloadError, type PayloadFrame } from './payloads.js';

/** Checks a runner's explanation against its job; throws a 400 problem naming the field. */
export function checkExplainPayload(payload: unknown, frame: PayloadFrame, spec: JobSpec): void {
  const o = ExplainJobOptionsSchema.safeParse(spec.options ?? {});
  if (!o.success)
    throw new ProblemError(409, 'conflict', `the job's options are not explain options: ${o.error.message}`);
  const p = parsePayload(ExplanationPayloadSchema, payload);
  const { styleSize: S, numClasses: K } = frame;
  if (p.label !== o.data.label) throw payloadError('label', ` is ${p.label}, the job explains label ${o.data.label}`);
  if (p.reconstruction.style.length !== S)
    throw payloadError('reconstruction.style', ` must have the generator's S = ${S} values`);
  if (p.deviations.length > o.data.top)
    throw payloadError('deviations', ` has ${p.deviations.length} dims, the job asked for at most ${o.data.top}`);
  const inS = (field: string, j: number) => {
    if (j >= S) throw payloadError(field, ` (${j}) is not a dim of S (0-${S - 1})`);
  };
  const aClass = (field: string, c: number | null) => {
    if (c !== null && c >= K) throw payloadError(field, ` (${c}) is not a class (0-${K - 1})`);
  };
  aClass('original.predicted', p.original.predicted);
  aClass('reconstruction.predicted', p.reconstruction.predicted);
  if (p.sameDecision !== (p.original.predicted === p.reconstruction.predicted))
    throw payloadError('sameDecision', ' contradicts the two verdicts');
  p.deviations.forEach((d, i) => inS(`deviations.${i}.index`, d.index));
  // A misread image gets a counterfactual, a correctly read one the nearest boundary (never both).
  const misread = p.original.predicted !== p.label;
  if (misread !== (p.counterfactual !== null) || misread === (p.boundary !== null))
    throw payloadError(
      misread ? 'counterfactual' : 'boundary',
      ` is missing: the image is read as ${p.original.predicted}, its label is ${p.label}`,
    );
  p.counterfactual?.dims.forEach((j, i) => inS(`counterfactual.dims.${i}`, j));
  p.counterfactual?.frames.forEach((f, i) => aClass(`counterfactual.frames.${i}.predicted`, f.predicted));
  p.boundary?.dims.forEach((d, i) => {
    inS(`boundary.dims.${i}.index`, d.index);
    aClass(`boundary.dims.${i}.predicted`, d.predicted);
  });
}
