/**
 * `faultlines train-classifier` — trains the paper's simple CNN once per classifier variant of a
 * domain (MNIST and Fashion-MNIST: clean and corrupted data; coloured MNIST: spurious and
 * independent colours), evaluates each on every test variant and writes weights/[<domain>/]classifier-<variant>.
 * Resumable: the state is checkpointed every few minutes and on SIGINT/SIGTERM, and the same
 * command continues from it (training/classifier-trainer.ts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { evaluateClassifier } from '../../core/classifier/classifier.js';
import { DEFAULT_CNN_CONFIG, SimpleCnn, type SimpleCnnConfig } from '../../core/classifier/simple-cnn.js';
import type { DigitSet } from '../../core/data/digits.js';
import { sha256Hex } from '../../core/weights/codec.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { useBackend } from '../backend.js';
import { describeDomainData, loadDomainSet } from '../domain-data.js';
import {
  DEFAULT_DOMAIN,
  domainNames,
  domainStamp,
  getDomain,
  type DataVariant,
  type DomainDescriptor,
} from '../../core/data/domain.js';
import { progressBar } from '../progress.js';
import { readWeightsDir, weightsRoot, writeWeightsDir } from '../weights-fs.js';
import { ClassifierTrainer, type ClassifierSchedule } from '../training/classifier-trainer.js';
import { hasCheckpoint, latestCheckpointDir, writeCheckpoint } from '../training/checkpoint-dir.js';

export const summary = 'train the built-in CNNs of a domain into weights/ (resumes from its checkpoint)';

const usage = `usage: faultlines train-classifier [--domain ${domainNames().join('|')}] [--variant VARIANT|both|feature-extractor]
       [--epochs 6] [--batch 64] [--seed 1] [--out DIR] [--checkpoint-dir DIR] [--checkpoint-minutes 2] [--fresh]

  --domain                  the data (default mnist); --out defaults to weights/ for mnist, weights/<domain>/ otherwise
  --variant                 the data a classifier is trained on, written to <out>/classifier-<variant>:
                            mnist, fashion: clean | corrupted; colour: spurious | independent;
                            both (default): every classifier of the domain
  feature-extractor         the network used only to evaluate the generator (Fréchet distance features):
                            a wider CNN trained on the generator's data with another seed (<out>/feature-extractor)
  --checkpoint-dir          training state of the model(s) (default checkpoints/[<domain>/]<model>); an
                            existing one with the same schedule and data is resumed unless --fresh`;

/** The evaluation network differs from the analysed classifiers in width and seed on purpose. */
const FEATURE_EXTRACTOR_CHANNELS: SimpleCnnConfig['channels'] = [32, 64, 64];
const FEATURE_EXTRACTOR_SEED_OFFSET = 1000;

interface RunOptions {
  /** The seed as given (the feature extractor adds its offset). */
  schedule: ClassifierSchedule;
  outRoot: string;
  checkpointDir: string;
  checkpointMinutes: number;
  fresh: boolean;
}

/** What a checkpoint must agree on to be resumed. */
function runIdentity(
  name: string,
  domain: DomainDescriptor,
  data: DataVariant,
  schedule: ClassifierSchedule,
  dataSha256: string,
) {
  return { model: name, domain: domain.name, data, ...schedule, dataSha256 };
}

