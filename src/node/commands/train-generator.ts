/**
 * `faultlines train-generator` — trains the conditional StyleGAN2 generator on a domain's corrupted
 * training set (`--domain`, default MNIST) or a folder of labelled images (wasm backend),
 * resumable: by default it continues from `<checkpoint-dir>/latest` when that exists. The EMA
 * generator is what ships (written to --out when the run completes).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { gridPng } from '../../core/image/png.js';
import { latentBatch } from '../../core/random.js';
import { sha256Hex } from '../../core/weights/codec.js';
import type { Generator } from '../../core/generator/generator.js';
import { enumOption, parseOptions } from '../args.js';
import { useBackend, isNodeBackend } from '../backend.js';
import { describeDomainData, loadDomainSet } from '../domain-data.js';
import { DEFAULT_DOMAIN, domainNames, domainStamp, getDomain, type DomainDescriptor } from '../../core/data/domain.js';
import { progressBar } from '../progress.js';
import { readWeightsDir, writeWeightsDir } from '../weights-fs.js';
import { loadImageFolder } from '../image-folder.js';
import { DEFAULT_DISCRIMINATOR, DEFAULT_GENERATOR } from '../../core/generator/architecture.js';
import { DEFAULT_HYPER, GanTrainer, type GanHyper } from '../training/gan-trainer.js';
import { hasCheckpoint, readCheckpoint, saveCheckpoint } from '../training/gan-checkpoint.js';

export const summary = 'train the conditional StyleGAN2 generator (resumes from the latest checkpoint)';

const USAGE = `usage: faultlines train-generator [options]
  --iterations N        total iterations to reach (default 12000)
  --domain NAME         built-in data: ${domainNames().join(' | ')} (default ${DEFAULT_DOMAIN}; the training split
                        in the domain's generator variant: corrupted for mnist and fashion, independent
                        colours for colour); for a domain other than mnist, --out defaults to weights/<NAME>/generator and
                        --checkpoint-dir to checkpoints/<NAME>/generator
  --variant V           with --domain: another variant of the domain's training split (e.g. clean for
                        mnist: the ink a colour domain's painted generator draws, paint-generator)
  --data DIR            train on your own labelled images: DIR/<class>/*.png, 32x32 or 28x28
                        (default: the built-in corrupted MNIST); then --out defaults to
                        weights/generator-<DIR name> and --checkpoint-dir to checkpoints/generator-<DIR name>;
                        class i is the i-th subfolder by name, and the names go into the manifest (classes.names)
  --traversal-class C   default start class of the analysis' traversal grid, an index or a class name,
                        written into the manifest (classes.traversalClass; default min(3, classes - 1))
  --batch B             batch size (default 32; fixed by the checkpoint when resuming)
  --seed S              seed of init, data order, latents and noise (default 1)
  --r1-gamma G          R1 weight (default ${DEFAULT_HYPER.r1Gamma})
  --lr L                Adam learning rate of G and D (default ${DEFAULT_HYPER.lrG})
  --lr-g L              G's learning rate alone (default: --lr): a transfer run's G, whose D is new, at a smaller step
  --mode-seeking M      weight of the mode-seeking (diversity) term of the G loss (default ${DEFAULT_HYPER.modeSeeking ?? 0})
  --augment-colour P    RGB data: probability that an image the discriminator sees has its channels
                        permuted, reals and fakes alike (default 0 = off; below 5/6)
  --out DIR             final EMA generator weights (default weights/generator)
  --checkpoint-dir DIR  training state (default checkpoints/generator)
  --checkpoint-minutes M  checkpoint period (default 5)
  --sample-every N      sample grid period in iterations (default 250)
  --fresh               ignore an existing checkpoint (it is overwritten)
  --init-from DIR       a fresh run's G and G_ema start from this trained generator's weights (same
                        architecture; a grey generator's toRGB is repeated into RGB), D from scratch;
                        recorded in the checkpoint and the manifest; ignored when resuming
  --warm-up-d N         the run's first N iterations train D only (G and G_ema fixed): for --init-from,
                        whose D starts from scratch (default 0)
  --retune              when resuming, apply the given --r1-gamma / --lr / --lr-g / --mode-seeking / --augment-colour /
                        --warm-up-d to the checkpoint's run from here on (recorded in its hyper-parameters)
  --allow-data-change   resume even if the training data differ from the checkpoint's
  --export-only         write --out from the latest checkpoint's EMA generator and exit
  --backend cpu|wasm    (default wasm)
`;

/** Fixed latents of the sample grids: row = class 0..9, column = seed index 0..9. */
const SAMPLE_SEED = 777;

