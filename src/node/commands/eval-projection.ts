/**
 * `faultlines eval-projection` (`npm run eval:projection`) — is the projection of real images
 * faithful? For real MNIST test digits in four groups (clean / corrupted x read correctly / wrongly
 * by the classifier), per image: PSNR and feature distance of the projection, and whether the
 * classifier gives the same decision on the projection as on the image. Writes
 * bench/results/projection.json after every batch; a later run with the same settings resumes it
 * (images already measured are skipped), so the full 1,000 per group can be completed in pieces.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import * as tf from '../../core/tf.js';
import { readEvaluation, type AnalysisModels } from '../../core/analysis/analysis-models.js';
import { DEFAULT_PROJECTION, projectImages } from '../../core/analysis/projection.js';
import { explainImage } from '../../core/analysis/explain.js';
import { sweepSums } from '../sweep-sums.js';
import { EXPLAIN_SWEEP } from './explain.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { loadDigits } from '../mnist.js';
import {
  analysisModels,
  BUILTIN_CLASSIFIERS,
  loadBuiltinClassifier,
  loadFeatureExtractor,
  loadGenerator,
} from '../builtin-models.js';

export const summary = 'measure the projection of real test digits: PSNR, feature distance, same decision';

const GROUPS = ['clean-right', 'clean-wrong', 'corrupted-right', 'corrupted-wrong'] as const;
type Group = (typeof GROUPS)[number];

const usage = `usage: faultlines eval-projection [options]

  --classifier NAME   ${BUILTIN_CLASSIFIERS.join(' | ')} (default classifier-clean): splits the groups and is asked
                      for its decision on each projection
  --per-group N       images per group (default 1000; fewer where a group has fewer)
  --steps N           projection steps (default ${DEFAULT_PROJECTION.steps})
  --batch N           images projected together (default 32)
  --minutes M         stop after the batch that passes M minutes (default: run to the end); rerun to resume
  --counterfactuals N  then explain the first N measured corrupted-wrong images whose projection keeps the
                      decision: does the counterfactual fix them, and what do the moved dims' labels say
                      (written as "counterfactuals"; default 0)
  --backend cpu|wasm  (default wasm)
  --out FILE          (default bench/results/projection.json)

Groups: the clean test split, and the corrupted half of the corrupted test split (indices 5000-9999,
each blurred and noised), each split by whether the classifier reads the digit correctly; the first N
of each group in test-set order.`;

interface ImageRecord {
  index: number;
  label: number;
  predicted: number;
  pTrue: number;
  reconstructionPredicted: number;
  reconstructionPTrue: number;
  psnr: number;
  featureDistance: number;
}

interface GroupSummary {
  count: number;
  psnrMean: number;
  psnrMedian: number;
  featureDistanceMean: number;
  featureDistanceMedian: number;
  /** Share of images whose projection gets the classifier's same decision, with a Wilson 95% interval. */
  sameDecision: number;
  sameDecisionCi: [number, number];
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [c - h, c + h];
}

interface CounterfactualRecord {
  index: number;
  label: number;
  predicted: number;
  sameDecision: boolean;
  /** A move back toward the centre (of some dims, or all) makes the classifier right. */
  fixed: boolean;
  dims: number | 'all';
  distance: number | null;
  /** Direction labels of the moved dims among the reported deviations. */
  labels: string[];
  seconds: number;
}

function summariseCounterfactuals(r: CounterfactualRecord[]) {
  const labels: Record<string, number> = {};
  for (const x of r) for (const l of x.labels) labels[l] = (labels[l] ?? 0) + 1;
  return {
    explained: r.length,
    fixed: r.filter((x) => x.fixed).length,
    fixedByTopDims: r.filter((x) => x.fixed && x.dims !== 'all').length,
    movedLabels: labels,
    secondsMean: mean(r.map((x) => x.seconds)),
  };
}

function summarise(records: ImageRecord[]): GroupSummary {
  const same = records.filter((r) => r.reconstructionPredicted === r.predicted).length;
  return {
    count: records.length,
    psnrMean: mean(records.map((r) => r.psnr)),
    psnrMedian: median(records.map((r) => r.psnr)),
    featureDistanceMean: mean(records.map((r) => r.featureDistance)),
    featureDistanceMedian: median(records.map((r) => r.featureDistance)),
    sameDecision: same / records.length,
    sameDecisionCi: wilson(same, records.length),
  };
}

