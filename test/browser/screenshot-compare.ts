/**
 * Screenshots compared against committed references (test/browser/screenshots/reference/) with a
 * tolerance: a test fails when more than `tolerance` of the pixels differ by more than `threshold`
 * in some channel, or when the sizes differ. Anti-aliasing and font hinting move a few pixels from
 * run to run; a moved section, a missing panel or a different layout moves thousands. Each run also
 * writes the screenshot and a diff image (differing pixels in red) to screenshots/latest/.
 * FAULTLINES_UPDATE_REFERENCES=1 writes the references instead (after a deliberate change).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decode, encode } from 'fast-png';
import { SCREENSHOTS } from './browser.js';

const REFERENCES = 'test/browser/screenshots/reference';

export interface Comparison {
  width: number;
  height: number;
  /** Share of the pixels that differ by more than the threshold. */
  differing: number;
}

/** RGBA pixels of a PNG (8-bit RGB or RGBA, as chromium writes them). */
function rgba(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const img = decode(png);
  if (img.depth !== 8 || (img.channels !== 3 && img.channels !== 4))
    throw new Error(`unexpected PNG: depth ${img.depth}, ${img.channels} channels`);
  const n = img.width * img.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = img.data[i * img.channels + c];
    data[i * 4 + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

function diffPngs(actual: Uint8Array, reference: Uint8Array, threshold = 48): Comparison & { diff: Uint8Array } {
  const a = rgba(actual);
  const r = rgba(reference);
  if (a.width !== r.width || a.height !== r.height)
    throw new Error(`screenshot is ${a.width}x${a.height}, the reference ${r.width}x${r.height}`);
  const out = new Uint8Array(a.data.length);
  let n = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    const o = i * 4;
    const d = Math.max(
      Math.abs(a.data[o] - r.data[o]),
      Math.abs(a.data[o + 1] - r.data[o + 1]),
      Math.abs(a.data[o + 2] - r.data[o + 2]),
    );
    const grey = (a.data[o] + a.data[o + 1] + a.data[o + 2]) / 3;
    if (d > threshold) {
      n++;
      out.set([255, 0, 0, 255], o);
    } else out.set([grey, grey, grey, 80], o);
  }
  return {
    width: a.width,
    height: a.height,
    differing: n / (a.width * a.height),
    diff: encode({ width: a.width, height: a.height, data: out, channels: 4, depth: 8 }),
  };
}

/** Compares `png` with the reference `name`.png; writes it (and the diff) to the latest folder. */
export function compareWithReference(name: string, png: Uint8Array): Comparison {
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(path.join(SCREENSHOTS, `${name}.png`), png);
  const ref = path.join(REFERENCES, `${name}.png`);
  if (process.env.FAULTLINES_UPDATE_REFERENCES === '1') {
    mkdirSync(REFERENCES, { recursive: true });
    writeFileSync(ref, png);
  }
  if (!existsSync(ref))
    throw new Error(`no reference screenshot ${ref}: run with FAULTLINES_UPDATE_REFERENCES=1 once and commit it`);
  const { diff, ...c } = diffPngs(png, readFileSync(ref));
  writeFileSync(path.join(SCREENSHOTS, `${name}.diff.png`), diff);
  return c;
}