async function sampleGrid(g: Generator): Promise<Uint8Array> {
  const zDim = g.arch.zDim;
  const cols = 10;
  const zs = latentBatch(SAMPLE_SEED, 0, cols, zDim);
  const z = new Float32Array(g.arch.numClasses * cols * zDim);
  const classes: number[] = [];
  for (let c = 0; c < g.arch.numClasses; c++) {
    z.set(zs, c * cols * zDim);
    for (let j = 0; j < cols; j++) classes.push(c);
  }
  const img = tf.tidy(() => g.generate(tf.tensor2d(z, [classes.length, zDim]), classes, { noiseMode: 'const' }));
  const data = (await img.data()) as Float32Array;
  img.dispose();
  const channels = g.arch.imageChannels;
  if (channels !== 1 && channels !== 3) throw new Error(`cannot draw ${channels}-channel images`);
  const px = g.resolution * g.resolution * channels;
  const tiles = classes.map((_, i) => data.subarray(i * px, (i + 1) * px));
  return gridPng(tiles, { size: g.resolution, columns: cols, scale: 2, channels });
}

/** `--traversal-class`: a class index, or one of the class names (an index wins). */
function traversalClassIndex(value: string, names: readonly string[]): number {
  const n = /^\d+$/.test(value) ? Number(value) : names.indexOf(value);
  if (n >= 0 && n < names.length) return n;
  throw new Error(
    `--traversal-class must be a class index in [0, ${names.length - 1}] or a class name (${names.join(', ')}), got "${value}"`,
  );
}

function parseTrainArgs(args: string[]) {
  const o = parseOptions(
    args,
    {
      iterations: { type: 'string', default: '12000' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'r1-gamma': { type: 'string' },
      lr: { type: 'string' },
      'lr-g': { type: 'string' },
      'mode-seeking': { type: 'string' },
      'augment-colour': { type: 'string' },
      'warm-up-d': { type: 'string' },
      data: { type: 'string' },
      domain: { type: 'string' },
      variant: { type: 'string' },
      'traversal-class': { type: 'string' },
      out: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      'checkpoint-minutes': { type: 'string', default: '5' },
      'sample-every': { type: 'string', default: '250' },
      fresh: { type: 'boolean', default: false },
      'init-from': { type: 'string' },
      // The default (resume when a checkpoint exists), accepted for scripts that say so.
      resume: { type: 'boolean', default: false },
      retune: { type: 'boolean', default: false },
      'export-only': { type: 'boolean', default: false },
      'allow-data-change': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'wasm' },
    },
    USAGE,
  );
  if (o.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (o.fresh && o.resume) throw new Error(`--fresh and --resume exclude each other\n${USAGE}`);
  const num = (name: keyof typeof o): number | undefined => {
    const value = o[name];
    if (value === undefined) return undefined;
    const v = Number(value);
    if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(v))
      throw new Error(`--${name} needs a number, got "${String(value)}"\n${USAGE}`);
    return v;
  };
  const opts = {
    iterations: num('iterations')!,
    batch: num('batch'),
    seed: num('seed'),
    r1Gamma: num('r1-gamma'),
    lr: num('lr'),
    lrG: num('lr-g'),
    modeSeeking: num('mode-seeking'),
    augmentColour: num('augment-colour'),
    discriminatorWarmUp: num('warm-up-d'),
    data: o.data,
    domain: o.domain,
    variant: o.variant,
    traversalClass: o['traversal-class'],
    out: o.out,
    checkpointDir: o['checkpoint-dir'],
    checkpointMinutes: num('checkpoint-minutes')!,
    sampleEvery: num('sample-every')!,
    fresh: o.fresh,
    initFrom: o['init-from'],
    retune: o.retune,
    exportOnly: o['export-only'],
    allowDataChange: o['allow-data-change'],
    backend: o.backend,
  };
  if (opts.data !== undefined && opts.domain !== undefined)
    throw new Error(`--data and --domain exclude each other (a folder is its own domain)\n${USAGE}`);
  const domain = getDomain(opts.domain ?? DEFAULT_DOMAIN);
  if (opts.variant !== undefined && opts.data !== undefined)
    throw new Error(`--variant needs a built-in domain, not --data\n${USAGE}`);
  const variant = enumOption(opts.variant ?? domain.generatorVariant, 'variant', domain.variants);
  if (opts.data === undefined && domain.name !== DEFAULT_DOMAIN) {
    return {
      ...opts,
      domain,
      variant,
      out: opts.out ?? `weights/${domain.name}/generator`,
      checkpointDir: opts.checkpointDir ?? `checkpoints/${domain.name}/generator`,
    };
  }
  const suffix = opts.data === undefined ? '' : `-${path.basename(path.resolve(opts.data))}`;
  return {
    ...opts,
    domain,
    variant,
    out: opts.out ?? `weights/generator${suffix}`,
    checkpointDir: opts.checkpointDir ?? `checkpoints/generator${suffix}`,
  };
}

