/**
 * Whether gradients flow through a user's classifier: the gradient ranking needs d(logits)/d(image)
 * through every op, and a model with an op tfjs has no gradient for (ArgMax, Round, ...) can only
 * be used for the analyses that need none. Found by probing, since tfjs has no registry query for
 * "every op of this model has a gradient" across LayersModel and GraphModel alike.
 */
import * as tf from '../tf.js';
import type { Classifier } from './classifier.js';

/**
 * tfjs-core 4.22's `engine.gradients` leaves its tape behind when the backward pass throws (a
 * kernel without a gradient): the tensors the forward pass saved for it stay allocated until the
 * next successful gradient anywhere in the process. Releases them as a successful call would.
 */
function releaseFailedTape(): void {
  const state = (
    tf.engine() as unknown as { state: { gradientDepth: number; activeTape: Array<{ saved?: tf.Tensor[] }> | null } }
  ).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/**
 * The first op of `classifier` without a gradient (as tfjs names it), or null when d(logits)/d(image)
 * exists. Probes one generator-sized image ([1,32,32,1]: what `logits` takes).
 */
export function opWithoutGradient(classifier: Pick<Classifier, 'logits'>): string | null {
  try {
    // tidy keeps what its function returns: return nothing, so the probe's gradient is freed too.
    tf.tidy(
      () => void tf.grad((x: tf.Tensor) => tf.sum(classifier.logits(x as tf.Tensor4D)))(tf.fill([1, 32, 32, 1], 0.5)),
    );
    return null;
  } catch (err) {
    releaseFailedTape();
    const m =
      /gradient function not found for (\w+)|Cannot compute gradient[^:]*: gradient function not found for (\w+)/i.exec(
        (err as Error).message,
      );
    return m?.[1] ?? m?.[2] ?? (err as Error).message;
  }
}
