/** A model the core refuses (ModelFormatError) as the API's 422, naming the field at fault. */
import { ModelFormatError } from '../../core/classifier/tfjs-model-json.js';
import { ProblemError } from '../problem.js';

/** `err` as a 422 model-refused problem when the core refused the model's files; any other error unchanged. */
export function modelRefused(err: unknown): unknown {
  if (err instanceof ModelFormatError) return new ProblemError(422, 'model-refused', err.message, { field: err.field });
  return err;
}
