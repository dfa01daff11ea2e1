/**
 * The check of a runner's embeddings result against the job that asked for it before it becomes an
 * immutable, served result. The payload's shape is src/protocol/embeddings-payload.ts.
 */
import { parseEmbeddingsOptions } from '../../core/analysis/embeddings-options.js';
import type { JobSpec } from '../../protocol/job.js';
import { ProblemError } from '../problem.js';
import { EmbeddingsPayloadSchema } from '../../protocol/embeddings-payload.js';
import { parsePayload, payloadError, type PayloadFrame } from './payloads.js';

/** The latent sizes of the generator the points are samples of. */
export interface EmbeddingsFrame extends PayloadFrame {
  zDim: number;
  wDim: number;
}

/** Checks a runner's embeddings payload against its job; throws a 400 problem naming the field. */
export function checkEmbeddingsPayload(payload: unknown, frame: EmbeddingsFrame, spec: JobSpec): void {
  let o: ReturnType<typeof parseEmbeddingsOptions>;
  try {
    o = parseEmbeddingsOptions(spec.options ?? {});
  } catch (e) {
    throw new ProblemError(409, 'conflict', `the job's options are not embeddings options: ${(e as Error).message}`);
  }
  const p = parsePayload(EmbeddingsPayloadSchema, payload);
  const n = Math.min(o.samples, spec.count);
  if (p.count !== n) throw payloadError('count', ` is ${p.count}, the job embeds the first ${n} samples of the sweep`);
  if (p.k !== o.k) throw payloadError('k', ` is ${p.k}, the job's option k is ${o.k}`);
  for (const f of ['labels', 'correct'] as const)
    if (p[f].length !== n) throw payloadError(f, ` must have count = ${n} entries`);
  // Sample i of a whole sweep has class i mod K.
  const wrong = p.labels.findIndex((l, i) => l !== i % frame.numClasses);
  if (wrong >= 0)
    throw payloadError(
      `labels.${wrong}`,
      ` is ${p.labels[wrong]}, sample ${wrong} has class ${wrong % frame.numClasses}`,
    );
  const dims = { Z: frame.zDim, W: frame.wDim, S: frame.styleSize };
  if (p.spaces.map((s) => s.space).join() !== 'Z,W,S')
    throw payloadError('spaces', ' must be Z, W and S, in that order');
  p.spaces.forEach((s, i) => {
    if (s.dims !== dims[s.space])
      throw payloadError(`spaces.${i}.dims`, ` is ${s.dims}, the generator's ${s.space} has ${dims[s.space]}`);
    if (s.points.length !== n) throw payloadError(`spaces.${i}.points`, ` must have count = ${n} points`);
  });
}
