/**
 * Writes data/sanity/sample.{json,bin}: the edge's sample of real test images for the adapter
 * sanity check at registration (src/worker/sanity.ts; copied into the assets by the edge build).
 * The first SANITY_SAMPLE_PER_SPLIT of the CLI's clean and corrupted MNIST test images
 * (src/node/domain-data.ts `sanityCheckImages`), as bytes: pixel values rounded to 1/255 (the
 * corrupted images move by at most 1/510). Fewer than the CLI's 2,000 per split: a registration
 * request runs them on the isolate's wasm backend beside the upload's own checks (measured in
 * docs/bring-your-own-model.md). Deterministic: the same bytes on every run.
 * Run: `npx tsx scripts/edge/write-sanity-sample.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MNIST } from '../../src/core/data/domain.js';
import { sanityCheckImages } from '../../src/node/domain-data.js';
import { SANITY_SAMPLE_PATH, type SanitySampleHeader } from '../../src/protocol/sanity-sample.js';
import { SANITY_SAMPLE_DIR } from './assets.js';

export const SANITY_SAMPLE_PER_SPLIT = 500;

const { sets, data } = sanityCheckImages(MNIST, SANITY_SAMPLE_PER_SPLIT);
const px = MNIST.image.size * MNIST.image.size * MNIST.image.channels;
const count = sets[0].labels.length;
const bytes = new Uint8Array(sets.length * count * (px + 1));
let at = 0;
for (const s of sets) {
  for (let i = 0; i < count; i++) bytes[at++] = s.labels[i];
  for (let i = 0; i < count * px; i++) bytes[at++] = Math.round(255 * s.images[i]);
}
const header: SanitySampleHeader = {
  domain: MNIST.name,
  classNames: [...MNIST.classNames],
  size: MNIST.image.size,
  splits: sets.map((s) => s.split),
  perSplit: count,
  data: `${data} (the edge's sample, as bytes; the CLI uses 2,000 of each)`,
};
mkdirSync(SANITY_SAMPLE_DIR, { recursive: true });
writeFileSync(
  path.join(SANITY_SAMPLE_DIR, path.basename(SANITY_SAMPLE_PATH.header)),
  JSON.stringify(header, null, 1) + '\n',
);
writeFileSync(path.join(SANITY_SAMPLE_DIR, path.basename(SANITY_SAMPLE_PATH.images)), bytes);
process.stderr.write(
  `wrote ${SANITY_SAMPLE_DIR}/: ${count} clean and ${count} corrupted images (${bytes.byteLength} bytes)\n`,
);
