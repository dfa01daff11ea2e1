/**
 * Response schemas of the live one-dim endpoints (/v1/traversal, /v1/corner-case): strict, so the
 * OpenAPI document lists every field and a test can check an answer against them (zod only: no
 * worker runtime needed to import this module).
 */
import { z } from '@hono/zod-openapi';
import { TraversalFrameSchema, traversalFrameFields } from '../protocol/traversal-frame.js';

const Direction = z.enum(['increase', 'decrease']);

/** Which cached sums a live answer took its start style, std unit and direction from. */
export const LiveStatistics = z
  .object({
    kind: z.literal('ranking-sums'),
    key: z.string(),
    resultUrl: z.string(),
    classifier: z.string().openapi({
      description:
        "The classifier whose sweep the sums are of: the request's own, or (a classifier " +
        'that cannot be ranked, render edits) the default one, whose style moments are the same',
    }),
    sweep: z.object({ seed: z.number().int(), count: z.number().int() }).strict(),
    use: z.enum(['start, std and ranking', 'start and std']),
  })
  .strict()
  .openapi('LiveStatistics');

/** The dim as the class ranking sees it (null when the classifier has no ranking of its own). */
const RankingOfDim = z
  .object({
    rank: z.number().int(),
    score: z.number(),
    direction: Direction.openapi({ description: 'The way that lowers p_true on average over the class' }),
  })
  .strict()
  .nullable();

/** Where a traversal stands at one shift: p_true and the two leading classes (a frame, a boundary point). */
const frameFields = traversalFrameFields;
const TraversalFrame = TraversalFrameSchema.openapi('TraversalFrame');

/** What a live one-dim answer is about: the models, the class and the dim. */
const subject = {
  generatorId: z.string(),
  classifier: z.string(),
  class: z.number().int(),
  dim: z.number().int(),
};

const common = {
  ...subject,
  name: z.string().openapi({ description: 'layer:channel of the dim' }),
  std: z
    .number()
    .openapi({ description: "The unit of every shift: std of s_dim over the class's samples of the sweep" }),
  startStyle: z.union([z.literal('class-average'), z.object({ seed: z.number().int() }).strict()]),
  statistics: LiveStatistics,
  ranking: RankingOfDim,
  evaluations: z.number().int(),
  frames: z.array(TraversalFrame),
  strip: z.string().openapi({ description: 'PNG data URL: the frames in a row' }),
};

export const RangeTraversal = z
  .object({
    ...common,
    mode: z.literal('range'),
    direction: z.literal('increase').openapi({ description: 'Shifts are signed along +s_dim' }),
  })
  .strict()
  .openapi('RangeTraversal');

export const CrossingTraversal = z
  .object({
    ...common,
    mode: z.literal('crossing'),
    direction: Direction,
    directionFrom: z.enum(['ranking', 'caller']),
    start: TraversalFrame.openapi({ description: 'The start style (shift 0)' }),
    outcome: z.enum(['flipped', 'already-misclassified', 'no-flip']),
    flipped: z.boolean().openapi({ description: 'The prediction really left the true class within the range' }),
    reasons: z.array(z.string()),
    decisionShift: z
      .number()
      .nullable()
      .openapi({ description: 'Smallest shift (std) where the arg-max leaves the true class' }),
    decision: TraversalFrame.nullable(),
    pTrueHalfShift: z
      .number()
      .nullable()
      .openapi({ description: "The paper's point: where p_true first falls to 0.5 (may still be the true class)" }),
    pTrueHalf: TraversalFrame.nullable(),
    frameBase: z
      .enum(['decision', 'p-true-half', 'max-steps'])
      .openapi({ description: 'What the frames span 0..2x of' }),
  })
  .strict()
  .openapi('CrossingTraversal');

export const TraversalResponse = z.discriminatedUnion('mode', [RangeTraversal, CrossingTraversal]).openapi('Traversal');

const RankedDimJson = z
  .object({
    index: z.number().int(),
    rank: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'In the class ranking; null (live, a classifier that cannot be ranked): none' }),
    layer: z.string(),
    channel: z.number().int(),
    score: z.number().nullable(),
    direction: Direction.openapi({ description: 'The way searched' }),
    std: z.number(),
  })
  .strict();

const BoundaryPoint = z
  .object({
    ...frameFields,
    image: z.string().openapi({ description: 'PNG data URL' }),
  })
  .strict()
  .openapi('BoundaryPoint');

/** One corner case, as in the cached /v1/corner-cases. */
const CornerCaseJson = z
  .object({
    dim: RankedDimJson,
    decision: BoundaryPoint.openapi({
      description:
        'The decision corner case: the first shift where the arg-max leaves the true class (predicted is the class it is read as)',
    }),
    pTrueHalf: BoundaryPoint.nullable().openapi({
      description:
        "The paper's p_true = 0.5 point (may still be read as the true class); null when p_true starts below 0.5",
    }),
  })
  .strict()
  .openapi('CornerCase');

/** A searched dim without a corner case, as in the cached /v1/corner-cases. */
const SkippedJson = z
  .object({
    dim: z.number().int(),
    outcome: z.enum(['already-misclassified', 'no-flip', 'zero-variance']),
    reason: z.string(),
    pTrueHalfShift: z.number().nullable(),
  })
  .strict()
  .openapi('SkippedDim');

export const LiveCornerCase = z
  .object({
    ...subject,
    name: z.string(),
    std: z.number(),
    direction: Direction,
    directionFrom: z.enum(['ranking', 'caller']),
    statistics: LiveStatistics,
    ranking: RankingOfDim,
    maxSteps: z.number().int(),
    tolerance: z.number(),
    start: z
      .object({ pTrue: z.number(), predicted: z.number().int(), image: z.string() })
      .strict()
      .openapi({ description: 'The class-average style' }),
    outcome: z.enum(['flipped', 'already-misclassified', 'no-flip', 'zero-variance']),
    flipped: z.boolean(),
    reasons: z.array(z.string()),
    cornerCase: CornerCaseJson.nullable(),
    skipped: SkippedJson.nullable(),
    evaluations: z.number().int(),
    images: z
      .string()
      .openapi({ description: 'PNG data URL: start, decision corner case, p_true = 0.5 point (those that exist)' }),
  })
  .strict()
  .openapi('LiveCornerCase');
