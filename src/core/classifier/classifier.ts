/**
 * What Faultlines analyses: anything that maps a batch of images to class logits.
 *
 * Input: `[N, 32, 32, 1]` float32 in [0, 1] (0 = background, 1 = ink) — the generator's output range.
 * Output: `[N, numClasses]` logits (softmax gives class probabilities). `logits` must be built from
 * differentiable tfjs ops so the gradient ranking can flow through it; user models plug in through
 * an adapter that implements this interface.
 */
import * as tf from '../tf.js';

export interface Classifier {
  /** Stable identifier, e.g. the weights folder name or a content hash. */
  readonly name: string;
  readonly numClasses: number;
  /** Logits for a batch of images in [0, 1]. Pure: creates no variables, keeps no tensors. */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface EvaluationResult {
  count: number;
  accuracy: number;
  /** Accuracy per true class (NaN where a class has no samples). */
  perClass: number[];
  /** How many images were predicted as each class. */
  predictedCounts: number[];
}

/**
 * Top-1 accuracy of `classifier` on images `[count, 32*32*channels]` in [0, 1] (channels last), in
 * batches.
 */
export async function evaluateClassifier(
  classifier: Classifier,
  images: Float32Array,
  labels: ArrayLike<number>,
  batchSize = 500,
  onProgress?: (done: number) => void,
  channels = 1,
): Promise<EvaluationResult> {
  const count = labels.length;
  const px = images.length / count;
  const side = Math.round(Math.sqrt(px / channels));
  if (side * side * channels !== px)
    throw new RangeError(`${images.length} values are not ${count} square images of ${channels} channels`);
  const hits = new Array<number>(classifier.numClasses).fill(0);
  const totals = new Array<number>(classifier.numClasses).fill(0);
  const predictedCounts = new Array<number>(classifier.numClasses).fill(0);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * px, (start + n) * px), [n, side, side, channels]);
      return tf.argMax(classifier.logits(x), 1);
    });
    const p = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < n; i++) {
      const y = labels[start + i];
      totals[y]++;
      predictedCounts[p[i]]++;
      if (p[i] === y) hits[y]++;
    }
    onProgress?.(start + n);
  }
  const correct = hits.reduce((a, b) => a + b, 0);
  return { count, accuracy: correct / count, perClass: hits.map((h, c) => h / totals[c]), predictedCounts };
}
