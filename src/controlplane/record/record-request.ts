/**
 * What `POST /api/v1/record` accepts, shared with the CLI so `5%`, `100MB`
 * and `10m` mean the same on both sides.
 */
import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';

export const recordStartBody = z
  .object({
    route: z.string().min(1),
    rate: z.union([z.number(), z.string()]).default(1).meta({ description: 'Fraction 0-1, or a percent such as "5%".' }),
    out: z.string().min(1).meta({ description: 'File on the cutover host; rotated files get .1, .2… before the extension.' }),
    withResponse: z.boolean().default(false),
    maxSize: z.union([z.number(), z.string()]).default('100MB').meta({ description: 'Bytes per file, or "100MB", "1GB", "512KB".' }),
    duration: z.union([z.number(), z.string()]).optional().meta({ description: 'Stop after this long: ms, or "10m", "1h".' }),
  })
  .strict();

export type RecordStartBody = z.infer<typeof recordStartBody>;

/**
 * @example parseRate('5%') // 0.05
 */
export function parseRate(input: number | string): number {
  const text = String(input).trim();
  const percent = text.endsWith('%');
  const n = Number(percent ? text.slice(0, -1) : text);
  const rate = percent ? n / 100 : n;
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `rate "${input}" is not a fraction in (0, 1] or a percent in (0%, 100%]`, { hint: 'e.g. 5% or 0.05' });
  }
  return rate;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Binary units: 1MB is 1 MiB.
 * @example parseSize('100MB') // 104857600
 */
export function parseSize(input: number | string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(String(input));
  const size = m ? Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!) : NaN;
  if (!Number.isFinite(size) || size < 1024) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `max size "${input}" is not a size of at least 1KB`, { hint: 'e.g. 100MB, 1GB, 512KB' });
  }
  return size;
}

export function parseRecordDuration(input: number | string | undefined): number | undefined {
  if (input === undefined) return undefined;
  try {
    const ms = parseDuration(input);
    if (ms > 0) return ms;
  } catch {
    // reported below with the API's error code
  }
  throw new CutoverError(ErrorCodes.BAD_REQUEST, `duration "${input}" is not a positive duration`, { hint: 'e.g. 10m, 1h, 30s' });
}
