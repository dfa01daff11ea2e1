/**
 * Where a live traversal stands at one shift (GET /v1/traversal's frames, its start, decision and
 * p_true = 0.5 points; a boundary point of /v1/corner-case adds its image): p_true and the two
 * leading classes. The worker's reply schemas (src/worker/live-schemas.ts) add the OpenAPI names;
 * the <faultlines-traversal> widget reads frames by this type. Runtime-free: zod only.
 */
import { z } from 'zod';

export const traversalFrameFields = {
  shift: z.number(),
  pTrue: z.number(),
  predicted: z.number().int(),
  runnerUp: z.number().int(),
  pRunnerUp: z.number(),
};

export const TraversalFrameSchema = z.object(traversalFrameFields).strict();
export type TraversalFrame = z.infer<typeof TraversalFrameSchema>;
