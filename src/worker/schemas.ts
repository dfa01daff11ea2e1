/** Input schemas shared by the route groups (every bound here is documented in the OpenAPI). */
import { z } from '@hono/zod-openapi';
import { DEFAULT_SWEEP } from '../protocol/result-keys.js';
import { DEFAULT_DOMAIN, domainNames } from '../core/data/domain.js';
import { LIMITS } from './limits.js';

/** An integer query parameter (empty values were dropped by the app's middleware: absent, not 0). */
const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: (iss) => (iss.code === 'invalid_type' ? `${name} must be a number` : undefined) })
    .int(`${name} must be an integer`)
    .min(min)
    .max(max);

export const SeedParam = int('seed', 0, LIMITS.seed - 1).openapi({ description: 'Latent seed (32-bit)', example: 7 });
export const ClassParam = int('class', 0, 9).openapi({ description: 'Digit class 0-9', example: 3 });
export const DimParam = int('dim', 0, 65535).openapi({
  description: 'Flat StyleSpace index (must be < S; see /v1/models)',
  example: 17,
});
export const ClassifierParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'classifier must be a model name like "classifier-clean"')
  .optional()
  .openapi({ description: 'Classifier name (default: the catalog default)', example: 'classifier-clean' });
const [firstDomain, ...otherDomains] = domainNames();
/** A domain's name (GET /v1/domains); a 400 naming `domain` and listing them otherwise. */
export const DomainName = z.enum([firstDomain, ...otherDomains], {
  error: () => `domain must be one of ${domainNames().join(', ')} (GET /v1/domains)`,
});
export const DomainParam = DomainName.default(DEFAULT_DOMAIN).openapi({
  description: `The images the models are of (GET /v1/domains); default ${DEFAULT_DOMAIN}`,
  example: DEFAULT_DOMAIN,
});

export const FormatParam = z
  .enum(['json', 'png'])
  .default('json')
  .openapi({ description: 'json (with a PNG data URL) or png' });
export const ScaleParam = int('scale', 1, LIMITS.scale).default(4).openapi({ description: 'PNG upscaling factor' });

/** How many dims of a ranking a view returns, most influential first (default 20). */
export const topParam = (description: string) =>
  z.coerce.number().int().min(1).max(LIMITS.top).default(20).openapi({ description });

/** A 200 that is JSON (`schema`, images as PNG data URLs) or, with ?format=png, the PNG itself. */
export function jsonOrPng<T extends z.ZodType>(description: string, schema: T) {
  return {
    description,
    content: {
      'application/json': { schema },
      'image/png': { schema: z.string().openapi({ format: 'binary' }) },
    },
  };
}

/** Which sweep a cached result comes from (default: the built-in one). */
export const SweepQuery = {
  seed: int('seed', 0, LIMITS.seed - 1)
    .default(DEFAULT_SWEEP.seed)
    .openapi({ description: 'Population seed of the sweep' }),
  count: int('count', 1, LIMITS.jobSamples)
    .default(DEFAULT_SWEEP.count)
    .openapi({ description: 'Population size of the sweep' }),
};

export const EditSchema = z
  .object({
    dim: z.number().int().min(0).max(65535),
    shift: z.number().min(-100).max(100).optional().openapi({ description: 'Shift in std units of the dim' }),
    value: z.number().min(-1e4).max(1e4).optional().openapi({ description: 'Absolute value to set' }),
  })
  .refine((e) => (e.shift === undefined) !== (e.value === undefined), {
    message: 'an edit needs exactly one of shift or value',
  })
  .openapi('StyleEdit');
