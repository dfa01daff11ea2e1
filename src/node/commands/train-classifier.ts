/**
 * `faultlines train-classifier` — trains the paper's simple CNN on clean digits and on corrupted
 * digits, evaluates both on both test splits and writes weights/classifier-{clean,corrupted}.
 */
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { evaluateClassifier } from '../../core/classifier/classifier.js';
import { DEFAULT_CNN_CONFIG, SimpleCnn } from '../../core/classifier/simple-cnn.js';
import { IMAGE_SIZE, NUM_CLASSES, type DigitSet } from '../../core/data/digits.js';
import { oneHotFloat } from '../../core/nn/ops.js';
import { createRng, permutation } from '../../core/random.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { useBackend } from '../backend.js';
import type { Variant } from '../mnist.js';
import { describeDomainData, loadDomainSet } from '../domain-data.js';
import { DEFAULT_DOMAIN, domainNames, domainStamp, getDomain, type DomainDescriptor } from '../../core/data/domain.js';
import { progressBar } from '../progress.js';
import { weightsRoot, writeWeightsDir } from '../weights-fs.js';

export const summary = 'train the clean- and corruption-trained CNNs into weights/';

const usage = `usage: faultlines train-classifier [--domain mnist|fashion] [--variant clean|corrupted|both|feature-extractor] [--epochs 6] [--batch 64] [--seed 1] [--out DIR]

  --domain                  the data (default mnist); --out defaults to weights/ for mnist, weights/<domain>/ otherwise

  clean / corrupted / both  the built-in classifiers (weights/classifier-clean, weights/classifier-corrupted)
  feature-extractor         the network used only to evaluate the generator (Fréchet distance features):
                            a wider CNN trained on corrupted digits with another seed (weights/feature-extractor)`;

type TrainVariant = Variant | 'feature-extractor';

/** The evaluation network differs from the analysed classifiers in width and seed on purpose. */
const FEATURE_EXTRACTOR_CONFIG = { ...DEFAULT_CNN_CONFIG, channels: [32, 64, 64] as [number, number, number] };
const FEATURE_EXTRACTOR_SEED_OFFSET = 1000;

const PX = IMAGE_SIZE * IMAGE_SIZE;

async function trainOne(
  domain: DomainDescriptor,
  variant: TrainVariant,
  epochs: number,
  batch: number,
  seed: number,
  outRoot: string,
): Promise<void> {
  const isEval = variant === 'feature-extractor';
  const data: Variant = isEval ? 'corrupted' : variant;
  const train = loadDomainSet(domain, 'train', data);
  const name = isEval ? 'feature-extractor' : `classifier-${variant}`;
  const config = isEval ? FEATURE_EXTRACTOR_CONFIG : DEFAULT_CNN_CONFIG;
  const model = new SimpleCnn(name, config, isEval ? seed + FEATURE_EXTRACTOR_SEED_OFFSET : seed);
  const steps = Math.floor(train.count / batch);
  const total = epochs * steps;
  // Adam with a step decay: 1e-3 for most of the run, 1e-4 for the last epoch.
  const fast = tf.train.adam(1e-3);
  const slow = tf.train.adam(1e-4);
  const vars = model.params.list();
  const bar = progressBar(`train ${name}`, total, 'steps');
  const t0 = Date.now();
  let lossAvg = NaN;
  const x = new Float32Array(batch * PX);
  const y = new Array<number>(batch);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(createRng(isEval ? seed + FEATURE_EXTRACTOR_SEED_OFFSET : seed, epoch + 1), train.count);
    const opt = epoch === epochs - 1 && epochs > 1 ? slow : fast;
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < batch; i++) {
        const k = order[s * batch + i];
        x.set(train.images.subarray(k * PX, (k + 1) * PX), i * PX);
        y[i] = train.labels[k];
      }
      const loss = tf.tidy(() => {
        const xs = tf.tensor4d(x, [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
        const ys = oneHotFloat(y, NUM_CLASSES);
        return opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.logits(xs)) as tf.Scalar, true, vars)!;
      });
      const l = (await loss.data())[0];
      loss.dispose();
      lossAvg = Number.isNaN(lossAvg) ? l : 0.98 * lossAvg + 0.02 * l;
      bar.update(epoch * steps + s + 1, { epoch: `${epoch + 1}/${epochs}`, loss: lossAvg });
    }
  }
  bar.stop();
  const seconds = (Date.now() - t0) / 1000;
  fast.dispose();
  slow.dispose();

  const metrics: Record<string, unknown> = {};
  for (const testVariant of ['clean', 'corrupted'] as const) {
    const test: DigitSet = loadDomainSet(domain, 'test', testVariant);
    const r = await evaluateClassifier(model, test.images, test.labels);
    metrics[`accuracy_test_${testVariant}`] = r.accuracy;
    metrics[`accuracy_test_${testVariant}_per_class`] = r.perClass;
    process.stderr.write(
      `${name} (${domain.name}): accuracy on ${testVariant} test images ${(100 * r.accuracy).toFixed(2)}%\n`,
    );
  }
  metrics.command = `npm run evaluate -- --domain ${domain.name}`;
  const manifest = writeWeightsDir(
    path.join(outRoot, name),
    {
      name,
      kind: isEval ? 'feature-extractor' : 'classifier',
      weightsFile: 'weights.bin',
      architecture: { type: 'simple-cnn', ...config, input: '[N,32,32,1] float32 in [0,1]', output: '[N,10] logits' },
      provenance: {
        data: describeDomainData(domain, 'train', data),
        seed,
        epochs,
        batchSize: batch,
        steps: total,
        optimizer: 'adam lr 1e-3, last epoch 1e-4',
        backend: tf.getBackend(),
        trainingSeconds: Math.round(seconds),
        command: `npm run train:classifier -- --domain ${domain.name} --variant ${variant} --epochs ${epochs} --batch ${batch} --seed ${seed}`,
      },
      metrics,
      domain: domainStamp(domain),
    },
    await model.params.toHost(),
  );
  process.stderr.write(
    `${name}: ${model.params.size()} parameters, ${manifest.byteLength} bytes, trained in ${seconds.toFixed(0)} s\n`,
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
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const variant = enumOption(o.variant, 'variant', ['clean', 'corrupted', 'both', 'feature-extractor'] as const);
  const epochs = intOption(o.epochs, 'epochs', 1, 100);
  const batch = intOption(o.batch, 'batch', 1, 4096);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  const outRoot = o.out
    ? path.resolve(o.out)
    : domain.name === DEFAULT_DOMAIN
      ? weightsRoot()
      : path.join(weightsRoot(), domain.name);
  await useBackend('wasm');
  for (const v of variant === 'both' ? (['clean', 'corrupted'] as const) : [variant]) {
    await trainOne(domain, v, epochs, batch, seed, outRoot);
  }
}
