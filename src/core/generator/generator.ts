/**
 * The conditional StyleGAN2 generator, callable in three stages:
 *   mapping(z, classes) -> w [N, wDim]
 *   styles(w)           -> s [N, S]      (S = StyleSpace, see style-layout.ts)
 *   synthesis(s, opts)  -> image [N, 32, 32, C] in [0, 1] (C = imageChannels; painted: paint.ts)
 * and generate(z, classes) = synthesis(styles(mapping(z, classes))).
 *
 * Image range: the synthesis network's raw output is trained against real images scaled to [-1, 1]
 * (`toGanRange`); `synthesis` maps it to the classifier's range [0, 1] with `toUnitRange`
 * ((x + 1) / 2, clipped). `synthesisRaw` returns the unclipped [-1, 1]-scaled output (training).
 */
import * as tf from '../tf.js';
import { ParameterSet } from '../nn/params.js';
import { createRng, normals, type Rng } from '../random.js';
import type { HostTensor, HostTensorMap, ManifestInfo } from '../weights/codec.js';
import type { WeightsManifest } from '../weights/manifest.js';
import {
  checkGeneratorArchitecture,
  DEFAULT_GENERATOR,
  mappingWDim,
  GeneratorArchitectureSchema,
  type GeneratorArchitecture,
} from './architecture.js';
import { MappingNetwork, type ClassInput, type MappingOptions } from './mapping.js';
import { broadcastRows, SynthesisBlock } from './synthesis-block.js';
import { createAffine } from './synthesis-layer.js';
import type { EqualizedFc } from './layers.js';
import { WeightTermsCache } from '../nn/weight-terms.js';
import { buildStyleLayout, type StyleLayer, type StyleLayout } from './style-layout.js';
import { PaintLayer } from './paint.js';
import { resolveGeneratorClasses, type GeneratorClasses, type GeneratorClassesInput } from './classes.js';

/**
 * 'random': fresh noise from the seeded JS PRNG (never tf.random*); 'const': the fixed noise
 * buffers stored with the model (deterministic); 'none': no noise.
 */
type NoiseMode = 'random' | 'const' | 'none';

export interface SynthesisOptions {
  /** Default 'const'. */
  noiseMode?: NoiseMode;
  /** 'random' mode: row i draws its noise from stream (noiseSeed, i) — independent of batching. */
  noiseSeed?: number;
  /**
   * 'random' mode with `noiseSeed`: row i draws its noise from stream (noiseSeed, noiseStreams[i])
   * instead of (noiseSeed, i), so a caller can give each row its sample's stream (a global sample
   * index). Rows may share a stream: they then get the same noise (e.g. every frame of a traversal).
   * Ignored by the 'const' and 'none' modes.
   */
  noiseStreams?: ArrayLike<number>;
  /** 'random' mode alternative: draw all noise sequentially from this generator (training). */
  noiseRng?: Rng;
  /**
   * The rows of s are equal, bit for bit, in their first `sharedStyleDims` dims and share one noise
   * (one stream for every row, or the 'const'/'none' mode): the layers whose styles lie wholly in
   * there run once, at batch 1, and their features and image are broadcast to the batch at the first
   * layer that does not (a traversal's frames differ only from the traversed dim's layer on). Each
   * op computes every row alone, so images are bit-identical to the plain computation's
   * (test/shared-style-prefix.test.ts). Default 0 (every layer at the full batch).
   */
  sharedStyleDims?: number;
}

/** Raw generator output (GAN range, about [-1, 1]) -> classifier range [0, 1]. */
export function toUnitRange(x: tf.Tensor4D): tf.Tensor4D {
  return tf.clipByValue(tf.mul(tf.add(x, 1), 0.5), 0, 1) as tf.Tensor4D;
}

/** Images in [0, 1] -> the GAN range [-1, 1] (real images for the discriminator). */
export function toGanRange(x: tf.Tensor4D): tf.Tensor4D {
  return tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D;
}

/** Tensor names that are model state but not trained (not given to the optimiser). */
export function isBufferName(name: string): boolean {
  return name.endsWith('/noise_const') || name.endsWith('/w_avg') || name === 'paint/z_edges';
}

