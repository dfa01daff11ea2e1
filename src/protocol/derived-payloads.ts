/**
 * The shape of each derived kind's result (histograms, accuracy curves, corner cases, directions)
 * as a runner uploads it, the edge stores and serves it (/v1/results and the analysis routes) and
 * the widgets read it. Computed by src/core/analysis/derived-results.ts; the edge's further checks
 * (sizes against the generator and the job's options, counts that add up, the spec hash) are in
 * src/worker/jobs/payloads.ts. Runtime-free: zod only.
 */
import { z } from 'zod';
import {
  ACCURACY_CURVE_SCHEMA,
  CORNER_CASES_SCHEMA,
  FLIP_SUFFICIENCY_SCHEMA,
  FRONTIER_SCHEMA,
  HISTOGRAMS_SCHEMA,
} from '../core/analysis/schema-versions.js';
import type { DerivedKind } from '../core/analysis/derived-options.js';
import { DirectionDimSchema, DirectionsPayloadSchema } from './directions.js';

/** A finite number (NaN and infinities are refused with a plain message). */
export const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();
const unit = z.number().min(0).max(1);
/** NaN (an empty group or bin) is stored as null. */
const unitOrNull = unit.nullable();
/** One 32x32 gray PNG as a data URL (about 1.4 KB; 16 KiB is far above any). */
const PNG_URL = /^data:image\/png;base64,iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/;
const pngUrl = z
  .string()
  .max(16 * 1024)
  .regex(PNG_URL, 'must be a PNG data URL');
const LIST_MAX = 4096;

export const HistogramsPayloadSchema = z
  .object({
    schema: z.literal(HISTOGRAMS_SCHEMA),
    specHash: z.string().min(1),
    wellCount: count,
    misCount: count,
    dims: z
      .array(
        z
          .object({
            dim: count,
            group: z.enum(['top', 'random']),
            rank: z.number().int().min(1).nullable(),
            edges: z.array(finite).max(LIST_MAX),
            well: z.array(count).max(LIST_MAX),
            mis: z.array(count).max(LIST_MAX),
            ks: unitOrNull,
            auroc: unitOrNull,
          })
          .strict(),
      )
      .max(LIST_MAX),
    meanKsTop: unitOrNull,
    meanKsRandom: unitOrNull,
  })
  .strict();

const Group = {
  count,
  correct: count,
  accuracy: unitOrNull,
  ciLow: unitOrNull,
  ciHigh: unitOrNull,
  sparse: z.boolean(),
};
const Bin = z.object({ lo: unit, hi: unit, ...Group }).strict();
/** NaN (no group of minCount samples) is stored as null. */
const Robustness = z.object({ score: unitOrNull, ciLow: unitOrNull, ciHigh: unitOrNull, samples: count }).strict();
export const AccuracyCurvesPayloadSchema = z
  .object({
    schema: z.literal(ACCURACY_CURVE_SCHEMA),
    specHash: z.string().min(1),
    classIndex: z.null(),
    dims: z.array(count).max(LIST_MAX),
    centredOn: z.enum(['well-classified', 'all']),
    centres: z.enum(['pooled', 'per-class']),
    normalisation: z
      .object({
        scale: finite.positive(),
        percentile: z.number().gt(0).max(100),
        minDistance: finite.min(0),
        maxDistance: finite.min(0),
      })
      .strict(),
    minCount: count,
    bootstrap: z.object({ resamples: count.max(100_000), seed: count }).strict(),
    count,
    curves: z
      .array(
        z
          .object({
            classifier: z.string().max(128),
            bins: z.array(Bin).max(LIST_MAX),
            beyond: z.object(Group).strict(),
            robustness: Robustness,
            accuracy: unit,
          })
          .strict(),
      )
      .max(64),
  })
  .strict();

const Shown = { pTrue: unit, predicted: count, image: pngUrl };
const Point = z
  .object({ shift: finite.min(0), pTrue: unit, predicted: count, runnerUp: count, pRunnerUp: unit, image: pngUrl })
  .strict();
