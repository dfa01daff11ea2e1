/**
 * Hyper-parameters of the conditional StyleGAN2 generator and its discriminator (32x32, one
 * channel). They are written into the `architecture` field of the weights manifest and are enough
 * to rebuild the networks.
 */
import { z } from 'zod';
import { PAINT_STYLE_DIMS, PAINT_Z_DIMS } from './paint-dims.js';

export const GeneratorArchitectureSchema = z.object({
  /** Latent z: standard normal of this size (with `paint`, its last entry draws the colour pair). */
  zDim: z.number().int().positive(),
  /** Intermediate latent w (with `paint`, its last 6 entries are the colour pair). */
  wDim: z.number().int().positive(),
  /** Number of classes of the conditioning label. */
  numClasses: z.number().int().positive(),
  /** Fully connected layers of the mapping network. */
  mappingLayers: z.number().int().positive(),
  /** Learning-rate multiplier of the mapping network's FC layers (equalized learning rate). */
  mappingLrMul: z.number().positive(),
  /** Resolutions of the synthesis blocks, each twice the previous, starting at 4. */
  resolutions: z.array(z.number().int().positive()).min(1),
  /** Feature channels of each synthesis block (same length as resolutions). */
  channels: z.array(z.number().int().positive()).min(1),
  /** Channels of the generated image. */
  imageChannels: z.number().int().positive(),
  /** Seed of the stored constant noise buffers. */
  constNoiseSeed: z.number().int().nonnegative(),
  /**
   * A paint layer (paint.ts): the synthesis network draws one ink channel, painted with a colour
   * pair drawn from `components` pairs; the image then has 3 channels. Absent: toRGB draws the image.
   */
  paint: z.object({ components: z.number().int().min(2) }).optional(),
});
export type GeneratorArchitecture = z.infer<typeof GeneratorArchitectureSchema>;

const DiscriminatorArchitectureSchema = z.object({
  numClasses: z.number().int().positive(),
  imageChannels: z.number().int().positive(),
  /** Input resolution; every block halves it down to 4. */
  resolution: z.number().int().positive(),
  /** Channels of the blocks at resolution, resolution/2, ..., 8 and of the 4x4 epilogue. */
  channels: z.array(z.number().int().positive()).min(2),
  /** Minibatch standard deviation group size (0 = off). */
  mbstdGroup: z.number().int().nonnegative(),
  /** Dimension of the projection (class embedding) space. */
  cmapDim: z.number().int().positive(),
});
export type DiscriminatorArchitecture = z.infer<typeof DiscriminatorArchitectureSchema>;

/**
 * The project's generator: half the width first tried (128/128/64/32), which trained at 2.5-3.3 s per
 * batch-32 iteration on 2 CPU cores (wasm); this one runs about three times faster.
 */
export const DEFAULT_GENERATOR: GeneratorArchitecture = {
  zDim: 64,
  wDim: 128,
  numClasses: 10,
  mappingLayers: 4,
  mappingLrMul: 0.01,
  resolutions: [4, 8, 16, 32],
  channels: [64, 64, 32, 16],
  imageChannels: 1,
  constNoiseSeed: 20240301,
};

export const DEFAULT_DISCRIMINATOR: DiscriminatorArchitecture = {
  numClasses: 10,
  imageChannels: 1,
  resolution: 32,
  channels: [16, 32, 64, 64],
  mbstdGroup: 4,
  cmapDim: 64,
};

/** Size of the z the mapping MLP reads (z without the paint entry). */
export function mappingZDim(a: GeneratorArchitecture): number {
  return a.zDim - (a.paint ? PAINT_Z_DIMS : 0);
}

/** Width of the mapping MLP, i.e. of the w the affines read (w without the colour pair). */
export function mappingWDim(a: GeneratorArchitecture): number {
  return a.wDim - (a.paint ? PAINT_STYLE_DIMS : 0);
}

/** Channels the synthesis blocks' toRGB layers draw: the ink when painted, else the image. */
export function synthesisChannels(a: GeneratorArchitecture): number {
  return a.paint ? 1 : a.imageChannels;
}

export function checkGeneratorArchitecture(arch: GeneratorArchitecture): GeneratorArchitecture {
  const a = GeneratorArchitectureSchema.parse(arch);
  if (a.paint) {
    if (a.imageChannels !== 3) throw new Error('generator: a paint layer makes 3-channel images');
    if (a.zDim <= PAINT_Z_DIMS || a.wDim <= PAINT_STYLE_DIMS)
      throw new Error(`generator: with paint, zDim > ${PAINT_Z_DIMS} and wDim > ${PAINT_STYLE_DIMS}`);
  }
  if (a.channels.length !== a.resolutions.length)
    throw new Error('generator: channels and resolutions differ in length');
  a.resolutions.forEach((r, i) => {
    if (r !== 4 * 2 ** i) throw new Error(`generator: block ${i} has resolution ${r}, expected ${4 * 2 ** i}`);
  });
  return a;
}

export function checkDiscriminatorArchitecture(arch: DiscriminatorArchitecture): DiscriminatorArchitecture {
  const a = DiscriminatorArchitectureSchema.parse(arch);
  if (4 * 2 ** (a.channels.length - 1) !== a.resolution) {
    throw new Error(`discriminator: ${a.channels.length} channel entries do not reduce ${a.resolution} to 4`);
  }
  return a;
}
