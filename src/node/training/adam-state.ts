/**
 * Adam optimiser state as named host tensors, so a training run can be checkpointed and resumed
 * exactly: `<prefix>/iter`, then `<prefix>/m/<variable>` and `<prefix>/v/<variable>` per trained
 * variable (none while the optimiser has not stepped yet). Shared by the GAN and classifier trainers.
 */
import * as tf from '../../core/tf.js';
import type { HostTensor, HostTensorMap } from '../../core/weights/codec.js';

/** Appends `opt`'s state to `out`; `names` are the trained variables' names in the order minimize got them. */
export async function adamStateTensors(
  prefix: string,
  opt: tf.AdamOptimizer,
  names: string[],
  out: Array<[string, HostTensor]>,
): Promise<void> {
  const ws = await opt.getWeights();
  const iter = (await ws[0].tensor.data())[0];
  out.push([`${prefix}/iter`, { shape: [1], values: Float32Array.of(iter) }]);
  ws[0].tensor.dispose(); // a fresh scalar; the others are the optimiser's live accumulators
  const rest = ws.slice(1);
  if (rest.length === 0) return;
  if (rest.length !== 2 * names.length)
    throw new Error(`${prefix}: ${rest.length} moments for ${names.length} variables`);
  for (const [k, kind] of (['m', 'v'] as const).entries()) {
    for (let i = 0; i < names.length; i++) {
      const t = rest[k * names.length + i].tensor;
      out.push([`${prefix}/${kind}/${names[i]}`, { shape: [...t.shape], values: Float32Array.from(await t.data()) }]);
    }
  }
}

/** Restores state written by adamStateTensors; `t` holds the tensors under the prefix, the prefix removed. */
export async function loadAdamState(
  t: HostTensorMap,
  opt: tf.AdamOptimizer,
  names: string[],
  file: string,
): Promise<void> {
  const iter = t.get('iter');
  if (iter === undefined) throw new Error(`${file}: optimiser state without iter`);
  const ws: Awaited<ReturnType<tf.AdamOptimizer['getWeights']>> = [
    { name: 'iter', tensor: tf.scalar(iter.values[0], 'int32') },
  ];
  if (t.size > 1) {
    for (const kind of ['m', 'v']) {
      for (const name of names) {
        const h = t.get(`${kind}/${name}`);
        if (h === undefined) throw new Error(`${file}: missing optimiser moment ${kind}/${name}`);
        ws.push({ name: `${name}/${kind}`, tensor: tf.tensor(h.values, h.shape, 'float32') });
      }
    }
  }
  await opt.setWeights(ws);
  for (const w of ws) w.tensor.dispose();
}

/** The tensors of `tensors` whose names start with `prefix`, the prefix removed. */
export function withPrefix(tensors: HostTensorMap, prefix: string): HostTensorMap {
  const m: HostTensorMap = new Map();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), v);
  return m;
}
