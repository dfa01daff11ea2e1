/**
 * `faultlines paint-generator` — a colour domain's generator from a grey one: the grey generator's
 * mapping and synthesis draw the ink unchanged, a paint layer (core/generator/paint.ts) colours it
 * with a (foreground, background) pair drawn from the pairs fitted on the domain's generator data
 * (core/generator/paint-fit.ts). Writes the weights with the domain in the manifest, then
 * `eval-generator --domain <domain>` measures it like any trained generator.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Generator } from '../../core/generator/generator.js';
import { PAINT_STYLE_DIMS, PAINT_Z_DIMS } from '../../core/generator/paint.js';
import { fitColourPairs, zEdges } from '../../core/generator/paint-fit.js';
import { estimateColourPair } from '../../core/image/colour-pair.js';
import { digitImage } from '../../core/data/digits.js';
import { domainNames, domainStamp, getDomain } from '../../core/data/domain.js';
import type { HostTensor } from '../../core/weights/codec.js';
import { enumOption, parseOptions } from '../args.js';
import { NODE_BACKENDS, useBackend } from '../backend.js';
import { builtinModelPath, INK_GENERATOR, loadGenerator } from '../builtin-models.js';
import { describeDomainData, loadDomainSet } from '../domain-data.js';
import { weightsRoot, writeWeightsDir } from '../weights-fs.js';

export const summary =
  "a colour domain's generator: a grey generator's ink painted with colour pairs fitted on the data";

const colourDomains = () => domainNames().filter((n) => getDomain(n).image.channels === 3);

const usage = `usage: faultlines paint-generator [--domain ${colourDomains().join('|')}] [--from DIR] [--out DIR]

  --domain  the colour domain whose generator data the colour pairs are fitted on (default colored-mnist)
  --from    the grey generator whose ink is painted (default weights/<domain>/ink-generator: for
            colored-mnist a generator trained on clean MNIST digits, the ink the domain paints)
  --out     where the painted generator is written (default weights/<domain>/generator)
  --backend wasm|cpu (default wasm)`;

export async function run(args: string[]): Promise<void> {
  const o = parseOptions(
    args,
    {
      domain: { type: 'string', default: 'colored-mnist' },
      from: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
    },
    usage,
  );
  if (o.help) return void process.stdout.write(usage + '\n');
  const domain = getDomain(enumOption(o.domain, 'domain', colourDomains()));
  await useBackend(enumOption(o.backend, 'backend', NODE_BACKENDS));
  const from = path.resolve(o.from ?? path.join(weightsRoot(), builtinModelPath(INK_GENERATOR, domain.name)));
  if (!existsSync(path.join(from, 'manifest.json')))
    throw new Error(
      `--from ${from}: no generator there; the default is the domain's ink generator, ` +
        `a grey generator trained on the unpainted digits (see docs/${domain.name}/training.md)`,
    );
  const out = path.resolve(o.out ?? path.join(weightsRoot(), builtinModelPath('generator', domain.name)));
  const grey = loadGenerator(from);
  if (grey.generator.arch.imageChannels !== 1 || grey.generator.arch.paint)
    throw new Error(`--from ${from}: a grey (1-channel, unpainted) generator is needed`);
  if (grey.generator.arch.numClasses !== domain.classNames.length)
    throw new Error(
      `--from ${from}: ${grey.generator.arch.numClasses} classes, ${domain.name} has ${domain.classNames.length}`,
    );

  const data = loadDomainSet(domain, 'train', domain.generatorVariant);
  const size = domain.image.size;
  const pairs = Array.from({ length: data.count }, (_, i) => estimateColourPair(digitImage(data, i), size));
  const fit = fitColourPairs(pairs);
  const k = fit.weights.length;
  process.stderr.write(
    `${k} colour pairs on ${data.count} images (shares ${Math.min(...fit.weights).toFixed(4)}-` +
      `${Math.max(...fit.weights).toFixed(4)}; ${(fit.exactShare * 100).toFixed(2)}% of estimates within 0.05)\n`,
  );

  const arch = {
    ...grey.generator.arch,
    zDim: grey.generator.arch.zDim + PAINT_Z_DIMS,
    wDim: grey.generator.arch.wDim + PAINT_STYLE_DIMS,
    imageChannels: 3,
    paint: { components: k },
  };
  const painted = new Generator(arch, null, false);
  painted.setClasses({ names: grey.generator.classes.names, traversalClass: grey.generator.classes.traversalClass });
  // Truncation's centre: the grey w_avg, then the mean colour pair.
  const meanPair = new Float32Array(PAINT_STYLE_DIMS);
  fit.weights.forEach((wk, c) => {
    for (let j = 0; j < PAINT_STYLE_DIMS; j++) meanPair[j] += wk * fit.colours[c * PAINT_STYLE_DIMS + j];
  });
  const tensors = new Map<string, HostTensor>(await grey.generator.toHost());
  const wAvg = tensors.get('mapping/w_avg')!.values;
  tensors.set('mapping/w_avg', { shape: [arch.wDim], values: Float32Array.from([...wAvg, ...meanPair]) });
  tensors.set('paint/colours', { shape: [k, PAINT_STYLE_DIMS], values: fit.colours });
  tensors.set('paint/z_edges', { shape: [k - 1], values: zEdges(fit.weights) });
  painted.load(tensors, out);

  const manifest = writeWeightsDir(
    out,
    {
      ...painted.weightsInfo(
        path.basename(out),
        {
          command: `npm run paint:generator -- --domain ${domain.name}`,
          ink: {
            generator: path.relative(process.cwd(), from) || from,
            sha256: grey.manifest.sha256,
            note: 'mapping and synthesis copied unchanged; they draw the ink (one channel)',
            // What the ink was trained on and how long: the painted generator's quality follows from it.
            trained: grey.manifest.provenance,
          },
          colours: {
            data: describeDomainData(domain, 'train', domain.generatorVariant),
            images: data.count,
            fit:
              'per image: background = median of the outer pixel ring, foreground = the pixel furthest from it; ' +
              'pairs grouped (leader clustering at 0.2, medians, components under 0.2% merged), ' +
              'probability = share of the images',
            components: k,
            exactShare: fit.exactShare,
            maxDistance: fit.maxDistance,
          },
        },
        {},
      ),
      domain: domainStamp(domain),
    },
    await painted.toHost(),
  );
  painted.dispose();
  grey.generator.dispose();
  process.stderr.write(
    `wrote ${path.relative(process.cwd(), out)} (${manifest.byteLength} bytes, S = ${manifest.architecture.styleSize})\n`,
  );
}