export class Generator {
  readonly params: ParameterSet;
  readonly layout: StyleLayout;
  readonly mappingNetwork: MappingNetwork;
  readonly affines: EqualizedFc[];
  readonly blocks: SynthesisBlock[];
  /** Colours the ink when the architecture has `paint` (paint.ts); null otherwise. */
  readonly paint: PaintLayer | null;
  readonly arch: GeneratorArchitecture;
  /**
   * Class names and default traversal class (classes.ts): from the manifest's `classes` field when
   * loaded, the fallbacks ("0".."K-1", min(3, K-1)) for a fresh generator; set with `setClasses`.
   */
  classes: GeneratorClasses;
  /**
   * The weight-only terms of the mapping, affine and synthesis layers, computed once per weight
   * value (nn/weight-terms.ts): bit-identical results, recomputed after any assignment to a weight.
   * Off (`setWeightCache(false)`) for a generator whose own weights are trained (the GAN trainer's G).
   */
  private readonly weightCache = new WeightTermsCache();

  /**
   * Builds a freshly initialised generator (initial weights from `seed`). `warmCache` false skips
   * computing the weight terms of those initial weights, and `seed` null drawing them (zeros): for a
   * caller that loads others at once (`fromWeights`), where they would be thrown away at start-up.
   */
  constructor(arch: GeneratorArchitecture = DEFAULT_GENERATOR, seed: number | null = 0, warmCache = true) {
    this.arch = checkGeneratorArchitecture(arch);
    this.classes = resolveGeneratorClasses(this.arch.numClasses);
    this.params = new ParameterSet(seed === null ? null : createRng(seed));
    this.layout = buildStyleLayout(this.arch);
    this.paint = this.arch.paint ? new PaintLayer(this.params, this.arch.paint.components) : null;
    this.mappingNetwork = new MappingNetwork(this.params, this.arch, this.weightCache, this.paint);
    const modulated = this.layout.layers.filter((l) => l.kind !== 'paint');
    this.affines = modulated.map((l) => createAffine(this.params, l, mappingWDim(this.arch), this.weightCache));
    let convIndex = 0;
    this.blocks = this.arch.resolutions.map((res) => {
      const layers = modulated.filter((l) => l.resolution === res);
      const convs = layers.filter((l) => l.kind === 'conv').map((layer) => ({ layer, index: convIndex++ }));
      const torgb = layers.find((l) => l.kind === 'torgb')!;
      return new SynthesisBlock(this.params, res, convs, torgb, this.arch.constNoiseSeed, this.weightCache);
    });
    if (warmCache) this.warmWeightCache();
  }

  /**
   * Switches the weight-terms cache on (default) or off. Off disposes the cached terms and computes
   * them on every call, so gradients reach the weights: required while training this generator.
   */
  setWeightCache(on: boolean): void {
    this.weightCache.enabled = on;
    this.warmWeightCache();
  }

  /** Runs each synthesis conv's epilogue fused where the backend can (default) or as stock ops. */
  setFusedEpilogue(on: boolean): void {
    for (const conv of this.blocks.flatMap((b) => b.convs)) conv.fusedEpilogue = on;
  }

  get weightCacheEnabled(): boolean {
    return this.weightCache.enabled;
  }

  /**
   * Computes every cached term now (after construction and loading), so the tensor count does not
   * grow on the first call (an assignment later swaps terms one for one on next use).
   */
  private warmWeightCache(): void {
    if (!this.weightCache.enabled) return;
    for (const fc of [this.mappingNetwork.embed, ...this.mappingNetwork.layers, ...this.affines]) {
      fc.scaledWeight();
      fc.scaledBias();
    }
    for (const b of this.blocks) {
      for (const c of b.convs) c.weightTerms();
      b.torgb.scaledWeight();
    }
  }

  /** Size of StyleSpace S. */
  get styleSize(): number {
    return this.layout.size;
  }

  get resolution(): number {
    return this.arch.resolutions[this.arch.resolutions.length - 1];
  }

  /** Variables the optimiser trains (everything but the noise buffers and w_avg), in definition order. */
  trainableVariables(): tf.Variable[] {
    return this.params
      .names()
      .filter((n) => !isBufferName(n))
      .map((n) => this.params.get(n));
  }

