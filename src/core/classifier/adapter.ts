/**
 * The input adapter: how the generator's images ([N, 32, 32, C] in [0, 1]; C = 3 in a colour domain) become a user model's
 * input, and how its output maps back to the generator's classes. Described by a small JSON file.
 *
 * @example
 * {
 *   "format": "faultlines-adapter/1",
 *   "input": { "height": 28, "width": 28, "channels": 1, "range": [0, 1], "mean": [0], "std": [1] },
 *   "output": { "kind": "probabilities" },
 *   "classes": { "names": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
 * "generatorToModel": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }
 * }
 */
import { z } from 'zod';

export const ADAPTER_FORMAT = 'faultlines-adapter/1';

export const AdapterSchema = z
  .object({
    format: z.literal(ADAPTER_FORMAT),
    input: z.object({
      /** The model's input size. 28x28 is a centre crop of the generator's 32x32 (exactly undoes MNIST's padding); other sizes are resized bilinearly. */
      height: z.number().int().min(8).max(512),
      width: z.number().int().min(8).max(512),
      /** 1 (grayscale) or 3 (RGB: a colour domain's image, or a grey one repeated). */
      channels: z.union([z.literal(1), z.literal(3)], {
        error: 'channels must be 1 (grayscale) or 3 (RGB, or the grey image repeated)',
      }),
      /** Pixel range the model expects: [0, 1] maps to [range[0], range[1]]. */
      range: z.tuple([z.number(), z.number()]).default([0, 1]),
      /** Per-channel normalisation after the range: (x - mean) / std. */
      mean: z.array(z.number()).default([0]),
      std: z.array(z.number().positive()).default([1]),
    }),
    output: z.object({
      /** Whether the model's output is logits or probabilities (log is taken to get logits). */
      kind: z.enum(['logits', 'probabilities']),
      /** Which output of a multi-output model (default the first). */
      index: z.number().int().nonnegative().default(0),
    }),
    classes: z.object({
      /** The model's class names, one per output unit. */
      names: z.array(z.string()).min(2),
      /** For each generator class 0..K-1, the model's output index. */
      generatorToModel: z.array(z.number().int().nonnegative()).min(2),
    }),
  })
  .superRefine((a, ctx) => {
    const c = a.input.channels;
    // One value applies to every channel; otherwise one per channel.
    const counts = c === 1 ? '1 value' : `1 value (for every channel) or ${c} (one per channel)`;
    for (const field of ['mean', 'std'] as const) {
      const n = a.input[field].length;
      if (n !== 1 && n !== c)
        ctx.addIssue({
          code: 'custom',
          path: ['input', field],
          message: `needs ${counts} for channels ${c}, got ${n}`,
        });
    }
    a.classes.generatorToModel.forEach((m, i) => {
      if (m >= a.classes.names.length)
        ctx.addIssue({
          code: 'custom',
          path: ['classes', 'generatorToModel', i],
          message: `output ${m} does not exist (${a.classes.names.length} class names)`,
        });
    });
  });

export type Adapter = z.infer<typeof AdapterSchema>;

/** Parses an adapter, with the offending field named in the error. */
export function parseAdapter(json: unknown, source = 'adapter'): Adapter {
  const r = AdapterSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${source}: invalid adapter at "${issue.path.join('.')}": ${issue.message}`);
  }
  return r.data;
}