async function trainOne(
  domain: DomainDescriptor,
  variant: DataVariant | 'feature-extractor',
  o: RunOptions,
): Promise<void> {
  const isEval = variant === 'feature-extractor';
  const data: DataVariant = isEval ? domain.generatorVariant : variant;
  const train = loadDomainSet(domain, 'train', data);
  const name = isEval ? 'feature-extractor' : `classifier-${variant}`;
  const channels = domain.image.channels;
  // Grey domains keep the exact architecture record of the weights made before RGB domains.
  const config: SimpleCnnConfig = {
    ...DEFAULT_CNN_CONFIG,
    numClasses: domain.classNames.length,
    ...(isEval ? { channels: FEATURE_EXTRACTOR_CHANNELS } : {}),
    ...(channels === 1 ? {} : { inputChannels: channels }),
  };
  const seed = isEval ? o.schedule.seed + FEATURE_EXTRACTOR_SEED_OFFSET : o.schedule.seed;
  const schedule: ClassifierSchedule = { ...o.schedule, seed };
  const model = new SimpleCnn(name, config, seed);
  const trainer = new ClassifierTrainer(model, train, schedule);
  const dataSha256 = sha256Hex(new Uint8Array(train.images.buffer, train.images.byteOffset, train.images.byteLength));
  const identity = runIdentity(name, domain, data, schedule, dataSha256);
  const ckptDir = o.checkpointDir;
  let trainSeconds = 0;
  if (!o.fresh && hasCheckpoint(ckptDir)) {
    const ckpt = readWeightsDir(latestCheckpointDir(ckptDir));
    const prov = ckpt.manifest.provenance as { run?: unknown; step?: number; trainSeconds?: number };
    if (JSON.stringify(prov.run) !== JSON.stringify(identity))
      throw new Error(
        `${ckpt.dir} is another run (${JSON.stringify(prov.run)}; this one: ${JSON.stringify(identity)}); pass --fresh to start over`,
      );
    await trainer.loadState(ckpt.tensors, ckpt.dir, prov.step ?? Number.NaN);
    trainSeconds = prov.trainSeconds ?? 0;
    process.stderr.write(`${name}: resumed from ${ckpt.dir} at step ${trainer.step} of ${trainer.totalSteps}\n`);
  }
  mkdirSync(ckptDir, { recursive: true });
  const save = async () =>
    writeCheckpoint(
      ckptDir,
      {
        name: `${name}-checkpoint`,
        kind: isEval ? 'feature-extractor' : 'classifier',
        architecture: { type: 'simple-cnn', ...config },
        weightsFile: 'weights.bin',
        provenance: { run: identity, step: trainer.step, trainSeconds, savedAt: new Date().toISOString() },
        metrics: {},
      },
      await trainer.stateTensors(),
    );

  let stop: string | null = null;
  const onSignal = (sig: string) => () => {
    if (stop !== null) process.exit(130);
    stop = sig;
    process.stderr.write(`\n${sig}: checkpointing ${name} and stopping after this step\n`);
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  const bar = progressBar(`train ${name}`, trainer.totalSteps, 'steps', trainer.step);
  let lossAvg = Number.NaN;
  let lastSave = Date.now();
  try {
    while (!trainer.done && stop === null) {
      const t = Date.now();
      const l = await trainer.trainStep();
      trainSeconds += (Date.now() - t) / 1000;
      lossAvg = Number.isNaN(lossAvg) ? l : 0.98 * lossAvg + 0.02 * l;
      bar.update(trainer.step, {
        epoch: `${Math.min(trainer.epoch + 1, schedule.epochs)}/${schedule.epochs}`,
        loss: lossAvg,
      });
      if (Date.now() - lastSave > o.checkpointMinutes * 60_000) {
        await save();
        lastSave = Date.now();
      }
      await new Promise((r) => setImmediate(r)); // lets signals in
    }
    bar.stop();
    await save();
  } finally {
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
  }
  trainer.dispose();
  if (!trainer.done) {
    process.stderr.write(
      `${name}: stopped at step ${trainer.step} of ${trainer.totalSteps}; the same command resumes\n`,
    );
    model.dispose();
    process.exitCode = 130;
    return;
  }
  const { epochs, batch } = schedule;
  const metrics: Record<string, unknown> = {};
  for (const testVariant of domain.variants) {
    const test: DigitSet = loadDomainSet(domain, 'test', testVariant);
    const r = await evaluateClassifier(model, test.images, test.labels, 500, undefined, channels);
    metrics[`accuracy_test_${testVariant}`] = r.accuracy;
    metrics[`accuracy_test_${testVariant}_per_class`] = r.perClass;
    process.stderr.write(
      `${name} (${domain.name}): accuracy on ${testVariant} test images ${(100 * r.accuracy).toFixed(2)}%\n`,
    );
  }
  metrics.command = `npm run evaluate -- --domain ${domain.name}`;
  const manifest = writeWeightsDir(
    path.join(o.outRoot, name),
    {
      name,
      kind: isEval ? 'feature-extractor' : 'classifier',
      weightsFile: 'weights.bin',
      architecture: {
        type: 'simple-cnn',
        ...config,
        input: `[N,${config.imageSize},${config.imageSize},${channels}] float32 in [0,1]`,
        output: `[N,${config.numClasses}] logits`,
      },
      provenance: {
        data: describeDomainData(domain, 'train', data),
        seed: o.schedule.seed,
        epochs,
        batchSize: batch,
        steps: trainer.totalSteps,
        optimizer: 'adam lr 1e-3, last epoch 1e-4',
        backend: tf.getBackend(),
        trainingSeconds: Math.round(trainSeconds),
        command: `npm run train:classifier -- --domain ${domain.name} --variant ${variant} --epochs ${epochs} --batch ${batch} --seed ${o.schedule.seed}`,
      },
      metrics,
      domain: domainStamp(domain),
    },
    await model.params.toHost(),
  );
  process.stderr.write(
    `${name}: ${model.params.size()} parameters, ${manifest.byteLength} bytes, trained in ${trainSeconds.toFixed(0)} s\n`,
  );
  model.dispose();
}

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      variant: { type: 'string', default: 'both' },
      epochs: { type: 'string', default: '6' },
      batch: { type: 'string', default: '64' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      domain: { type: 'string', default: DEFAULT_DOMAIN },
      'checkpoint-dir': { type: 'string' },
      'checkpoint-minutes': { type: 'string', default: '2' },
      fresh: { type: 'boolean', default: false },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  const variant = enumOption(o.variant, 'variant', [...domain.classifierVariants, 'both', 'feature-extractor']);
  const epochs = intOption(o.epochs, 'epochs', 1, 100);
  const batch = intOption(o.batch, 'batch', 1, 4096);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  const checkpointMinutes = Number(o['checkpoint-minutes']);
  if (!(checkpointMinutes >= 0))
    throw new Error(`--checkpoint-minutes must be a number >= 0, got "${o['checkpoint-minutes']}"`);
  const inDomain = (p: string) => (domain.name === DEFAULT_DOMAIN ? p : path.join(p, domain.name));
  const outRoot = o.out ? path.resolve(o.out) : inDomain(weightsRoot());
  const variants = variant === 'both' ? domain.classifierVariants : [variant];
  await useBackend('wasm');
  for (const v of variants) {
    const model = v === 'feature-extractor' ? 'feature-extractor' : `classifier-${v}`;
    const checkpointDir = o['checkpoint-dir']
      ? path.resolve(o['checkpoint-dir'], variants.length > 1 ? model : '')
      : path.join(inDomain(path.resolve('checkpoints')), model);
    await trainOne(domain, v, {
      schedule: { epochs, batch, seed },
      outRoot,
      checkpointDir,
      checkpointMinutes,
      fresh: o.fresh,
    });
    if (process.exitCode === 130) return;
  }
}
