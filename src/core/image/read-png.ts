/**
 * A user's image as the models take it: PNG bytes -> [size*size*channels] floats in [0, 1]. Pure JS
 * (fast-png), so the CLI and the edge refuse the same inputs with the same words. An image of the
 * domain's padded size is taken as is; one 4 px smaller (MNIST's 28x28 for 32x32 models) is padded
 * by 2 px of background, as the built-in data is. Nothing is resized or converted between grey and
 * colour: a wrong size or channel count is refused, not guessed at.
 */
import { decode } from 'fast-png';

/** A refused image or label; `field` names the input at fault (the API's problem+json names it too). */
export class ImageInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CHANNEL_NAMES: Record<number, string> = { 1: 'grey', 2: 'grey + alpha', 3: 'RGB', 4: 'RGBA' };

/**
 * Decodes a PNG of a domain with images `size` x `size` x `channels` (1: grey, 3: RGB).
 * @param field the input's name in errors (e.g. "image")
 * @example
 * const pixels = readDomainPng(bytes, { size: 32, channels: 1 });
 */
export function readDomainPng(
  bytes: Uint8Array,
  domain: { size: number; channels: number },
  field = 'image',
): Float32Array {
  if (bytes.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new ImageInputError(field, `${field} is not a PNG (the file does not start with the PNG signature)`);
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new ImageInputError(field, `${field} is not a readable PNG: ${(err as Error).message}`);
  }
  const { width, height, depth } = png;
  const channels = png.palette ? 'palette' : png.channels;
  if (channels !== domain.channels) {
    const have =
      channels === 'palette'
        ? 'a palette (indexed colour)'
        : `${channels} channel(s) (${CHANNEL_NAMES[channels] ?? '?'})`;
    throw new ImageInputError(
      field,
      `${field} has ${have}; this domain's images have ${domain.channels} channel(s) (${CHANNEL_NAMES[domain.channels] ?? '?'}), without alpha`,
    );
  }
  const inner = domain.size - 4;
  const pad = width === domain.size && height === domain.size ? 0 : width === inner && height === inner ? 2 : -1;
  if (pad < 0)
    throw new ImageInputError(
      field,
      `${field} is ${width}x${height}; this domain's images are ${domain.size}x${domain.size} (or ${inner}x${inner}, padded by 2 px)`,
    );
  const max = 2 ** depth - 1;
  const data = png.data as ArrayLike<number>;
  const C = domain.channels;
  const out = new Float32Array(domain.size * domain.size * C);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < C; c++)
        out[((y + pad) * domain.size + x + pad) * C + c] = data[(y * width + x) * C + c] / max;
  return out;
}

/** Checks a class label against the number of classes; returns it. */
export function checkLabel(label: unknown, numClasses: number, field = 'label'): number {
  const n = typeof label === 'string' && /^\s*-?\d+\s*$/.test(label) ? Number(label) : label;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= numClasses)
    throw new ImageInputError(
      field,
      `${field} must be an integer in [0, ${numClasses - 1}], got ${JSON.stringify(label)}`,
    );
  return n;
}
