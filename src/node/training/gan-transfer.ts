/**
 * Transfer initialisation of a generator run (`train-generator --init-from DIR`): a fresh run's G and
 * G_ema start from another trained generator's weights instead of random ones, and D starts fresh.
 *
 * Why: on this project's CPUs a generator takes ~10 hours of shared cores from scratch. Coloured MNIST
 * draws MNIST's digits, so the grey MNIST generator already knows every digit's shapes; only its output
 * colour has to be learnt. The one tensor family whose shape differs between a grey and an RGB generator
 * is toRGB (`synthesis/b<R>.torgb/weight` [1, 1, C, channels], `.torgb/bias` [channels]): a grey source is
 * replicated into every output channel, so the RGB generator starts by drawing the grey digit in all
 * three channels — the same image as the source, which the fresh discriminator then teaches to colour.
 */
import type { HostTensor, HostTensorMap } from '../../core/weights/codec.js';

/** Whether a name is a toRGB parameter, whose last axis is the image's channel count. */
function isToRgb(name: string): boolean {
  return /\.torgb\/(weight|bias)$/.test(name);
}

/** Repeats a tensor's last axis (of size 1) `times` times. */
function repeatLastAxis(t: HostTensor, times: number): HostTensor {
  const shape = [...t.shape.slice(0, -1), times];
  const values = new Float32Array(t.values.length * times);
  for (let i = 0; i < t.values.length; i++) values.fill(t.values[i], i * times, (i + 1) * times);
  return { shape, values };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The source generator's tensors shaped as the target expects: equal shapes are copied, a grey
 * source's toRGB is repeated into the target's channels; any other difference (another class count,
 * style width, channel plan, a missing tensor) is an error naming the tensor, since a partial
 * transfer would silently train a different model than the one asked for.
 */
export function transferTensors(
  source: HostTensorMap,
  expected: ReadonlyMap<string, readonly number[]>,
  from: string,
): HostTensorMap {
  const out: HostTensorMap = new Map();
  for (const [name, shape] of expected) {
    const t = source.get(name);
    if (!t) throw new Error(`--init-from ${from}: the source generator has no tensor ${name}`);
    if (sameShape(t.shape, shape)) out.set(name, t);
    else if (isToRgb(name) && t.shape.at(-1) === 1 && sameShape(t.shape.slice(0, -1), shape.slice(0, -1)))
      out.set(name, repeatLastAxis(t, shape.at(-1)!));
    else
      throw new Error(
        `--init-from ${from}: ${name} is [${t.shape.join(', ')}] there, [${shape.join(', ')}] here (only a grey toRGB can be widened to RGB)`,
      );
  }
  return out;
}
