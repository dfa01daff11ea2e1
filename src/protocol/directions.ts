/**
 * The shape of a directions result (issue 14: what each top dim does to the image and which
 * classifier it breaks), as a runner uploads it, the edge stores and /v1/directions serves it, and
 * the <faultlines-directions> widget reads it. Computed by src/core/analysis/derived-results.ts
 * (`directionsResult`) from src/core/analysis/directions.ts; the edge's further checks (sizes
 * against the job, dims inside S) are in src/worker/jobs/payloads.ts. Runtime-free: zod only.
 */
import { z } from 'zod';
import { COLOUR_FACTORS, GRAY_FACTORS } from '../core/image/factors.js';
import { DIRECTIONS_RESULT_SCHEMA, DIRECTIONS_SCHEMA } from '../core/analysis/schema-versions.js';
import { EDITED_FAMILIES } from '../core/image/factor-edits.js';

const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);
const name = z.string().max(128);
const LIST_MAX = 4096;
/** A strip of up to 16 frames of 32x32 as a PNG data URL (about 6 KB; 64 KiB is far above any). */
const STRIP_URL = /^data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/;

const FactorNameSchema = z.enum([...GRAY_FACTORS, ...COLOUR_FACTORS]);

const FactorEffectSchema = z
  .object({
    factor: FactorNameSchema,
    effect: finite,
    ciLow: finite,
    ciHigh: finite,
    start: finite,
    end: finite,
    std: finite.nonnegative(),
    relative: z.boolean(),
  })
  .strict();

const DirectionLabelSchema = z
  .object({
    kind: z.enum(['dominant', 'entangled', 'unchanged']),
    text: z.string().max(200),
    factor: FactorNameSchema.nullable(),
    /** Infinity (no other family moves) is stored as null. */
    margin: finite.nonnegative().nullable(),
  })
  .strict();

const ClassifierAlongSchema = z
  .object({
    classifier: name,
    pTrue: z.array(unit).max(16),
    accuracy: z.array(unit).max(16),
    correctAtStart: count,
    flipped: count,
    drop: z.number().min(-1).max(1),
  })
  .strict();

const DirectionDescriptionSchema = z
  .object({
    id: z.string().max(200),
    classIndex: count.nullable(),
    dims: z.array(count).max(LIST_MAX),
    samples: count,
    effects: z.array(FactorEffectSchema).max(64),
    label: DirectionLabelSchema,
    classifiers: z.array(ClassifierAlongSchema).max(64),
    /** The analysed classifier's p_true drop minus the reference's: in [-2, 2]. */
    contrastive: z.number().min(-2).max(2).nullable(),
  })
  .strict();

const DescribedDirectionsSchema = z
  .object({
    schema: z.literal(DIRECTIONS_SCHEMA),
    shifts: z.array(finite.nonnegative()).min(2).max(16),
    samples: count,
    seed: count,
    bootstrap: count,
    minEffect: finite,
    dominance: finite,
    rule: z.string().max(2000),
    factors: z.array(FactorNameSchema).max(64),
    classifiers: z.array(name).max(64),
    reference: name.nullable(),
    directions: z.array(DirectionDescriptionSchema).max(LIST_MAX),
  })
  .strict();

const WhyItFailsSchema = z
  .object({
    classifier: name,
    counted: z.enum(['flips', 'flips-beyond-reference']),
    flips: count,
    factors: z
      .array(
        z
          .object({
            label: z.string().max(200),
            factor: FactorNameSchema.nullable(),
            share: unit,
            flips: count,
            directions: z.array(z.string().max(200)).max(LIST_MAX),
          })
          .strict(),
      )
      .max(LIST_MAX),
    sentence: z.string().max(2000),
  })
  .strict();

const EditFamilySchema = z.enum(EDITED_FAMILIES);
/** +1: the way that raises the family's factor (noisier, sharper, more ink, thicker, right, down, larger). */
const EditWaySchema = z.union([z.literal(1), z.literal(-1)]);
/** A ratio of breaking strengths: the reference's over the classifier's (0: the classifier does not break). */
const ratio = finite.nonnegative();

/** One counterfactual edit's mean margin-share drop at each strength, per reader (counterfactual-attribution.ts `EditCurve`). */
const EditCurveSchema = z
  .object({
    family: EditFamilySchema,
    way: EditWaySchema,
    label: z.string().max(200),
    strengths: z.array(finite.nonnegative()).max(32),
    classifier: z.array(finite).max(32),
    reference: z.array(finite).max(32),
  })
  .strict();

