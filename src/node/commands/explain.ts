/**
 * `faultlines explain IMAGE.png --label N` — why the classifier decides what it does on one real
 * image: projection into S, its faithfulness, the deviating dims and a counterfactual (or the
 * distance to the nearest boundary); writes report.json, strip.png and report.html.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_EXPLAIN,
  explainImage,
  explanationJson,
  type Explanation,
  type ExplanationJson,
} from '../../core/analysis/explain.js';
import {
  analysisNoiseOf,
  ANALYSIS_NOISE_MODES,
  DEFAULT_ANALYSIS_NOISE,
  type AnalysisModels,
} from '../../core/analysis/analysis-models.js';
import { loadCheckedUserClassifier, sanityImagesFor } from '../checked-user-classifier.js';
import { DEFAULT_PROJECTION } from '../../core/analysis/projection.js';
import { gridPng } from '../../core/image/png.js';
import { checkLabel, readDomainPng } from '../../core/image/read-png.js';
import { enumOption, intOption } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import {
  analysisModels,
  builtinModelPath,
  loadBuiltinClassifier,
  loadFeatureExtractor,
  loadGenerator,
} from '../builtin-models.js';
import { sumsFromFile, sweepSums } from '../sweep-sums.js';
import { EXPLAIN_LIMITS } from '../../protocol/explain.js';
import { DEFAULT_SWEEP } from '../../protocol/result-keys.js';
import {
  classifierModelName,
  DEFAULT_DOMAIN,
  DOMAINS,
  domainClassifiers,
  domainNames,
  getDomain,
} from '../../core/data/domain.js';

export const summary = 'explain the decision on one real image: projection, deviating dims, counterfactual';

/**
 * The sweep whose ranking sums give the std units and class ranking: the edge's built-in sweep, whose
 * sums are precomputed (and which POST /v1/explain's jobs use, so the API and the CLI agree).
 */
export const EXPLAIN_SWEEP = { ...DEFAULT_SWEEP, classIndex: null };

const usage = `usage: faultlines explain IMAGE.png --label N [options]

  IMAGE.png              a PNG of the domain (grey, or RGB for colored-mnist): 32x32, or 28x28 (padded by 2 px like MNIST)
  --label N              its true class, an index of the generator's classes (0-9 for the digit domains)
  --domain NAME          ${domainNames().join(' | ')} (default ${DEFAULT_DOMAIN}): the generator, feature extractor and
                         built-in classifiers of that domain
  --classifier NAME|DIR  the domain's built-in classifier (${DOMAINS.map((d) => `${d.name}: ${domainClassifiers(d).join(' | ')}`).join('; ')};
                         default the first), or your own TF.js model's folder (model.json + shards) with --adapter
  --adapter FILE         adapter JSON of your TF.js model (docs/bring-your-own-model.md); its adapter is
                         checked on real test images first, as analyze does
  --name NAME            your model's name in the report (default: its folder's name)
  --sweep-samples N      samples of the ranking sweep that sets the std units and the class ranking
                         (default ${EXPLAIN_SWEEP.count}: the built-in classifiers' precomputed sums; your own
                         model is swept, about a minute per 2,000 samples on 2 cores)
  --sums FILE            the ranking sums of that sweep from a file instead (a ranking-sums result as GET
                         /v1/results/KEY serves it): reproduces an API answer with the sums its runner computed
  --steps N              projection steps (default ${DEFAULT_PROJECTION.steps}; docs/explain.md: PSNR per budget)
  --seed N               projection seed (default ${DEFAULT_PROJECTION.seed})
  --noise const|per-sample  the generator's per-pixel noise (default ${DEFAULT_ANALYSIS_NOISE.mode}), held fixed at the label's stream
  --top N                deviating dims reported and moved (default ${DEFAULT_EXPLAIN.topDims})
  --backend cpu|wasm     tfjs backend (default wasm)
  --out DIR              output folder (default out/explain)`;