  mapping(z: tf.Tensor2D, classes: ClassInput, opts: MappingOptions = {}): tf.Tensor2D {
    return this.mappingNetwork.apply(z, classes, opts);
  }

  /**
   * w [N, wDim] -> s [N, S]: every layer's affine output, concatenated in layout order; with a paint
   * layer, the colour pair (w's last 6 entries) is its style as it is.
   */
  styles(w: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      if (!this.paint)
        return tf.concat(
          this.affines.map((a) => a.apply(w)),
          1,
        ) as tf.Tensor2D;
      const n = w.shape[0];
      const width = mappingWDim(this.arch);
      const wMlp = tf.slice(w, [0, 0], [n, width]) as tf.Tensor2D;
      const pair = tf.slice(w, [0, width], [n, this.arch.wDim - width]);
      return tf.concat([...this.affines.map((a) => a.apply(wMlp)), pair], 1) as tf.Tensor2D;
    });
  }

  /**
   * The host noise of the 'random' mode for n rows, one array [n, R, R, 1] per conv layer in
   * execution order (null in the other modes): what `synthesisRaw` adds, for a caller that must feed
   * the same noise to another implementation (bench/peer.ts).
   */
  randomNoise(n: number, opts: SynthesisOptions = {}): Float32Array[] | null {
    if ((opts.noiseMode ?? 'const') !== 'random') return null;
    const convs = this.blocks.flatMap((b) => b.convs);
    if (opts.noiseRng !== undefined) {
      if (opts.noiseStreams !== undefined) throw new Error('noiseStreams needs noiseSeed, not noiseRng');
      const rng = opts.noiseRng;
      return convs.map((c) => normals(rng, n * c.layer.resolution ** 2));
    }
    if (opts.noiseSeed === undefined) throw new Error("noiseMode 'random' needs noiseSeed or noiseRng");
    const streams = opts.noiseStreams;
    if (streams !== undefined && streams.length !== n)
      throw new RangeError(`noiseStreams has ${streams.length} entries for ${n} rows`);
    const noise = convs.map((c) => new Float32Array(n * c.layer.resolution ** 2));
    // Every layer's noise of one stream, drawn once however many rows share it.
    const drawn = new Map<number, Float32Array[]>();
    for (let i = 0; i < n; i++) {
      const stream = streams === undefined ? i : streams[i];
      let perLayer = drawn.get(stream);
      if (perLayer === undefined) {
        const rng = createRng(opts.noiseSeed, stream);
        perLayer = convs.map((c) => normals(rng, c.layer.resolution ** 2));
        drawn.set(stream, perLayer);
      }
      convs.forEach((c, k) => noise[k].set(perLayer[k], i * c.layer.resolution ** 2));
    }
    return noise;
  }

  /** s [N, S] -> raw image [N, R, R, C] in the GAN range (unclipped). */
  synthesisRaw(s: tf.Tensor2D, opts: SynthesisOptions = {}): tf.Tensor4D {
    if (s.rank !== 2 || s.shape[1] !== this.layout.size)
      throw new RangeError(`s must be [N, ${this.layout.size}], got [${s.shape}]`);
    const n = s.shape[0];
    const mode = opts.noiseMode ?? 'const';
    // Random noise is drawn on the host before the tidy (the rng is plain JS).
    const noiseHost = this.randomNoise(n, opts);
    const shared = this.checkSharedStyleDims(n, opts);
    // Rows a layer runs at: 1 for a layer wholly in the shared prefix, else the batch.
    const rows = (l: StyleLayer) => (l.offset + l.channels <= shared ? 1 : n);
    return tf.tidy(() => {
      let x: tf.Tensor4D | null = null;
      let img: tf.Tensor4D | null = null;
      let convIndex = 0;
      for (const block of this.blocks) {
        const layers = this.layout.layers.filter((l) => l.resolution === block.resolution && l.kind !== 'paint');
        const styles = layers.map((l) => tf.slice(s, [0, l.offset], [rows(l), l.channels]) as tf.Tensor2D);
        const noise = block.convs.map((c) => {
          const r = c.layer.resolution;
          const k = convIndex++;
          if (mode === 'none') return null;
          if (mode === 'const') return c.noiseConst as unknown as tf.Tensor4D;
          // Row 0's noise for a layer run once: every row's is the same (checkSharedStyleDims).
          const m = rows(c.layer);
          return tf.tensor4d(noiseHost![k].subarray(0, m * r * r), [m, r, r, 1]);
        });
        ({ x, img } = block.apply(x, img, styles, noise));
      }
      if (!this.paint) return broadcastRows(img!, n);
      const paint = this.layout.layers[this.layout.layers.length - 1];
      const m = rows(paint);
      const painted = this.paint.apply(
        broadcastRows(img!, m),
        tf.slice(s, [0, paint.offset], [m, paint.channels]) as tf.Tensor2D,
      );
      return broadcastRows(painted, n);
    });
  }

  /** `opts.sharedStyleDims` (0 when unset), refused when the rows do not share one noise. */
  private checkSharedStyleDims(n: number, opts: SynthesisOptions): number {
    const shared = opts.sharedStyleDims ?? 0;
    if (!Number.isInteger(shared) || shared < 0 || shared > this.layout.size)
      throw new RangeError(`sharedStyleDims must be an integer in [0, ${this.layout.size}], got ${shared}`);
    if (shared === 0 || n === 1 || (opts.noiseMode ?? 'const') !== 'random') return shared;
    const streams = opts.noiseStreams;
    // Without streams row i draws stream i; noiseRng draws every row's noise anew: rows differ.
    if (opts.noiseRng !== undefined || streams === undefined || !Array.from(streams).every((v) => v === streams[0]))
      throw new RangeError('sharedStyleDims needs one noise for every row (one noise stream, or const noise)');
    return shared;
  }

  /** s [N, S] -> image [N, R, R, C] in [0, 1]. */
  synthesis(s: tf.Tensor2D, opts: SynthesisOptions = {}): tf.Tensor4D {
    return tf.tidy(() => toUnitRange(this.synthesisRaw(s, opts)));
  }

  /** synthesis(styles(mapping(z, classes))). */
  generate(z: tf.Tensor2D, classes: ClassInput, opts: SynthesisOptions & MappingOptions = {}): tf.Tensor4D {
    return tf.tidy(() => this.synthesis(this.styles(this.mapping(z, classes, opts)), opts));
  }

  /** All tensors (parameters and buffers) on the host, in definition order. */
  async toHost(): Promise<Array<[string, HostTensor]>> {
    return this.params.toHost();
  }

  /** Names its classes and/or its default traversal class (checked against numClasses). */
  setClasses(classes: GeneratorClassesInput, source = 'generator'): void {
    this.classes = resolveGeneratorClasses(this.arch.numClasses, { ...this.classes, ...classes }, source);
  }

  /** Manifest fields of this generator's weights. */
  weightsInfo(
    name: string,
    provenance: Record<string, unknown> = {},
    metrics: Record<string, unknown> = {},
  ): ManifestInfo {
    return {
      name,
      kind: 'generator',
      architecture: { ...this.arch, styleSize: this.layout.size, outputRange: '[0,1] via clip((x+1)/2)' },
      weightsFile: 'weights.bin',
      provenance,
      metrics,
      classes: { names: [...this.classes.names], traversalClass: this.classes.traversalClass },
    };
  }

  /** Assigns all tensors from decoded weights (names and shapes checked). */
  load(tensors: HostTensorMap, file: string): void {
    this.params.load(tensors, file);
    this.warmWeightCache();
  }

  /** Rebuilds a generator from a weights manifest and its tensors. */
  static fromWeights(manifest: WeightsManifest, tensors: HostTensorMap, file = manifest.name): Generator {
    if (manifest.kind !== 'generator') throw new Error(`${file}: kind is "${manifest.kind}", expected "generator"`);
    const arch = GeneratorArchitectureSchema.parse(manifest.architecture);
    const g = new Generator(arch, null, false);
    g.classes = resolveGeneratorClasses(g.arch.numClasses, manifest.classes, file, manifest.provenance?.classNames);
    g.load(tensors, file);
    return g;
  }

  dispose(): void {
    this.weightCache.clear();
    this.params.dispose();
  }
}
