/**
 * Whether gradients flow through a user's classifier: the gradient ranking needs d(logits)/d(image)
 * through every op, and a model with an op tfjs has no gradient for (Equal, ...) can only be used
 * for the analyses that need none. Read from the graph the model actually runs: one forward pass
 * on the model's own input shape is recorded on tfjs's tape, the kernels on the path from the
 * input to the output are kept (as tfjs's backward pass keeps them), and each is looked up in
 * tfjs's gradient registry. Nothing is differentiated and no error message is parsed, so the answer
 * holds for LayersModel and GraphModel alike and names every such op, not only the first one a
 * backward pass would trip on.
 */
import * as tf from '../tf.js';

/** A kernel call on tfjs's tape (tfjs-core's `TapeNode`, which it does not export). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  /** Set for a kernel with a registered gradient, or an op with its own (`tf.customGrad`). */
  gradient?: unknown;
  saved?: tf.Tensor[];
}

/** The engine fields the recording uses; tfjs-core exposes `state` but not its tape methods. */
interface TapeState {
  activeTape: TapeNode[] | null;
  gradientDepth: number;
}

/** The kernels of `f(input)` that depend on `input` and lead to the output, in the order they ran. */
function kernelsFromInputToOutput(f: (x: tf.Tensor) => tf.Tensor, input: tf.Tensor): TapeNode[] {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  // What tfjs's gradients() does before its forward pass: a tape is recorded while gradientDepth > 0.
  const outermost = state.gradientDepth === 0;
  if (outermost) state.activeTape = [];
  const first = state.activeTape!.length;
  state.gradientDepth++;
  let tape: TapeNode[];
  let outputId: number;
  try {
    tf.tidy(() => {
      outputId = f(input).id;
    });
  } finally {
    state.gradientDepth--;
    tape = state.activeTape!.slice(first);
    if (outermost) {
      // No backward pass will free what the forward pass saved for it.
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      state.activeTape = null;
    } else {
      state.activeTape!.length = first;
    }
  }
  const fromInput = new Set([input.id]);
  const dependsOnInput = tape.filter((node) => {
    if (!Object.values(node.inputs).some((t) => t != null && fromInput.has(t.id))) return false;
    for (const t of node.outputs) fromInput.add(t.id);
    return true;
  });
  const toOutput = new Set([outputId!]);
  const onPath: TapeNode[] = [];
  for (let i = dependsOnInput.length - 1; i >= 0; i--) {
    const node = dependsOnInput[i];
    if (!node.outputs.some((t) => toOutput.has(t.id))) continue;
    for (const t of Object.values(node.inputs)) if (t != null) toOutput.add(t.id);
    onPath.push(node);
  }
  return onPath.reverse();
}

/** What the probe found: the kernels between input and output, and those tfjs cannot differentiate. */
export interface Differentiability {
  /** Kernel names on the path from the input to the output, each once, in the order they first ran. */
  kernels: string[];
  /** Those of `kernels` with neither a registered gradient nor a custom one. */
  withoutGradient: string[];
}

/**
 * Which kernels of `f` lie between its input and its output, and which of them have no gradient.
 * `input` is one example of what `f` takes (a user model: its own input shape, normalised as its
 * adapter normalises); its values matter only to a model whose control flow depends on them.
 */
export function differentiability(f: (x: tf.Tensor) => tf.Tensor, input: tf.Tensor): Differentiability {
  const kernels: string[] = [];
  const withoutGradient: string[] = [];
  for (const node of kernelsFromInputToOutput(f, input)) {
    if (kernels.includes(node.kernelName)) continue;
    kernels.push(node.kernelName);
    // A registered kernel's gradient is in the registry; an op made with tf.customGrad carries its own.
    if (tf.getGradient(node.kernelName) == null && node.gradient == null) withoutGradient.push(node.kernelName);
  }
  return { kernels, withoutGradient };
}
