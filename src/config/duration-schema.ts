/**
 * Durations in cutover.yaml: a number of milliseconds, or `250ms`, `30s`,
 * `10m`, `1h`, `7d`. Shared by every part of the config schema.
 */
import { z } from 'zod';
import { tryParseDuration } from '../core/duration.ts';

export const durationSchema = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    const ms = tryParseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write 250ms, 30s, 10m or 1h` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'Milliseconds as a number, or a string such as 250ms, 30s, 10m, 1h.' });
