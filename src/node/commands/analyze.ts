/**
 * `faultlines analyze` — the whole method on the built-in default (or a given generator): writes
 * report.json, the figure PNGs and a self-contained report.html.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyze, DEFAULT_ANALYSIS, type AnalysisReport, type AnalysisStage } from '../../core/analysis/report.js';
import { enumOption, intOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { CONV3X3_ALGORITHMS, setConv3x3Algorithm } from '../../core/nn/conv3x3/conv3x3-kernel.js';
import { analysisModels, builtinModelPath, loadBuiltinClassifier, loadGenerator } from '../builtin-models.js';
import { loadCheckedUserClassifier, sanityImagesFor } from '../checked-user-classifier.js';
import type { ClassifierDescription } from '../../core/classifier/description.js';
import { availableCores, startSweepPool } from '../parallel-sweep.js';
import {
  ANALYSIS_NOISE_MODES,
  analysisNoiseOf,
  DEFAULT_ANALYSIS_NOISE,
  DEFAULT_NOISE_SEED,
  type AnalysisModels,
} from '../../core/analysis/analysis-models.js';
import { progressBar, type Progress } from '../progress.js';
import { cornerCaseGrid, jointGrid, reportJson, traversalGrid } from '../report/figures.js';
import { reportHtml } from '../report/html.js';
import { classLabel } from '../../core/generator/classes.js';
import { counterfactualSentence, weaknessText } from '../../core/analysis/counterfactual-phrases.js';
import {
  classifierModelName,
  DEFAULT_DOMAIN,
  DOMAINS,
  domainClassifiers,
  domainNames,
  getDomain,
} from '../../core/data/domain.js';

export const summary = 'run the whole analysis and write report.json, figures and report.html';

const usage =
  `usage: faultlines analyze [options]

  --domain NAME          ${domainNames().join(' | ')} (default ${DEFAULT_DOMAIN}): the built-in classifiers and generator
                         of that domain (weights/ for mnist, weights/<NAME>/ otherwise); a classifier and a
                         generator of different domains, classes or image shapes are refused
  --classifier NAME|DIR  classifier analysed: the domain's built-in ones (` +
  `${DOMAINS.map((d) => `${d.name}: ${domainClassifiers(d).join(' | ')}, default ${classifierModelName(d.analysedVariant)}`).join('; ')}),
                         or a folder with a TF.js model.json (LayersModel or GraphModel) — needs --adapter
  --adapter FILE         adapter JSON of a TF.js model (input size, channels, range, normalisation, classes);
                         checked at load on the domain's real test images (clean and corrupted accuracy)
  --name NAME            your model's name in the report (default: its folder's name, or the folder above
                         when that is generic such as "model" or "web_model")
  --compare NAME|DIR|none  second classifier compared on the same samples: a built-in one, or your own
                         TF.js model's folder with --compare-adapter (default: the other built-in one, or
                         the domain's default one when analysing your own model; none when the generator's
                         classes are not the built-in classifiers' 10 digits). Every built-in classifier
                         that fits is also shown next to yours on your top dims (report: sideBySide)
  --compare-adapter FILE adapter JSON of the --compare model
  --compare-name NAME    its name in the report (default as for --name)
  --class N|NAME|all     one class (index, or name from the generator's manifest) or all classes (default
                         all); the traversal grid starts from this class (with all: the generator's default
                         traversal class, its manifest's classes.traversalClass, else min(3, classes - 1))
  --samples N            population size (default ${DEFAULT_ANALYSIS.samples}); at least 2 per class (the ranking
                         estimates each class's style spread): 2 x classes, or 2 with --class
  --seed N               population seed (default ${DEFAULT_ANALYSIS.seed})
  --noise const|per-sample  per-pixel noise of the generated digits (default ${DEFAULT_ANALYSIS_NOISE.mode}): per-sample
                         draws each sample's own noise from (noise seed, sample index); const gives every image
                         the generator's one stored noise pattern (docs/analysis/noise-modes.md)
  --noise-seed N         noise seed of per-sample noise (default ${DEFAULT_NOISE_SEED})
  --backend cpu|wasm     tfjs backend (default wasm)
  --conv direct|winograd the wasm backend's 3x3 convs (default direct: XNNPACK's results to the bit). winograd:
                         Winograd F(2x2,3x3): its convs ~1.7x, a batch-64 gradient call ~1.45x faster; as accurate (its error against the exact
                         conv is about half XNNPACK's) but not bit-identical to the default; report.json then
                         says "conv": "winograd". Every --threads worker uses it too
  --generator DIR        generator weights folder (default weights/generator)
  --threads N            worker threads of the gradient sweep, each with its own backend and copy of the
                         models (default: the available cores, here ${availableCores()}); 1 = in this thread.
                         Same results for any N (bit-identical sums)
  --direction-dims N     top dims whose effect on the image is measured and named (default ${DEFAULT_ANALYSIS.directionDims})
  --direction-samples N  samples moved along each of them (default ${DEFAULT_ANALYSIS.directionSamples}); the naming renders
                         dims x samples x ${DEFAULT_ANALYSIS.directionShifts.length} frames per classifier, whatever --samples is
  --corner-direction-samples N  samples moved along each corner case's dim to name it (default
                         ${DEFAULT_ANALYSIS.cornerCaseDirectionSamples}; 0: corner cases are not named)
  --contrastive-samples N  samples (the population's first N) of the contrastive ranking against the compared
                         classifier: every dim by how much more it lowers this classifier's margin, and the image
                         factor its specific weakness follows (default ${DEFAULT_ANALYSIS.contrastiveSamples}; 0: not computed;
                         docs/naming.md)
  --counterfactual-samples N  frames (the contrastive samples' first N) each image factor is edited on, alone
                         and at growing strengths, to name the weakness (default ${DEFAULT_ANALYSIS.counterfactualSamples};
                         0: not computed; at least 2 otherwise; 100 edits per frame, each read by both classifiers)
  --out DIR              output folder (default out/report)`;

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      classifier: { type: 'string' },
      adapter: { type: 'string' },
      name: { type: 'string' },
      compare: { type: 'string' },
      'compare-adapter': { type: 'string' },
      'compare-name': { type: 'string' },
      class: { type: 'string', default: 'all' },
      samples: { type: 'string', default: String(DEFAULT_ANALYSIS.samples) },
      seed: { type: 'string', default: String(DEFAULT_ANALYSIS.seed) },
      noise: { type: 'string', default: DEFAULT_ANALYSIS_NOISE.mode },
      'noise-seed': { type: 'string', default: String(DEFAULT_NOISE_SEED) },
      backend: { type: 'string', default: 'wasm' },
      conv: { type: 'string', default: 'direct' },
      generator: { type: 'string' },
      threads: { type: 'string', default: String(availableCores()) },
      out: { type: 'string', default: 'out/report' },
      'direction-dims': { type: 'string', default: String(DEFAULT_ANALYSIS.directionDims) },
      'contrastive-samples': { type: 'string', default: String(DEFAULT_ANALYSIS.contrastiveSamples) },
      'counterfactual-samples': { type: 'string', default: String(DEFAULT_ANALYSIS.counterfactualSamples) },
      'direction-samples': { type: 'string', default: String(DEFAULT_ANALYSIS.directionSamples) },
      'corner-direction-samples': { type: 'string', default: String(DEFAULT_ANALYSIS.cornerCaseDirectionSamples) },
      domain: { type: 'string', default: DEFAULT_DOMAIN },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  // The domain's own classifiers: a grey domain's clean/corrupted pair, coloured MNIST's spurious/independent one.
  const BUILTIN_CLASSIFIERS = domainClassifiers(domain);
  o.classifier ??= classifierModelName(domain.analysedVariant);
  const isBuiltin = (name: string) => BUILTIN_CLASSIFIERS.includes(name);
  const builtin = isBuiltin(o.classifier);
  if (!builtin && o.adapter === undefined)
    throw new Error(
      `--classifier "${o.classifier}" is not a built-in classifier of domain "${domain.name}" (` +
        `${BUILTIN_CLASSIFIERS.join(', ')}); for your own TF.js model give its folder and --adapter FILE`,
    );
  if (builtin && o.adapter !== undefined)
    throw new Error('--adapter is only for your own TF.js model, not a built-in classifier');
  if (builtin && o.name !== undefined) throw new Error('--name is only for your own TF.js model');
  const compareUser = o.compare !== undefined && o.compare !== 'none' && !isBuiltin(o.compare);
  if (compareUser && o['compare-adapter'] === undefined)
    throw new Error(
      `--compare "${o.compare}" is not a built-in classifier of domain "${domain.name}" ` +
        `(${BUILTIN_CLASSIFIERS.join(', ')}) nor none; ` +
        `to compare with your own TF.js model give its folder and --compare-adapter FILE`,
    );
  if (!compareUser && (o['compare-adapter'] !== undefined || o['compare-name'] !== undefined))
    throw new Error(
      '--compare-adapter and --compare-name are only for a --compare that is your own TF.js model folder',
    );
  if (compareUser && path.resolve(o.compare!) === path.resolve(o.classifier!) && o['compare-adapter'] === o.adapter)
    throw new Error('--compare must name a different classifier');
  const defaultCompare = builtin
    ? BUILTIN_CLASSIFIERS.find((n) => n !== o.classifier)!
    : classifierModelName(domain.analysedVariant);
  let compareName: string | null =
    o.compare === 'none' || compareUser
      ? null
      : enumOption(o.compare ?? defaultCompare, 'compare', BUILTIN_CLASSIFIERS);
  if (compareName === o.classifier) throw new Error('--compare must name a different classifier');
  const samples = intOption(o.samples, 'samples', 2, 1_000_000);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  const noise = analysisNoiseOf(
    enumOption(o.noise, 'noise', ANALYSIS_NOISE_MODES),
    intOption(o['noise-seed'], 'noise-seed', 0, 0xffffffff),
  );
  const threads = intOption(o.threads, 'threads', 1, 256);
  const directionDims = intOption(o['direction-dims'], 'direction-dims', 1, 512);
  const directionSamples = intOption(o['direction-samples'], 'direction-samples', 2, 10_000);
  let contrastiveSamples = intOption(o['contrastive-samples'], 'contrastive-samples', 0, 1_000_000);
  const cornerCaseDirectionSamples = intOption(o['corner-direction-samples'], 'corner-direction-samples', 0, 10_000);
  const counterfactualSamples = intOption(o['counterfactual-samples'], 'counterfactual-samples', 0, 1_000_000);
  // One frame has no spread to bootstrap a ratio from.
  if (counterfactualSamples === 1)
    throw new Error('--counterfactual-samples must be 0 (not computed) or at least 2, got 1');
  // One sample has no spread to bootstrap an effect size from.
  if (cornerCaseDirectionSamples === 1)
    throw new Error('--corner-direction-samples must be 0 (corner cases not named) or at least 2, got 1');
  const backend = enumOption(o.backend, 'backend', NODE_BACKENDS);
  const conv = enumOption(o.conv, 'conv', CONV3X3_ALGORITHMS);
  if (conv === 'winograd' && backend !== 'wasm') throw new Error('--conv winograd needs --backend wasm');

  await useBackend(backend);
  // Before the sweep pool starts: its workers take this thread's algorithm.
  setConv3x3Algorithm(conv);
  const gen = loadGenerator(o.generator ? path.resolve(o.generator) : undefined, domain.name);
  // Class count, names and the default traversal class come from the generator's manifest.
  const K = gen.generator.arch.numClasses;
  const genNames = gen.generator.classes.names;
  const genClasses = `the generator (${o.generator ?? `weights/${builtinModelPath('generator', domain.name)}`}) has ${K} classes: ${genNames.join(', ')}`;
  const classIndex = o.class === 'all' ? null : classOption(o.class!, genNames, genClasses);
  // The ranking estimates every analysed class's style spread: two samples of each at least
  // (samples are dealt to the classes in turn). Checked before any model is run.
  const minSamples = 2 * (classIndex === null ? K : 1);
  if (samples < minSamples)
    throw new Error(
      `--samples must be at least ${minSamples} (2 samples of each ` +
        `${classIndex === null ? `of the generator's ${K} classes` : 'analysed class'}: the ranking estimates each class's style spread), got ${samples}`,
    );
  const builtinClasses = (name: string) => {
    const c = loadBuiltinClassifier(name, domain.name);
    return {
      c,
      fits: c.classifier.numClasses === K,
      what: `${name} has ${c.classifier.numClasses} classes (${domain.title}), ${genClasses}`,
    };
  };
  const own = builtin ? builtinClasses(o.classifier!) : undefined;
  if (own && !own.fits)
    throw new Error(
      `--classifier ${own.what}; analyse a classifier of the generator's classes: --classifier DIR --adapter ` +
        `FILE, whose classes.generatorToModel maps each of the ${K} generator classes to one of the model's outputs`,
    );
  let compareBuiltin = compareName ? builtinClasses(compareName) : undefined;
  const unfitCompare = compareBuiltin && !compareBuiltin.fits ? compareBuiltin.what : undefined;
  if (compareBuiltin && !compareBuiltin.fits) {
    if (o.compare !== undefined) throw new Error(`--compare ${compareBuiltin.what}; use --compare none`);
    process.stderr.write(
      `note: no comparison classifier: ${compareBuiltin.what} (give --compare none to silence this)\n`,
    );
    compareName = null;
    compareBuiltin = undefined;
  }
  // The real images of the generator's domain, for the adapters' sanity checks (none for a
  // generator trained on a user's folder: its classes have no labelled test split here).
  const genInfo = { manifest: gen.manifest, names: genNames, described: genClasses };
  const sanity = sanityImagesFor(genInfo);
  const describeBuiltin = (name: string, manifest: { sha256: string }): ClassifierDescription => ({
    source: 'built-in',
    weights: `weights/${builtinModelPath(name, domain.name)}`,
    weightsSha256: manifest.sha256,
    idIs: 'the weights sha256',
  });
  const descriptions = new Map<string, ClassifierDescription>();
  const userDirs = new Map<string, { dir: string; adapter: string }>();
  /** Loads a user model, checks its classes and its adapter on real images (printed, warned loudly when implausible). */
  const loadUser = async (dirArg: string, adapterArg: string, name: string | undefined, flag: string) => {
    const files = { dir: path.resolve(dirArg), adapter: path.resolve(adapterArg) };
    const { user, check } = await loadCheckedUserClassifier(dirArg, adapterArg, name, flag, genInfo, sanity);
    const c = user.classifier.check;
    descriptions.set(user.id, {
      source: 'tfjs',
      path: dirArg,
      adapterPath: adapterArg,
      format: c.format,
      modelSha256: user.modelSha256,
      idIs: 'tfjsClassifierId: a hash of the model sha256 and the parsed adapter',
      inputShape: c.inputShape,
      outputUnits: c.outputUnits,
      differentiable: c.differentiable,
      nonDifferentiableOp: c.nonDifferentiableOp,
      adapter: user.classifier.adapter,
      sanityCheck: check,
      ...(sanity.skipped ? { sanityCheckSkipped: sanity.skipped } : {}),
    });
    userDirs.set(user.id, files);
    const m: AnalysisModels = {
      generator: gen.generator,
      classifier: user.classifier,
      generatorId: gen.manifest.sha256,
      classifierId: user.id,
    };
    return { models: m, user };
  };
  let compareModels: AnalysisModels | undefined;
  if (compareBuiltin) {
    compareModels = analysisModels(gen, compareBuiltin.c);
    descriptions.set(compareModels.classifierId, describeBuiltin(compareName!, compareBuiltin.c.manifest));
  } else if (compareUser) {
    compareModels = (await loadUser(o.compare!, o['compare-adapter']!, o['compare-name'], '--compare-adapter')).models;
    compareName = compareModels.classifier.name;
  }
  let models: AnalysisModels;
  let compare = compareModels;
  if (own) {
    models = analysisModels(gen, own.c);
    descriptions.set(models.classifierId, describeBuiltin(o.classifier!, own.c.manifest));
  } else {
    const { models: userModels, user } = await loadUser(o.classifier!, o.adapter!, o.name, '--adapter');
    models = userModels;
    if (!user.classifier.check.differentiable) {
      // No gradient through the user's model: rank (and traverse) with the compared classifier, and
      // measure the user's model on the same samples and dims (accuracy curve, robustness).
      if (compareModels === undefined)
        throw new Error(
          `${o.classifier}: the model has no gradient for op ${user.classifier.check.nonDifferentiableOp}, so the gradient ranking ` +
            `needs another classifier: ${o.compare === 'none' ? 'drop --compare none' : `no built-in classifier fits: ${unfitCompare ?? genClasses}`}`,
        );
      if (!((compareModels.classifier as { check?: { differentiable: boolean } }).check?.differentiable ?? true))
        throw new Error(`${o.compare}: no gradient through the compared model either; the ranking needs one of them`);
      process.stderr.write(
        `${o.classifier}: no gradient for op ${user.classifier.check.nonDifferentiableOp}; ranking, traversals ` +
          `and corner cases use ${compareName}, and ${user.classifier.name} is measured on the same samples and dims\n`,
      );
      compare = models;
      models = compareModels;
      // The contrastive ranking needs the gradient of both classifiers.
      contrastiveSamples = 0;
    }
  }
  // Every built-in classifier that fits, next to the analysed one on its top dims.
  const alongside: AnalysisModels[] = [];
  for (const name of BUILTIN_CLASSIFIERS) {
    const b = builtinClasses(name);
    if (!b.fits) continue;
    const m = analysisModels(gen, b.c);
    if (m.classifierId === models.classifierId || m.classifierId === compare?.classifierId) {
      b.c.classifier.dispose();
      continue;
    }
    descriptions.set(m.classifierId, describeBuiltin(name, b.c.manifest));
    alongside.push({ ...m, noise });
  }
  // Both classifiers see the same images: the chosen noise.
  models = { ...models, noise };
  if (compare) compare = { ...compare, noise };

  let bar: Progress | null = null;
  let stage: AnalysisStage | null = null;
  const t0 = Date.now();
  // The sweep over worker threads (more threads than batches would idle).
  const batches = Math.ceil(samples / DEFAULT_ANALYSIS.batchSize);
  const pool = await startSweepPool(models, {
    threads: Math.min(threads, batches),
    backend,
    userClassifier: userDirs.get(models.classifierId),
  });
  let report: AnalysisReport;
  try {
    report = await analyze(
      models,
      {
        seed,
        samples,
        classIndex,
        embeddingSamples: Math.min(1000, samples),
        directionDims,
        directionSamples,
        cornerCaseDirectionSamples,
        contrastiveSamples,
        counterfactualSamples,
      },
      compare,
      (p) => {
        if (p.stage !== stage) {
          bar?.stop();
          stage = p.stage;
          bar = progressBar(p.stage.padEnd(12), p.total, p.stage === 'sweep' ? 'samples' : 'items');
        }
        bar!.update(p.done);
        // The workers are only needed for the sweep.
        if (p.stage !== 'sweep') void pool?.close();
      },
      { sweep: pool?.sweep },
      alongside,
    );
  } finally {
    await pool?.close();
  }
  (bar as Progress | null)?.stop();

  for (const c of report.classifiers) {
    const d = descriptions.get(c.id);
    if (d) c.model = d;
  }

  const out = path.resolve(o.out);
  mkdirSync(out, { recursive: true });
  const channels = gen.generator.arch.imageChannels;
  if (channels !== 1 && channels !== 3) throw new Error(`cannot draw the report of a ${channels}-channel generator`);
  const shape = { size: gen.generator.resolution, channels } as const;
  const images = {
    traversals: traversalGrid(report, shape),
    cornerCases: cornerCaseGrid(report, shape),
    joint: jointGrid(report, shape),
  };
  writeFileSync(path.join(out, 'report.json'), reportJson(report));
  writeFileSync(path.join(out, 'traversals.png'), images.traversals);
  writeFileSync(path.join(out, 'corner-cases.png'), images.cornerCases);
  writeFileSync(path.join(out, 'joint-corner-cases.png'), images.joint);
  writeFileSync(path.join(out, 'report.html'), reportHtml(report, images));

  const tMax = report.flipSufficiency.ts.reduce((a, t) => Math.max(a, t), 0);
  const lines = [
    `analysis of ${report.options.samples} samples in ${((Date.now() - t0) / 1000).toFixed(0)} s (${report.backend}; ` +
      `sweep ${report.timings.sweep.toFixed(1)} s on ${pool ? `${pool.threads} worker threads` : 'this thread'}` +
      `${report.conv ? `; ${report.conv} 3x3 convs` : ''})`,
    ...report.classifiers.map(
      (c) =>
        `  ${c.name.padEnd(22)} accuracy ${(100 * c.accuracy).toFixed(2)}%  robustness ` +
        `${c.robustness.score.toFixed(4)} [${c.robustness.ciLow.toFixed(4)}, ${c.robustness.ciHigh.toFixed(4)}]`,
    ),
    `  noise: ${report.noise.mode === 'const' ? "const (the generator's stored pattern)" : `per-sample (noise seed ${report.noise.seed})`}`,
    `  top dims: ${report.ranking.dims
      .slice(0, 10)
      .map((d) => `${d.layer}:${d.channel}`)
      .join(', ')}`,
    `  traversals from class ${classLabel({ names: report.classNames }, report.options.traversalClass)}`,
    `  decision corner cases (the prediction really changes) per class: ` +
      `${report.cornerCases.classes.map((c) => `${classLabel({ names: report.classNames }, c.classIndex)}:${c.cases.length}`).join(' ')}`,
    `  of the dims tried, reaching p_true = 0.5 / flipping the decision: ${report.cornerCases.classes.reduce((a, c) => a + c.counts.pTrueHalf, 0)} / ` +
      `${report.cornerCases.classes.reduce((a, c) => a + c.counts.decision, 0)} of ${report.cornerCases.classes.reduce((a, c) => a + c.counts.tried, 0)}`,
    ...report.flipSufficiency.classifiers.map(
      (c) =>
        `  flip sufficiency ${c.classifier}: ${c.cells
          .filter((x) => x.t === tMax)
          .map((x) => `k=${x.k} ${(100 * x.top.share).toFixed(0)}% vs random ${(100 * x.random.share).toFixed(0)}%`)
          .join(', ')} (t = ${tMax} std)`,
    ),
    ...report.frontier.classifiers.map(
      (c) =>
        `  frontier distance ${c.classifier}: median ${c.median === null ? `> ${report.frontier.maxSteps}` : c.median.toFixed(2)} std ` +
        `over classes (${c.classes.map((k) => (k.median === null ? '>' : k.median.toFixed(1))).join(' ')})`,
    ),
    `  top dims, what they do: ${report.directions.result.directions
      .slice(0, 5)
      .map((d) => `${d.dims.join('+')} ${d.label.text}`)
      .join('; ')}`,
    ...report.directions.why.map((w) => `  why: ${w.sentence}`),
    `  side by side on ${report.sideBySide.rankedBy}'s top ${report.sideBySide.dims.length} dims, ` +
      `mean p_true after ${report.sideBySide.t} std (before): ${report.sideBySide.classifiers
        .map((name, c) => {
          const cells = report.sideBySide.dims.map((d) => d.cells[c]);
          const mean = (f: (x: (typeof cells)[number]) => number) =>
            cells.reduce((a, x) => a + f(x), 0) / Math.max(1, cells.length);
          return `${name} ${mean((x) => x.pTrueAfter).toFixed(3)} (${mean((x) => x.pTrue).toFixed(3)})`;
        })
        .join(', ')}`,
    ...(report.contrastive ? [`  specific weakness: ${contrastiveSummary(report.contrastive)}`] : []),
    `wrote ${path.relative(process.cwd(), out) || '.'}/report.html, report.json, traversals.png, corner-cases.png, joint-corner-cases.png`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** `--class`: an index in [0, K-1], or one of the generator's class names (an index wins). */
function classOption(value: string, names: readonly string[], generator: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : names.indexOf(value);
  if (Number.isInteger(n) && n >= 0 && n < names.length) return n;
  throw new Error(
    `--class must be all, a class index in [0, ${names.length - 1}] or a class name; ${generator}; got "${value}"`,
  );
}

/** The CLI's line for the contrastive ranking: the factor named (or why none is), and the top dims. */
function contrastiveSummary(c: NonNullable<AnalysisReport['contrastive']>): string {
  const a = c.attribution;
  const [first, second] = a.factors;
  const named = a.named
    ? `${c.ranking.classifier} fails more than ${c.ranking.reference} where the image ${a.named.label} (${first.factor} ${first.coefficient.toFixed(2)} [` +
      `${first.ciLow.toFixed(2)}, ${first.ciHigh.toFixed(2)}] margin shares per factor std; runner-up ${second?.label ?? 'none'} ` +
      `${second ? second.coefficient.toFixed(2) : ''}; first in ${Math.round(100 * a.named.firstShare)}% of bootstrap resamples)`
    : `no factor named for ${c.ranking.classifier} against ${c.ranking.reference} (the largest, ${first?.factor ?? 'none'}, has an interval that includes 0)`;
  const dims = (c.directions?.directions ?? [])
    .slice(0, 5)
    .map(
      (d, i) => `${d.dims[0]} ${d.label.text}${c.weaknesses ? `, breaks it via ${weaknessText(c.weaknesses[i])}` : ''}`,
    )
    .join('; ');
  const cf = c.counterfactual;
  const edits = cf ? counterfactualSentence(cf, c.ranking.classifier, c.ranking.reference) : null;
  return [edits, `regression at rest: ${named}`, `contrastive top dims: ${dims}`].filter(Boolean).join('; ');
}
