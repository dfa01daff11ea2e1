import { z } from 'zod';
import { GeneratorClassesSchema } from '../generator/classes.js';

/** Version tag written into every manifest; bump it when the layout changes. */
export const WEIGHTS_FORMAT = 'faultlines-weights/1';

const TensorEntrySchema = z.object({
  /** Tensor name, `/`-separated path of the parameter inside its model. */
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.literal('float32'),
  /** Byte offset of the tensor inside the binary file (little-endian float32). */
  offset: z.number().int().nonnegative(),
  byteLength: z.number().int().nonnegative(),
});
export type TensorEntry = z.infer<typeof TensorEntrySchema>;

export const WeightsManifestSchema = z.object({
  format: z.literal(WEIGHTS_FORMAT),
  /** Model name, also its folder under `weights/`. */
  name: z.string().min(1),
  kind: z.enum(['classifier', 'generator', 'feature-extractor']),
  /** Hyper-parameters that rebuild the architecture (model-specific, validated by the model). */
  architecture: z.record(z.string(), z.unknown()),
  /** File name of the binary, relative to the manifest. */
  weightsFile: z.string().min(1),
  byteLength: z.number().int().nonnegative(),
  /** Hex sha256 of the whole binary file. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  tensors: z.array(TensorEntrySchema).min(1),
  /** Where the weights came from: data, seed, steps, wall time, command. */
  provenance: z.record(z.string(), z.unknown()),
  /** Measured figures (accuracies, quality) with the command that reproduces them. */
  metrics: z.record(z.string(), z.unknown()),
  /**
   * Generators only, optional: class names and the default traversal class (src/core/generator/classes.ts;
   * without it: names "0".."K-1", traversal class min(3, K-1)).
   */
  classes: GeneratorClassesSchema.optional(),
  /**
   * The domain the model is for (src/core/data/domain.ts): name, class names, image shape. Optional:
   * manifests written before domains existed are MNIST's. Loaders refuse a classifier/generator pair
   * whose domains disagree.
   */
  domain: z
    .object({
      name: z.string().min(1),
      classNames: z.array(z.string().min(1)).min(1),
      image: z.object({ size: z.number().int().positive(), channels: z.number().int().positive() }),
    })
    .optional(),
});
export type WeightsManifest = z.infer<typeof WeightsManifestSchema>;