const Share = z
  .object({ samples: count, flipped: count, share: unitOrNull, ciLow: unitOrNull, ciHigh: unitOrNull })
  .strict();
const FlipSufficiency = z
  .object({
    schema: z.literal(FLIP_SUFFICIENCY_SCHEMA),
    ks: z.array(z.number().int().min(1)).max(16),
    ts: z.array(finite.positive()).max(16),
    seed: count,
    samples: count,
    randomDims: z.array(z.array(count).max(LIST_MAX)).max(1024),
    classifiers: z
      .array(
        z
          .object({
            classifier: z.string().max(128),
            cells: z.array(z.object({ k: count, t: finite, top: Share, random: Share }).strict()).max(256),
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
const shiftOrNull = finite.min(0).nullable();
const Frontier = z
  .object({
    schema: z.literal(FRONTIER_SCHEMA),
    topDims: count,
    maxSteps: finite,
    dims: z.array(z.array(count).max(LIST_MAX)).max(1024),
    classifiers: z
      .array(
        z
          .object({
            classifier: z.string().max(128),
            median: shiftOrNull,
            classes: z
              .array(
                z
                  .object({
                    classIndex: count,
                    samples: count,
                    median: shiftOrNull,
                    q1: shiftOrNull,
                    q3: shiftOrNull,
                    censored: unitOrNull,
                  })
                  .strict(),
              )
              .max(1024),
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
export const CornerCasesPayloadSchema = z
  .object({
    schema: z.literal(CORNER_CASES_SCHEMA),
    specHash: z.string().min(1),
    maxSteps: finite,
    tolerance: finite,
    classes: z
      .array(
        z
          .object({
            classIndex: count,
            start: z.object(Shown).strict(),
            cases: z
              .array(
                z
                  .object({
                    dim: DirectionDimSchema,
                    decision: Point,
                    pTrueHalf: Point.nullable(),
                  })
                  .strict(),
              )
              .max(LIST_MAX),
            skipped: z
              .array(
                z
                  .object({
                    dim: count,
                    outcome: z.enum(['already-misclassified', 'no-flip', 'zero-variance']),
                    reason: z.string().max(400),
                    pTrueHalfShift: shiftOrNull,
                  })
                  .strict(),
              )
              .max(LIST_MAX),
            counts: z.object({ tried: count, pTrueHalf: count, decision: count }).strict(),
          })
          .strict(),
      )
      .max(1024),
    flipSufficiency: FlipSufficiency,
    frontier: Frontier,
  })
  .strict();

/** The shape of each derived kind's payload (what the routes serve; tests check served results by it). */
export const DERIVED_PAYLOAD_SCHEMAS: Record<DerivedKind, z.ZodType> = {
  histograms: HistogramsPayloadSchema,
  'accuracy-curves': AccuracyCurvesPayloadSchema,
  'corner-cases': CornerCasesPayloadSchema,
  directions: DirectionsPayloadSchema,
};

type AccuracyCurvesPayload = z.infer<typeof AccuracyCurvesPayloadSchema>;
/** One classifier's curve: its bins, the samples beyond the last bin and its robustness score. */
export type AccuracyCurveJson = AccuracyCurvesPayload['curves'][number];
/** One group of samples (a distance bin or those beyond): count, correct and accuracy with its CI. */
export type AccuracyGroupJson = AccuracyCurveJson['beyond'];
type CornerCasesPayload = z.infer<typeof CornerCasesPayloadSchema>;
/** One class's corner cases: its start image, the cases found and the dims tried without one. */
export type ClassCornerCasesJson = CornerCasesPayload['classes'][number];
/** One corner case: a dim and the points along it where p_true falls to 0.5 and the decision flips. */
export type CornerCaseJson = ClassCornerCasesJson['cases'][number];
/** One point along a dim: the shift (in std) and what the classifier reads there, with the image. */
export type CornerCasePointJson = CornerCaseJson['decision'];
