/**
 * Comparison rules as written in cutover.yaml (global `compare:` and per-route
 * `rules:`). Owned by the compare engine's authors; src/compare compiles these.
 */
import { z } from 'zod';

export const compareRulesSchema = z
  .object({
    ignore: z.array(z.string()).default([]),
  })
  .strict();

export type CompareRulesConfig = z.output<typeof compareRulesSchema>;