async function exportGenerator(
  trainer: GanTrainer,
  out: string,
  info: Record<string, unknown>,
  classNames?: string[],
  traversalClass?: string,
  domain?: DomainDescriptor,
): Promise<void> {
  const g = trainer.Gema;
  // The manifest's `classes`: the data folder's class names, the default traversal class.
  if (classNames) g.setClasses({ names: classNames }, out);
  if (traversalClass !== undefined)
    g.setClasses({ traversalClass: traversalClassIndex(traversalClass, g.classes.names) }, '--traversal-class');
  const manifest = writeWeightsDir(
    out,
    // A folder's generator has no built-in domain; a built-in domain's is stamped so loaders can check pairs.
    {
      ...g.weightsInfo(path.basename(out), { ...info, command: 'faultlines train-generator', note: 'EMA generator' }),
      ...(domain ? { domain: domainStamp(domain) } : {}),
    },
    await g.toHost(),
  );
  process.stderr.write(`wrote ${out} (${manifest.byteLength} bytes, S = ${g.styleSize} dims)\n`);
}

export async function run(args: string[]): Promise<void> {
  const opts = parseTrainArgs(args);
  if (!isNodeBackend(opts.backend)) throw new Error(`unknown backend "${opts.backend}"`);
  await useBackend(opts.backend);
  const dir = opts.checkpointDir;
  const resume = !opts.fresh && hasCheckpoint(dir);
  // Exporting an untrained generator by accident would ship noise under a real name.
  if (opts.exportOnly && !resume)
    throw new Error(`--export-only needs a checkpoint: none in ${path.join(dir, 'latest')}`);
  mkdirSync(path.join(dir, 'samples'), { recursive: true });
  const ckpt = resume ? readCheckpoint(dir) : null;
  const retuned: Partial<GanHyper> = {};
  if (opts.r1Gamma !== undefined) retuned.r1Gamma = opts.r1Gamma;
  if (opts.lr !== undefined) Object.assign(retuned, { lrG: opts.lr, lrD: opts.lr });
  if (opts.lrG !== undefined) retuned.lrG = opts.lrG;
  if (opts.modeSeeking !== undefined) retuned.modeSeeking = opts.modeSeeking;
  if (opts.augmentColour !== undefined) retuned.augmentColour = opts.augmentColour;
  if (opts.discriminatorWarmUp !== undefined) retuned.discriminatorWarmUp = opts.discriminatorWarmUp;
  const hyper: GanHyper = ckpt
    ? { ...ckpt.info.hyper, ...(opts.retune ? retuned : {}) }
    : {
        ...DEFAULT_HYPER,
        batch: opts.batch ?? DEFAULT_HYPER.batch,
        seed: opts.seed ?? DEFAULT_HYPER.seed,
        r1Gamma: opts.r1Gamma ?? DEFAULT_HYPER.r1Gamma,
        lrG: opts.lrG ?? opts.lr ?? DEFAULT_HYPER.lrG,
        lrD: opts.lr ?? DEFAULT_HYPER.lrD,
        modeSeeking: opts.modeSeeking ?? DEFAULT_HYPER.modeSeeking,
        ...(opts.augmentColour ? { augmentColour: opts.augmentColour } : {}),
        ...(opts.discriminatorWarmUp ? { discriminatorWarmUp: opts.discriminatorWarmUp } : {}),
      };
  if (ckpt && opts.retune) process.stderr.write(`retuning the resumed run: ${JSON.stringify(retuned)}\n`);
  else if (
    ckpt &&
    (opts.batch !== undefined ||
      opts.seed !== undefined ||
      opts.r1Gamma !== undefined ||
      opts.lr !== undefined ||
      opts.lrG !== undefined ||
      opts.modeSeeking !== undefined ||
      opts.augmentColour !== undefined ||
      opts.discriminatorWarmUp !== undefined)
  ) {
    process.stderr.write(
      'note: resuming — batch/seed/r1-gamma/lr come from the checkpoint (use --fresh to start over)\n',
    );
  }
  const folder = opts.data === undefined ? null : loadImageFolder(opts.data);
  const data = folder ? folder.set : loadDomainSet(opts.domain, 'train', opts.variant);
  const dataDescription = folder
    ? `folder ${folder.dir} (${folder.set.count} images, classes ${folder.classNames.map((n, i) => `${i}=${n}`).join(', ')})`
    : describeDomainData(opts.domain, 'train', opts.variant);
  const imageChannels = data.channels ?? 1;
  const numClasses = folder ? folder.classNames.length : opts.domain.classNames.length;
  // MNIST's generator keeps its index names ("0".."9"); another built-in domain names its classes.
  const classNames = folder
    ? folder.classNames
    : opts.domain.name === DEFAULT_DOMAIN
      ? undefined
      : [...opts.domain.classNames];
  const builtinDomain = folder ? undefined : opts.domain;
  // Checked now, not after training.
  if (opts.traversalClass !== undefined)
    traversalClassIndex(opts.traversalClass, classNames ?? Array.from({ length: numClasses }, (_, i) => String(i)));
  // Fingerprint of the training set: a resumed run must see the same data.
  const dataSha256 = sha256Hex(new Uint8Array(data.images.buffer, data.images.byteOffset, data.images.byteLength));
  const trainer = new GanTrainer(
    data,
    hyper,
    { ...DEFAULT_GENERATOR, numClasses, imageChannels },
    { ...DEFAULT_DISCRIMINATOR, numClasses, imageChannels },
  );
  let trainSeconds = 0;
  // Where G started: carried by every checkpoint, so a resumed run's manifest still says it.
  let initFrom = (ckpt?.info as { initFrom?: { dir: string; sha256: string } } | undefined)?.initFrom ?? null;
  if (ckpt && opts.initFrom !== undefined)
    process.stderr.write(`note: resuming — --init-from ${opts.initFrom} applies to a fresh run only\n`);
  if (ckpt) {
    const was = (ckpt.info as unknown as { dataSha256?: string }).dataSha256;
    if (was !== dataSha256 && !opts.allowDataChange) {
      throw new Error(
        `the training data changed since ${ckpt.dir} (sha256 ${was} -> ${dataSha256}); start over with --fresh or pass --allow-data-change`,
      );
    }
    await trainer.loadState(ckpt.tensors, ckpt.dir, ckpt.info.iteration);
    trainSeconds = ckpt.info.trainSeconds ?? 0;
    process.stderr.write(`resumed from ${ckpt.dir} at iteration ${trainer.iteration}\n`);
  } else {
    if (opts.initFrom !== undefined) {
      const source = readWeightsDir(opts.initFrom);
      trainer.initGenerator(source.tensors, opts.initFrom);
      initFrom = { dir: opts.initFrom, sha256: source.manifest.sha256 };
      process.stderr.write(`G and G_ema start from ${opts.initFrom} (sha256 ${source.manifest.sha256})\n`);
    }
    process.stderr.write(
      `fresh run: G ${trainer.G.params.size()} params (S = ${trainer.G.styleSize}), D ${trainer.D.params.size()} params\n`,
    );
  }
  const provenance = () => ({
    data: dataDescription,
    classNames: classNames ?? null,
    iteration: trainer.iteration,
    hyper,
    dataSha256,
    initFrom,
    trainSeconds: Math.round(trainSeconds),
    images: trainer.iteration * hyper.batch,
    backend: opts.backend,
  });
  if (opts.exportOnly) {
    await exportGenerator(trainer, opts.out, provenance(), classNames, opts.traversalClass, builtinDomain);
    trainer.dispose();
    return;
  }

  let stop: string | null = null;
  const onSignal = (sig: string) => () => {
    if (stop !== null) process.exit(130);
    stop = sig;
    process.stderr.write(`\n${sig}: checkpointing and stopping after this iteration\n`);
  };
  process.on('SIGINT', onSignal('SIGINT'));
  process.on('SIGTERM', onSignal('SIGTERM'));

  const logFile = path.join(dir, 'log.jsonl');
  const save = async () => {
    await saveCheckpoint(
      dir,
      trainer,
      { iteration: trainer.iteration, hyper, trainSeconds },
      { dataSha256, data: dataDescription, initFrom },
    );
    const png = await sampleGrid(trainer.Gema);
    writeFileSync(path.join(dir, 'samples', 'latest.png'), png);
  };
  const bar = progressBar('train-generator', opts.iterations, 'it', trainer.iteration);
  let lastCkpt = Date.now();
  const acc = { lossG: 0, nG: 0, lossDreal: 0, lossDfake: 0, n: 0, r1: 0, nr1: 0, t0: Date.now() };
  // Growth per step is measured from after the first step of this process: Adam creates its two
  // moment tensors per trained variable lazily at its first update (2 x (62 + 25) = 174 for the
  // default G and D), which a fresh run would otherwise report as a constant "leak" of 174.
  let baseTensors: number | null = null;
  while (trainer.iteration < opts.iterations && stop === null) {
    const t = Date.now();
    const l = trainer.step();
    baseTensors ??= tf.memory().numTensors;
    trainSeconds += (Date.now() - t) / 1000;
    if (![l.lossG ?? 0, l.lossDreal, l.lossDfake].every(Number.isFinite)) {
      throw new Error(`non-finite loss at iteration ${trainer.iteration}: ${JSON.stringify(l)} (last checkpoint kept)`);
    }
    if (l.lossG !== null) {
      acc.lossG += l.lossG;
      acc.nG++;
    }
    acc.lossDreal += l.lossDreal;
    acc.lossDfake += l.lossDfake;
    acc.n++;
    if (l.r1 !== null) {
      acc.r1 += l.r1;
      acc.nr1++;
    }
    const it = trainer.iteration;
    if (it % 20 === 0 || it === opts.iterations) {
      const secPerIt = (Date.now() - acc.t0) / 1000 / acc.n;
      const rec = {
        it,
        lossG: acc.nG > 0 ? acc.lossG / acc.nG : null,
        lossDreal: acc.lossDreal / acc.n,
        lossDfake: acc.lossDfake / acc.n,
        r1: acc.nr1 > 0 ? acc.r1 / acc.nr1 : null,
        secPerIt,
        tensors: tf.memory().numTensors,
        time: new Date().toISOString(),
      };
      appendFileSync(logFile, JSON.stringify(rec) + '\n');
      bar.update(it, {
        G: rec.lossG ?? Number.NaN,
        Dr: rec.lossDreal,
        Df: rec.lossDfake,
        's/it': secPerIt,
        tensors: rec.tensors - (baseTensors ?? rec.tensors),
      });
      Object.assign(acc, { lossG: 0, nG: 0, lossDreal: 0, lossDfake: 0, n: 0, r1: 0, nr1: 0, t0: Date.now() });
    }
    if (it % opts.sampleEvery === 0) {
      writeFileSync(path.join(dir, 'samples', `it-${String(it).padStart(6, '0')}.png`), await sampleGrid(trainer.Gema));
    }
    if (Date.now() - lastCkpt > opts.checkpointMinutes * 60_000) {
      await save();
      lastCkpt = Date.now();
    }
    await new Promise((r) => setImmediate(r)); // lets signals in
  }
  bar.stop();
  await save();
  process.stderr.write(`checkpoint at iteration ${trainer.iteration} in ${dir}/latest\n`);
  if (trainer.iteration >= opts.iterations)
    await exportGenerator(trainer, opts.out, provenance(), classNames, opts.traversalClass, builtinDomain);
  trainer.dispose();
}
