/**
 * Rollout plans and gate thresholds as written in cutover.yaml.
 * src/rollout consumes the output types.
 */
import { z } from 'zod';

export const gatesSchema = z.object({}).strict();

export const rolloutPlanSchema = z
  .object({
    steps: z.array(z.string()).default([]),
  })
  .strict();

export type GatesConfig = z.output<typeof gatesSchema>;
export type RolloutPlanConfig = z.output<typeof rolloutPlanSchema>;
