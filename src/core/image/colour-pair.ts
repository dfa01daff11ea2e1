/**
 * An RGB image as a shape painted in two colours, pixel = background + (foreground - background) *
 * ink, the way the coloured-MNIST domain is made (data/colour.ts) and a painted generator draws it
 * (generator/paint.ts): the colour pair read off the pixels, and the image taken apart into its ink
 * and put back together, so an edit of the shape (factor-edits.ts) works on the ink whatever the
 * colours. Images are [size, size, 3] channels last, values in [0, 1]. Pure TypeScript.
 */

/** Foreground rgb then background rgb. */
export type ColourPair = [number, number, number, number, number, number];

/** Per-channel median of the outermost ring of pixels: the background of a padded, centred shape. */
export function borderColour(img: Float32Array, size: number): [number, number, number] {
  const ring: number[][] = [[], [], []];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (y !== 0 && y !== size - 1 && x !== 0 && x !== size - 1) continue;
      for (let c = 0; c < 3; c++) ring[c].push(img[(y * size + x) * 3 + c]);
    }
  }
  const median = (v: number[]) => {
    const s = v.sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  return [median(ring[0]), median(ring[1]), median(ring[2])];
}

/**
 * The colour pair of one image: the background is `borderColour`; the foreground is the pixel
 * furthest from it (where the ink is fullest).
 */
export function estimateColourPair(img: Float32Array, size: number): ColourPair {
  if (img.length !== size * size * 3) throw new RangeError(`image has ${img.length} values, not ${size}x${size}x3`);
  const bg = borderColour(img, size);
  let best = 0;
  let bestD = -1;
  for (let p = 0; p < size * size; p++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d += (img[p * 3 + c] - bg[c]) ** 2;
    if (d > bestD) {
      bestD = d;
      best = p;
    }
  }
  return [img[best * 3], img[best * 3 + 1], img[best * 3 + 2], bg[0], bg[1], bg[2]];
}

export interface Unpainted {
  pair: ColourPair;
  /** [size * size]: each pixel's position between background (0) and foreground (1), clipped. */
  ink: Float32Array;
  /** [size * size * 3]: what the painting does not explain (e.g. colour noise), added back by `repaint`. */
  residual: Float32Array;
}

/**
 * Takes an image apart: ink = the projection of (pixel - background) onto (foreground - background),
 * clipped to [0, 1]; the residual is the rest. `repaint(unpaint(x))` is x (to float rounding).
 */
export function unpaint(img: Float32Array, size: number): Unpainted {
  const pair = estimateColourPair(img, size);
  const d = [pair[0] - pair[3], pair[1] - pair[4], pair[2] - pair[5]];
  const norm2 = d[0] ** 2 + d[1] ** 2 + d[2] ** 2;
  const n = size * size;
  const ink = new Float32Array(n);
  const residual = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let c = 0; c < 3; c++) dot += (img[i * 3 + c] - pair[3 + c]) * d[c];
    const v = norm2 > 1e-12 ? Math.min(1, Math.max(0, dot / norm2)) : 0;
    ink[i] = v;
    for (let c = 0; c < 3; c++) residual[i * 3 + c] = img[i * 3 + c] - (pair[3 + c] + d[c] * v);
  }
  return { pair, ink, residual };
}

/** Paints `ink` with `pair` and adds `residual`, clipped to [0, 1]. */
export function repaint(ink: Float32Array, pair: ColourPair, residual: Float32Array): Float32Array {
  const out = new Float32Array(ink.length * 3);
  for (let i = 0; i < ink.length; i++)
    for (let c = 0; c < 3; c++) {
      const v = pair[3 + c] + (pair[c] - pair[3 + c]) * ink[i] + residual[i * 3 + c];
      out[i * 3 + c] = Math.min(1, Math.max(0, v));
    }
  return out;
}
