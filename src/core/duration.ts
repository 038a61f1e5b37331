import { CutoverError, ErrorCodes } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses `250ms`, `30s`, `10m`, `1h`, `7d` (or a bare number of milliseconds)
 * into milliseconds.
 * @example parseDuration('10m') // 600000
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw badDuration(String(input));
    return input;
  }
  const trimmed = input.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const m = DURATION.exec(trimmed);
  if (!m) throw badDuration(input);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function tryParseDuration(input: string | number): number | undefined {
  try {
    return parseDuration(input);
  } catch {
    return undefined;
  }
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function badDuration(input: string): CutoverError {
  return new CutoverError(ErrorCodes.INPUT_INVALID, `"${input}" is not a duration`, {
    hint: 'write a number with a unit: 250ms, 30s, 10m, 1h or 7d',
  });
}
