import * as tf from '../tf.js';
import { checkTensorShapes, type HostTensor, type HostTensorMap } from '../weights/codec.js';
import { normals, type Rng } from '../random.js';

/** How a parameter starts before training. */
export type Init = 'normal' | 'zeros' | 'ones' | { constant: number } | { normalStd: number };

/**
 * The named trainable variables of one model. Initial values are drawn with the seeded JS PRNG, so a
 * freshly built model is identical on every backend; trained values come from a weights file whose
 * names and shapes are checked before anything is assigned. Without a PRNG (`null`: a model whose
 * weights are loaded at once, `fromWeights`) every parameter starts at zero: drawing initial values
 * that `load()` replaces, every one of them, cost ~1/3 of building the generator on the edge's
 * first live call (issue #19).
 */
export class ParameterSet {
  private readonly vars = new Map<string, tf.Variable>();

  constructor(private readonly rng: Rng | null) {}

  /** Creates a parameter; names are `/`-separated paths, unique within the model. */
  create(name: string, shape: number[], init: Init): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter "${name}" defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (this.rng === null) values = new Float32Array(size);
    else if (init === 'normal') values = normals(this.rng, size);
    else if (init === 'zeros') values = new Float32Array(size);
    else if (init === 'ones') values = new Float32Array(size).fill(1);
    else if ('constant' in init) values = new Float32Array(size).fill(init.constant);
    else values = normals(this.rng, size).map((v) => v * init.normalStd);
    // The variable shares the initial tensor's data; disposing that tensor drops only its own
    // reference, so the initial values are freed once loading or training assigns new ones.
    const initial = tf.tensor(values, shape, 'float32');
    const v = tf.variable(initial, true);
    initial.dispose();
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`no parameter "${name}"`);
    return v;
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** All variables in definition order (for optimisers). */
  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Names and shapes the model expects from a weights file. */
  expectedShapes(): Map<string, number[]> {
    return new Map([...this.vars].map(([n, v]) => [n, v.shape]));
  }

  /** Assigns every parameter from decoded weights after checking names and shapes. */
  load(tensors: HostTensorMap, file: string): void {
    checkTensorShapes(tensors, this.expectedShapes(), file);
    for (const [name, v] of this.vars) {
      const t = tensors.get(name)!;
      tf.tidy(() => v.assign(tf.tensor(t.values, t.shape, 'float32')));
    }
  }

  /** Copies every parameter to the host, in definition order. */
  async toHost(): Promise<Array<[string, HostTensor]>> {
    const out: Array<[string, HostTensor]> = [];
    for (const [name, v] of this.vars) {
      out.push([name, { shape: [...v.shape], values: (await v.data()) as Float32Array }]);
    }
    return out;
  }

  /** Number of scalar parameters. */
  size(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
