/** Image grids (grey or RGB) as PNG bytes (pure JS, so the same code serves the CLI and the worker). */
import { encode } from 'fast-png';
// Bytes as base64 and PNG data URLs need no encoder (the edge's light paths use them): data-url.ts.
import { pngDataUrl } from './data-url.js';
export { pngDataUrl } from './data-url.js';

export interface GridOptions {
  /** Side of each (square) tile in pixels. */
  size: number;
  /** Tiles per row. */
  columns: number;
  /** Integer upscaling of every pixel (nearest neighbour), for legibility. */
  scale?: number;
  /** Background pixels between tiles. */
  gap?: number;
  /** Channels of every tile (channels last): 1 = grey (default), 3 = RGB. */
  channels?: number;
}

/**
 * Lays out square tiles (values in [0, 1], clipped; grey or RGB) row by row and encodes a PNG of
 * the same channels.
 * @example
 * const png = gridPng([img0, img1], { size: 32, columns: 2, scale: 2 });
 */
export function gridPng(tiles: ReadonlyArray<ArrayLike<number>>, opts: GridOptions): Uint8Array {
  const scale = opts.scale ?? 1;
  const gap = opts.gap ?? 2;
  const cols = Math.max(1, Math.min(opts.columns, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const cell = opts.size * scale;
  const width = cols * cell + (cols - 1) * gap;
  const height = rows * cell + (rows - 1) * gap;
  const ch = opts.channels ?? 1;
  if (ch !== 1 && ch !== 3) throw new RangeError(`a grid's tiles are grey (1 channel) or RGB (3), got ${ch}`);
  const data = new Uint8Array(width * height * ch).fill(64);
  tiles.forEach((tile, t) => {
    if (tile.length !== opts.size * opts.size * ch)
      throw new Error(`tile ${t} has ${tile.length} values, expected ${opts.size ** 2 * ch} (${ch} channel(s))`);
    const x0 = (t % cols) * (cell + gap);
    const y0 = Math.floor(t / cols) * (cell + gap);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        const src = (Math.floor(y / scale) * opts.size + Math.floor(x / scale)) * ch;
        const dst = ((y0 + y) * width + x0 + x) * ch;
        for (let c = 0; c < ch; c++) data[dst + c] = Math.round(Math.min(1, Math.max(0, tile[src + c])) * 255);
      }
    }
  });
  return encode({ width, height, data, depth: 8, channels: ch });
}

/**
 * One image (square, channels last, values in [0, 1]) as a PNG data URL at scale 1 — how
 * report.json and the API carry images. Its channels follow from its length: size * size (grey) or
 * size * size * 3 (RGB).
 * @example
 * const url = imageDataUrl(frame, 32); // 'data:image/png;base64,...'
 */
export function imageDataUrl(img: ArrayLike<number>, size: number): string {
  const channels = img.length / (size * size);
  if (channels !== 1 && channels !== 3)
    throw new Error(`an image of side ${size} has ${size * size} or ${size * size * 3} values, got ${img.length}`);
  return pngDataUrl(gridPng([img], { size, columns: 1, scale: 1, gap: 0, channels }));
}