/** Images of the strip: the image, its projection, then the counterfactual frames or the nearest boundary. */
function stripTiles(image: Float32Array, e: Explanation): Float32Array[] {
  const tiles = [image, e.reconstruction.image];
  if (e.counterfactual) tiles.push(...e.counterfactual.frames.slice(1).map((f) => f.image));
  if (e.boundary?.nearest?.image) tiles.push(e.boundary.nearest.image);
  return tiles;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function html(file: string, j: ExplanationJson, strip: Uint8Array, classifier: string): string {
  const f = (v: number | null, d = 3) => (v === null ? '—' : v.toFixed(d));
  const dims = j.deviations
    .map(
      (d) =>
        `<tr><td>${esc(d.name)}</td><td>${d.index}</td><td>${f(d.deviation, 2)}</td><td>${d.classRank}</td><td>${esc(d.label ?? '—')}</td></tr>`,
    )
    .join('');
  let verdict = '';
  if (j.counterfactual) {
    const c = j.counterfactual;
    const frames = c.frames
      .map(
        (fr) =>
          `<td><img src="${fr.image}" width="64"><br>${f(fr.fraction, 2)}: ${fr.predicted} (p_true ${f(fr.pTrue)})</td>`,
      )
      .join('');
    verdict = `<h2>Counterfactual</h2><p>${esc(c.reason)}</p>${frames ? `<table><tr>${frames}</tr></table>` : ''}`;
  } else if (j.boundary) {
    const n = j.boundary.nearest;
    verdict = `<h2>Nearest decision boundary</h2><p>${
      n
        ? `${f(n.shift, 2)} std along ${esc(n.name)} (class rank ${n.classRank}): read as ${n.predicted}`
        : `none within ${j.boundary.maxSteps} std along the top ${j.boundary.dims.length} dims`
    }</p>`;
  }
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>faultlines explain ${esc(file)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:2px ` +
    `8px;text-align:left}img{image-rendering:pixelated}.warn{color:#a00}</style></head><body>
<h1>${esc(path.basename(file))}: label ${j.label}, ${esc(classifier)} reads ${j.original.predicted} (p_true ${f(j.original.pTrue)})</h1>
<p><img src="data:image/png;base64,${Buffer.from(strip).toString('base64')}" alt="image, ` +
    `projection, ${j.counterfactual ? 'counterfactual frames' : 'nearest boundary'}"></p>
<p>Projection: PSNR ${f(j.reconstruction.psnr, 1)} dB, feature distance ${f(j.reconstruction.featureDistance)}; the classifier reads it as ` +
    `${j.reconstruction.predicted} (p_true ${f(j.reconstruction.pTrue)}): ${j.sameDecision ? 'same decision' : '<b class="warn">a different decision</b>'}.</p>
${j.warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('')}
<h2>Where the projection deviates from the well-classified ${j.label}s</h2>
<table><tr><th>dim</th><th>index</th><th>deviation (std)</th><th>class rank</th><th>moving it this way</th></tr>${dims}</table>
${verdict}
</body></html>
`
  );
}

export async function run(args: string[]): Promise<void> {
  const parse = () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        label: { type: 'string' },
        classifier: { type: 'string' },
        domain: { type: 'string', default: DEFAULT_DOMAIN },
        adapter: { type: 'string' },
        name: { type: 'string' },
        'sweep-samples': { type: 'string', default: String(EXPLAIN_SWEEP.count) },
        sums: { type: 'string' },
        steps: { type: 'string', default: String(DEFAULT_PROJECTION.steps) },
        seed: { type: 'string', default: String(DEFAULT_PROJECTION.seed) },
        noise: { type: 'string', default: DEFAULT_ANALYSIS_NOISE.mode },
        top: { type: 'string', default: String(DEFAULT_EXPLAIN.topDims) },
        backend: { type: 'string', default: 'wasm' },
        out: { type: 'string', default: 'out/explain' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n${usage}`);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (parsed.positionals.length !== 1) throw new Error(`give exactly one IMAGE.png\n\n${usage}`);
  if (o.label === undefined) throw new Error(`--label is required\n\n${usage}`);
  const file = parsed.positionals[0];
  const domain = getDomain(enumOption(o.domain, 'domain', domainNames()));
  const builtinNames = domainClassifiers(domain);
  // The first of the domain's classifiers: MNIST's classifier-clean, as before domains.
  o.classifier ??= classifierModelName(domain.classifierVariants[0]);
  const builtin = builtinNames.includes(o.classifier);
  if (!builtin && o.adapter === undefined)
    throw new Error(
      `--classifier "${o.classifier}" is not a built-in classifier of domain "${domain.name}" ` +
        `(${builtinNames.join(', ')}); for your own TF.js model give its folder and --adapter FILE\n\n${usage}`,
    );
  if (builtin && (o.adapter !== undefined || o.name !== undefined))
    throw new Error('--adapter and --name are only for your own TF.js model, not a built-in classifier');
  const steps = intOption(o.steps, 'steps', 0, 100_000);
  const seed = intOption(o.seed, 'seed', 0, 0xffffffff);
  const noise = analysisNoiseOf(enumOption(o.noise, 'noise', ANALYSIS_NOISE_MODES));
  const top = intOption(o.top, 'top', 1, 64);
  const sweep = {
    ...EXPLAIN_SWEEP,
    count: intOption(o['sweep-samples'], 'sweep-samples', EXPLAIN_LIMITS.minSweepSamples, 1_000_000),
  };
  const backend = enumOption(o.backend, 'backend', NODE_BACKENDS);

  // The image and label are checked before the classifier and the sums are loaded.
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  await useBackend(backend);
  const gen = loadGenerator(undefined, domain.name);
  const g = gen.generator;
  const label = checkLabel(o.label, g.arch.numClasses, '--label');
  const image = readDomainPng(bytes, { size: g.resolution, channels: g.arch.imageChannels }, file);

  let classifierName = o.classifier!;
  let described: Record<string, unknown> = {};
  let base: AnalysisModels;
  if (builtin) base = analysisModels(gen, loadBuiltinClassifier(classifierName, domain.name));
  else {
    const genInfo = {
      manifest: gen.manifest,
      names: g.classes.names,
      described: `the generator (weights/${builtinModelPath('generator', domain.name)}) has ${g.arch.numClasses} classes: ${g.classes.names.join(', ')}`,
    };
    const dir = path.resolve(o.classifier!);
    const adapter = path.resolve(o.adapter!);
    const { user, check } = await loadCheckedUserClassifier(
      o.classifier!,
      o.adapter!,
      o.name,
      '--adapter',
      genInfo,
      sanityImagesFor(genInfo),
    );
    // The explanation ranks dims by this classifier's gradient (the class's ranking) and searches its
    // decision boundary: a model without a gradient cannot be explained this way.
    if (!user.classifier.check.differentiable)
      throw new Error(
        `${o.classifier}: the model has no gradient for op ${user.classifier.check.nonDifferentiableOp}; explain ranks dims by the classifier's gradient`,
      );
    classifierName = user.classifier.name;
    described = {
      classifierId: user.id,
      model: {
        path: dir,
        adapterPath: adapter,
        modelSha256: user.modelSha256,
        adapter: user.classifier.adapter,
        sanityCheck: check,
      },
    };
    base = { generator: g, classifier: user.classifier, generatorId: gen.manifest.sha256, classifierId: user.id };
  }
  const models = { ...base, noise };
  const { featureExtractor } = loadFeatureExtractor(domain.name);
  const { sums, source } =
    o.sums === undefined
      ? await sweepSums(models, sweep)
      : { sums: sumsFromFile(o.sums, models, sweep), source: 'file' as const };
  process.stderr.write(`ranking sums: ${source} (seed ${sweep.seed}, ${sweep.count} samples)\n`);
  const e = await explainImage(models, { featureExtractor }, { spec: sweep, sums }, image, label, {
    projection: { steps, seed },
    topDims: top,
  });
  const j = explanationJson(e, g.resolution);
  const out = path.resolve(o.out!);
  mkdirSync(out, { recursive: true });
  const strip = gridPng(stripTiles(image, e), { size: g.resolution, columns: 16, scale: 3, gap: 3 });
  writeFileSync(
    path.join(out, 'report.json'),
    `${JSON.stringify({ image: path.resolve(file), classifier: classifierName, ...described, backend, sums: source, ...j }, null, 1)}\n`,
  );
  writeFileSync(path.join(out, 'strip.png'), strip);
  writeFileSync(path.join(out, 'report.html'), html(file, j, strip, classifierName));
  const what = e.counterfactual
    ? e.counterfactual.reason
    : e.boundary?.nearest
      ? `nearest boundary: ${e.boundary.nearest.shift!.toFixed(2)} std along ${e.boundary.nearest.name} (read as ${e.boundary.nearest.predicted})`
      : 'no boundary within the searched dims';
  process.stdout.write(
    `label ${label}: ${classifierName} reads ${e.original.predicted} (p_true ${e.original.pTrue.toFixed(3)}); projection PSNR ` +
      `${e.reconstruction.psnr.toFixed(1)} dB, ${e.sameDecision ? 'same decision' : 'DIFFERENT decision'}\n` +
      `${what}\n${e.warnings.map((w) => `warning: ${w}\n`).join('')}wrote ` +
      `${path.relative(process.cwd(), out) || '.'}/report.json, strip.png, report.html (${(e.seconds.projection + e.seconds.explanation).toFixed(1)} s)\n`,
  );
}
