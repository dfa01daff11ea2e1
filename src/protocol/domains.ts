/**
 * What GET /v1/domains serves (issue 15): per domain its classes, image shape and the models the
 * edge holds for it, with the figures their manifests commit (classifier accuracies per test
 * variant, the generator's quality). The dashboard's domain picker and the widgets read it.
 * Runtime-free: zod only; the route adds the OpenAPI names.
 */
import { z } from 'zod';

const unit = z.number().min(0).max(1);

/** The generator quality figures of `npm run eval:generator` (manifest `metrics.quality`). */
export const GeneratorQualitySchema = z.object({
  classConsistency: unit,
  classifierRealAccuracy: unit,
  frechet: z.number().nonnegative(),
  frechetFloor: z.number().nonnegative(),
  frechetRatio: z.number().nonnegative(),
  samples: z.number().int().positive(),
  command: z.string().optional(),
});

const DomainGeneratorSchema = z.object({
  name: z.string(),
  id: z.string(),
  source: z.enum(['weights', 'checkpoint']),
  label: z.string(),
  /** null: not measured yet (no `metrics.quality` in its manifest). */
  quality: GeneratorQualitySchema.nullable(),
});

const DomainClassifierSchema = z.object({
  name: z.string(),
  id: z.string(),
  /** Test accuracy per data variant (`accuracy_test_<variant>` of its manifest), e.g. clean, corrupted. */
  accuracy: z.record(z.string(), unit),
});

export const DomainSchema = z.object({
  name: z.string(),
  title: z.string(),
  /** Class names in label order: `class` parameters index this list. */
  classes: z.array(z.string()),
  image: z.object({ size: z.number().int().positive(), channels: z.union([z.literal(1), z.literal(3)]) }),
  /** Whether requests without `?domain=` use this domain. */
  default: z.boolean(),
  /** Where the data come from and how they are split. */
  source: z.string(),
  /**
   * null: no generator for this domain yet; its listing and its classifiers' metadata are served,
   * its generator endpoints answer 409 generator-missing.
   */
  generator: DomainGeneratorSchema.nullable(),
  classifiers: z.array(DomainClassifierSchema),
  defaultClassifier: z.string().nullable(),
});
export type DomainInfo = z.infer<typeof DomainSchema>;

export const DomainsResponseSchema = z.object({
  defaultDomain: z.string(),
  domains: z.array(DomainSchema),
});
export type DomainsResponse = z.infer<typeof DomainsResponseSchema>;