/** Decisions of the classifier on images [n, 32*32]. */
async function decide(models: AnalysisModels, images: Float32Array, labels: number[]) {
  const n = labels.length;
  const probs = tf.tidy(() => tf.softmax(models.classifier.logits(tf.tensor4d(images, [n, 32, 32, 1]))) as tf.Tensor2D);
  const ev = await readEvaluation(probs, labels);
  probs.dispose();
  return ev;
}

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      classifier: { type: 'string', default: 'classifier-clean' },
      'per-group': { type: 'string', default: '1000' },
      steps: { type: 'string', default: String(DEFAULT_PROJECTION.steps) },
      batch: { type: 'string', default: '32' },
      minutes: { type: 'string' },
      counterfactuals: { type: 'string', default: '0' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'bench/results/projection.json' },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(`${usage}\n`);
  const classifierName = enumOption(o.classifier, 'classifier', BUILTIN_CLASSIFIERS);
  const perGroup = intOption(o['per-group'], 'per-group', 1, 10_000);
  const steps = intOption(o.steps, 'steps', 0, 100_000);
  const batch = intOption(o.batch, 'batch', 1, 512);
  const minutes = o.minutes === undefined ? Infinity : intOption(o.minutes, 'minutes', 1);
  const counterfactuals = intOption(o.counterfactuals, 'counterfactuals', 0, 10_000);
  const backend = enumOption(o.backend, 'backend', NODE_BACKENDS);
  const outFile = path.resolve(o.out!);

  await useBackend(backend);
  const gen = loadGenerator();
  const models = analysisModels(gen, loadBuiltinClassifier(classifierName));
  const { featureExtractor } = loadFeatureExtractor();
  const settings = {
    classifier: classifierName,
    classifierId: models.classifierId,
    generatorId: models.generatorId,
    projection: { ...DEFAULT_PROJECTION, steps },
    noise: 'per-sample (default seed), the label stream',
  };

  // The groups: every candidate image with the classifier's decision on it.
  const sets = { clean: loadDigits('test', 'clean'), corrupted: loadDigits('test', 'corrupted') };
  const members: Record<Group, number[]> = {
    'clean-right': [],
    'clean-wrong': [],
    'corrupted-right': [],
    'corrupted-wrong': [],
  };
  for (const variant of ['clean', 'corrupted'] as const) {
    const set = sets[variant];
    const candidates = [...Array(set.count).keys()].filter(
      (i) => variant === 'clean' || set.blur[i] > 0 || set.noise[i] > 0,
    );
    for (let b = 0; b < candidates.length; b += 1000) {
      const idx = candidates.slice(b, b + 1000);
      const imgs = new Float32Array(idx.length * 1024);
      idx.forEach((i, k) => imgs.set(set.images.subarray(i * 1024, (i + 1) * 1024), k * 1024));
      const ev = await decide(
        models,
        imgs,
        idx.map((i) => set.labels[i]),
      );
      idx.forEach((i, k) => members[`${variant}-${ev.predicted[k] === set.labels[i] ? 'right' : 'wrong'}`].push(i));
    }
  }
  const available = Object.fromEntries(GROUPS.map((g) => [g, members[g].length]));

  // Resume: records of the same settings are kept.
  let records: Record<Group, ImageRecord[]> = {
    'clean-right': [],
    'clean-wrong': [],
    'corrupted-right': [],
    'corrupted-wrong': [],
  };
  let secondsSpent = 0;
  let explained: CounterfactualRecord[] = [];
  if (existsSync(outFile)) {
    const prev = JSON.parse(readFileSync(outFile, 'utf8'));
    if (JSON.stringify(prev.settings) === JSON.stringify(settings)) {
      records = prev.records;
      explained = prev.counterfactuals?.records ?? [];
      secondsSpent = prev.seconds ?? 0;
      process.stderr.write(`resuming ${outFile}: ${GROUPS.map((g) => `${g} ${records[g].length}`).join(', ')}\n`);
    } else process.stderr.write(`${outFile} has other settings: starting over\n`);
  }
  const write = () => {
    mkdirSync(path.dirname(outFile), { recursive: true });
    const summary = Object.fromEntries(GROUPS.map((g) => [g, summarise(records[g])]));
    const done = GROUPS.reduce((a, g) => a + records[g].length, 0);
    const out = {
      bench: 'projection',
      date: new Date().toISOString(),
      command: `npm run eval:projection -- ${args.join(' ')}`.trim(),
      machine: { backend, loadAverage: loadavg() },
      settings,
      available,
      perGroupTarget: perGroup,
      seconds: secondsSpent,
      secondsPerImage: secondsSpent / Math.max(1, done),
      summary,
      records,
      counterfactuals: explained.length
        ? { summary: summariseCounterfactuals(explained), records: explained }
        : undefined,
    };
    writeFileSync(`${outFile}.tmp`, `${JSON.stringify(out, null, 1)}\n`);
    renameSync(`${outFile}.tmp`, outFile);
  };

  // Round-robin over the groups, one batch at a time, so a stopped run has every group.
  const t0 = Date.now();
  const start = secondsSpent;
  for (;;) {
    const queue: Array<{ group: Group; index: number }> = [];
    for (const g of GROUPS) {
      const done = new Set(records[g].map((r) => r.index));
      const todo = members[g].slice(0, perGroup).filter((i) => !done.has(i));
      queue.push(...todo.slice(0, Math.ceil(batch / GROUPS.length)).map((index) => ({ group: g, index })));
    }
    if (queue.length === 0) break;
    const rows = queue.slice(0, batch);
    const imgs = new Float32Array(rows.length * 1024);
    const labels: number[] = [];
    rows.forEach((r, k) => {
      const set = r.group.startsWith('clean') ? sets.clean : sets.corrupted;
      imgs.set(set.images.subarray(r.index * 1024, (r.index + 1) * 1024), k * 1024);
      labels.push(set.labels[r.index]);
    });
    const original = await decide(models, imgs, labels);
    const p = await projectImages({ generator: models.generator, featureExtractor }, imgs, labels, { steps });
    const recon = new Float32Array(rows.length * 1024);
    p.images.forEach((im, k) => recon.set(im.image, k * 1024));
    const rec = await decide(models, recon, labels);
    rows.forEach((r, k) =>
      records[r.group].push({
        index: r.index,
        label: labels[k],
        predicted: original.predicted[k],
        pTrue: original.pTrue[k],
        reconstructionPredicted: rec.predicted[k],
        reconstructionPTrue: rec.pTrue[k],
        psnr: p.images[k].psnr,
        featureDistance: p.images[k].featureDistance,
      }),
    );
    secondsSpent = start + (Date.now() - t0) / 1000;
    write();
    process.stderr.write(
      `${GROUPS.map((g) => `${g} ${records[g].length}/${Math.min(perGroup, available[g])}`).join(', ')} (` +
        `${secondsSpent.toFixed(0)} s, load ${loadavg()[0].toFixed(1)})\n`,
    );
    if ((Date.now() - t0) / 60_000 >= minutes) break;
  }
  // Explanations of faithful misread corrupted digits: the counterfactual's success and its dims' names.
  const faithful = records['corrupted-wrong'].filter((r) => r.reconstructionPredicted === r.predicted);
  if (counterfactuals > 0) {
    const { sums } = await sweepSums(models, EXPLAIN_SWEEP);
    for (const r of faithful.slice(0, counterfactuals)) {
      if (explained.some((e) => e.index === r.index)) continue;
      const t = Date.now();
      const img = sets.corrupted.images.slice(r.index * 1024, (r.index + 1) * 1024);
      const e = await explainImage(models, { featureExtractor }, { spec: EXPLAIN_SWEEP, sums }, img, r.label, {
        projection: { steps },
      });
      const cf = e.counterfactual;
      const moved = new Set(cf?.dims ?? []);
      explained.push({
        index: r.index,
        label: r.label,
        predicted: e.original.predicted,
        sameDecision: e.sameDecision,
        fixed: cf?.found === true && cf.fraction! > 0,
        dims: cf?.allDims ? 'all' : (cf?.dims.length ?? 0),
        distance: cf?.distance ?? null,
        labels: e.deviations.filter((d) => moved.has(d.index)).map((d) => d.label ?? 'unnamed'),
        seconds: (Date.now() - t) / 1000,
      });
      secondsSpent += (Date.now() - t) / 1000;
      write();
      process.stderr.write(
        `explained corrupted #${r.index}: ${explained.at(-1)!.fixed ? 'fixed' : 'not fixed'} (` +
          `${explained.length}/${Math.min(counterfactuals, faithful.length)})\n`,
      );
    }
  }
  write();
  for (const g of GROUPS) {
    const s = summarise(records[g]);
    process.stdout.write(
      `${g.padEnd(16)} n=${s.count} PSNR ${s.psnrMean.toFixed(2)} dB (median ${s.psnrMedian.toFixed(2)}), ` +
        `feature distance ${s.featureDistanceMean.toFixed(3)}, same decision ${(100 * s.sameDecision).toFixed(1)}%\n`,
    );
  }
}
