/**
 * The edge's sample of real test images for the adapter sanity check: written into the static
 * assets by the edge build (scripts/edge/assets.ts), read by registration (src/worker/sanity.ts).
 * The images file holds, per split in `splits` order, `perSplit` label bytes and then `perSplit`
 * images of size x size bytes (pixel value x 255).
 */
import type { DataVariant } from '../core/data/domain.js';

export const SANITY_SAMPLE_PATH = { header: '/sanity/sample.json', images: '/sanity/sample.bin' } as const;

export interface SanitySampleHeader {
  domain: string;
  classNames: string[];
  size: number;
  /** The domain's data variants the images come from (clean and corrupted for the grey domains). */
  splits: DataVariant[];
  perSplit: number;
  /** Where the images come from, in words. */
  data: string;
}
