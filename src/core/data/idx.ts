/** Parsing of the IDX files MNIST ships as (big-endian header, then unsigned bytes). */

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, 0 (background) to 255 (ink). */
  pixels: Uint8Array;
}

function header(bytes: Uint8Array, what: string, magic: number, dims: number): number[] {
  if (bytes.byteLength < 4 + 4 * dims) throw new Error(`${what}: file too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = view.getUint32(0);
  if (m !== magic)
    throw new Error(`${what}: not an IDX file (magic 0x${m.toString(16)}, expected 0x${magic.toString(16)})`);
  return Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
}

export function parseIdxImages(bytes: Uint8Array, what = 'images'): IdxImages {
  const [count, rows, cols] = header(bytes, what, 0x00000803, 3);
  const size = count * rows * cols;
  if (bytes.byteLength !== 16 + size) throw new Error(`${what}: expected ${16 + size} bytes, got ${bytes.byteLength}`);
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

export function parseIdxLabels(bytes: Uint8Array, what = 'labels'): Uint8Array {
  const [count] = header(bytes, what, 0x00000801, 1);
  if (bytes.byteLength !== 8 + count) throw new Error(`${what}: expected ${8 + count} bytes, got ${bytes.byteLength}`);
  return bytes.subarray(8);
}
