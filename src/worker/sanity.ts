/**
 * The adapter sanity check at registration (the core's src/core/classifier/sanity-check.ts) on the
 * edge's sample of real test images (static assets, written by the edge build).
 */
import type { Classifier } from '../core/classifier/classifier.js';
import {
  adapterSanityCheck,
  type AdapterSanityCheck,
  type SanityCheckImages,
} from '../core/classifier/sanity-check.js';
import { SANITY_SAMPLE_PATH, type SanitySampleHeader } from '../protocol/sanity-sample.js';
import type { Env } from './env.js';
import { fetchAsset } from './static-assets.js';

interface Sample {
  header: SanitySampleHeader;
  sets: SanityCheckImages[];
}

let sample: Promise<Sample | null> | null = null;

async function readSample(env: Env): Promise<Sample | null> {
  const [h, b] = await Promise.all([
    fetchAsset(env, SANITY_SAMPLE_PATH.header),
    fetchAsset(env, SANITY_SAMPLE_PATH.images),
  ]);
  if (!h.ok || !b.ok) {
    await Promise.all([h.body?.cancel(), b.body?.cancel()]);
    return null;
  }
  const header = (await h.json()) as SanitySampleHeader;
  const bytes = new Uint8Array(await b.arrayBuffer());
  const px = header.size * header.size;
  const n = header.perSplit;
  const sets = header.splits.map((split, k) => {
    const at = k * n * (px + 1);
    const labels = bytes.slice(at, at + n);
    const images = new Float32Array(n * px);
    for (let i = 0; i < n * px; i++) images[i] = bytes[at + n + i] / 255;
    return { split, images, labels };
  });
  return { header, sets };
}

/**
 * The check of `classifier` (in its domain's classes), or why it was skipped: no sample in the
 * assets, or a classifier of another domain than the sample's (the sample is of one domain's real
 * test images).
 */
export async function edgeSanityCheck(
  env: Env,
  classifier: Classifier,
  domain: string,
): Promise<{ check: AdapterSanityCheck | null; skipped?: string }> {
  sample ??= readSample(env).catch(() => null);
  const s = await sample;
  if (s === null) {
    sample = null;
    return {
      check: null,
      skipped: 'the worker has no sample of real test images (build the edge: npm run build:edge)',
    };
  }
  if (s.header.domain !== domain)
    return {
      check: null,
      skipped: `the worker's sample of real test images is of domain ${s.header.domain}, not ${domain}`,
    };
  return { check: await adapterSanityCheck(classifier, s.sets, s.header.data) };
}
