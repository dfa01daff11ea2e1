/**
 * `npm run bench:explain-inline` — seconds per explanation computed inline by the edge (POST
 * /v1/explain with a small budget, local workerd, one isolate, tfjs-wasm), against the heaviest live
 * computation the live limits were set for (a 17-frame traversal, LIMITS.frames) measured in the same
 * run, alternating, so both meet the same load. Real MNIST test digits, each a new key (nothing from
 * the cache): misread ones (counterfactual path) and correctly read ones (nearest-boundary path),
 * for each budget given. Client-side wall times over loopback HTTP (workerd's clock does not advance
 * during a computation). Writes bench/results/explain-inline.json. Not a test: the machine is shared.
 *
 *   npm run bench:explain-inline [-- --images 6 --budgets 8x2,4x1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encode } from 'fast-png';
import { startLocalWorkerd } from '../scripts/edge/local-workerd.js';
import { intOption, parseOptions } from '../src/node/args.js';
import { loadDigits } from '../src/node/mnist.js';

const ASSETS = 'dist/edge-assets';
const TOKEN = 'bench-submit-token';
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    { images: { type: 'string', default: '6' }, budgets: { type: 'string', default: '8x2' } },
    'usage: npm run bench:explain-inline [-- --images N --budgets STEPSxTOP,...]',
  );
  const images = intOption(o.images, 'images', 1, 100);
  const budgets = o.budgets!.split(',').map((b) => {
    const [steps, top] = b.split('x').map(Number);
    return { steps, top };
  });
  // Corrupted test digits from 5000 on: the first `images` of them, whatever classifier-clean reads.
  const set = loadDigits('test', 'corrupted');
  const digits = Array.from({ length: images }, (_, k) => {
    const i = 5000 + k;
    const pixels = Uint8Array.from(set.images.subarray(i * 1024, (i + 1) * 1024), (v) => Math.round(v * 255));
    return {
      index: i,
      label: set.labels[i],
      image: Buffer.from(encode({ width: 32, height: 32, channels: 1, depth: 8, data: pixels })).toString('base64'),
    };
  });
  const { mf, url } = await startLocalWorkerd(path.resolve(ASSETS), { SUBMIT_TOKEN: TOKEN, RUNNER_TOKEN: 'unused' });
  const timed = async (p: string, init?: RequestInit) => {
    const t0 = performance.now();
    const res = await fetch(new URL(p, url), init);
    const body = await res.text();
    const s = (performance.now() - t0) / 1000;
    if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${body.slice(0, 300)}`);
    return { s, body };
  };
  // Each traversal a new one (a repeat would be answered from the cache).
  let traversals = 0;
  const traversal = () => {
    const i = traversals++;
    return timed(`/v1/traversal?class=${i % 10}&dim=${(i * 37) % 500}&frames=17&range=4`);
  };
  try {
    // Warm-up: models built, wasm initialised (a traversal and one explanation of another budget).
    await traversal();
    await timed('/v1/explain', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: digits[0].image, label: digits[0].label, steps: 0, top: 1, seed: 99 }),
    });
    const rows = [];
    for (const b of budgets) {
      const explain: Array<{ index: number; seconds: number; path: string }> = [];
      const peer: number[] = [];
      for (const d of digits) {
        const r = await timed('/v1/explain', {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ image: d.image, label: d.label, steps: b.steps, top: b.top }),
        });
        const a = JSON.parse(r.body);
        if (!a.computed?.inline) throw new Error(`budget ${b.steps}x${b.top} was not computed inline`);
        explain.push({
          index: d.index,
          seconds: r2(r.s),
          path: a.explanation.counterfactual ? 'counterfactual' : 'boundary',
        });
        peer.push((await traversal()).s);
        process.stderr.write(
          `steps ${b.steps} top ${b.top}: #${d.index} ${explain.at(-1)!.path} ${r.s.toFixed(2)} s; ` +
            `traversal ${peer.at(-1)!.toFixed(2)} s; load ${os.loadavg()[0].toFixed(1)}\n`,
        );
      }
      const med = median(explain.map((e) => e.seconds));
      const medPeer = median(peer);
      rows.push({
        budget: b,
        medianSeconds: r2(med),
        traversal17MedianSeconds: r2(medPeer),
        ratioToTraversal: r2(med / medPeer),
        explanations: explain,
      });
    }
    const out = {
      bench: 'explain-inline',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map(r2) },
      images,
      rows,
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/explain-inline.json', `${JSON.stringify(out, null, 1)}\n`);
    for (const r of rows)
      process.stdout.write(
        `steps ${r.budget.steps} top ${r.budget.top}: median ${r.medianSeconds} s per inline explanation ` +
          `(17-frame traversal ${r.traversal17MedianSeconds} s; ratio ${r.ratioToTraversal}); load ${out.machine.loadAverage.join(' ')}\n`,
      );
  } finally {
    await mf.dispose();
  }
}

await main();