/** One edit scored: breaking strengths, their ratio and its bootstrap interval (`EditSensitivity`). */
const EditSensitivitySchema = z
  .object({
    family: EditFamilySchema,
    way: EditWaySchema,
    label: z.string().max(200),
    breaks: z.object({ classifier: finite.nullable(), reference: finite.nullable() }).strict(),
    referenceExtrapolated: z.boolean(),
    ratio,
    ciLow: ratio,
    ciHigh: ratio,
    firstShare: unit,
  })
  .strict();

/**
 * Which image change the classifier breaks under at a smaller strength than its reference reader,
 * each factor edited alone on the sweep's first frames (`CounterfactualAttribution`; docs/naming.md).
 */
const CounterfactualSchema = z
  .object({
    samples: count,
    threshold: finite.positive(),
    medianMargin: z.object({ classifier: finite.nonnegative(), reference: finite.nonnegative() }).strict(),
    curves: z.array(EditCurveSchema).max(64),
    /** By ratio, largest first. */
    edits: z.array(EditSensitivitySchema).max(64),
    /** The first edit when its interval lies above 1; else null. */
    named: z
      .object({
        family: EditFamilySchema,
        way: EditWaySchema,
        label: z.string().max(200),
        ratio,
        margin: finite,
        runnerUp: z.string().max(200),
        firstShare: unit,
      })
      .strict()
      .nullable(),
  })
  .strict();

/** Per described direction: the change it makes that the counterfactual edits show the classifier is specifically weak to. */
const DirectionWeaknessSchema = z
  .object({
    id: z.string().max(200),
    edit: z
      .object({
        family: EditFamilySchema,
        way: EditWaySchema,
        label: z.string().max(200),
        ratio,
        ciLow: ratio,
        ciHigh: ratio,
        factor: FactorNameSchema,
        effect: finite,
      })
      .strict()
      .nullable(),
  })
  .strict();

/** A ranked dim as the ranking gave it (its std is the step of one shift). */
export const DirectionDimSchema = z
  .object({
    index: count,
    rank: z.number().int().min(1),
    layer: z.string().max(64),
    channel: count,
    score: finite,
    direction: z.enum(['increase', 'decrease']),
    std: finite.positive(),
  })
  .strict();

/** The top dims of one ranking (global: classIndex null; or one class's), described. */
const DirectionsSetSchema = z
  .object({
    classIndex: count.nullable(),
    dims: z.array(DirectionDimSchema).max(LIST_MAX),
    /** null: the sweep has too few samples of the class to measure a spread. */
    result: DescribedDirectionsSchema.nullable(),
    /** Direction ids by contrastive score, largest first (null without a reference reader). */
    contrastiveOrder: z.array(z.string().max(200)).max(LIST_MAX).nullable(),
    why: z.array(WhyItFailsSchema).max(64),
    /**
     * Per direction (result's order): its change the classifier is specifically weak to; null without
     * `counterfactual`; absent in results computed before the counterfactual naming (reseed them).
     */
    weaknesses: z.array(DirectionWeaknessSchema).max(LIST_MAX).nullable().optional(),
    /** Per direction: its first sample at each shift, one PNG strip. */
    strips: z
      .array(
        z
          .string()
          .max(64 * 1024)
          .regex(STRIP_URL, 'must be a PNG data URL'),
      )
      .max(LIST_MAX),
  })
  .strict();

export const DirectionsPayloadSchema = z
  .object({
    schema: z.literal(DIRECTIONS_RESULT_SCHEMA),
    specHash: z.string().min(1),
    /** The classifier analysed first, then its reference readers. */
    classifiers: z.array(name).min(1).max(64),
    reference: name.nullable(),
    /**
     * Against the reference reader; null without one or with `counterfactualSamples` 0; absent in
     * results computed before the counterfactual naming (a runner's new result must carry it).
     */
    counterfactual: CounterfactualSchema.nullable().optional(),
    all: DirectionsSetSchema,
    classes: z.array(DirectionsSetSchema).max(1024),
  })
  .strict();

export type DirectionsPayload = z.infer<typeof DirectionsPayloadSchema>;
export type DirectionsSet = z.infer<typeof DirectionsSetSchema>;
export type DirectionDescriptionJson = z.infer<typeof DirectionDescriptionSchema>;
export type DirectionWeaknessJson = z.infer<typeof DirectionWeaknessSchema>;
