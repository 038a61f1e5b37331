/**
 * The one place errors become exit codes. Commands throw; main.ts catches and
 * calls `exitCodeFor`.
 *
 * 0 success (and Go for `cutover report`), 1 any error (bad input included),
 * 2 No-Go from `cutover report`, so a pipeline can gate on it, 3 the admin
 * API could not be reached, 4 unauthorised.
 */
import { ErrorCodes, isCutoverError } from '../core/errors.ts';

export const ExitCodes = {
  OK: 0,
  ERROR: 1,
  NO_GO: 2,
  UNREACHABLE: 3,
  UNAUTHORIZED: 4,
} as const;

/**
 * A command's negative answer, not a failure: `cutover report` throws it after
 * writing a No-Go report, so the answer reaches the exit code without the
 * command calling process.exit.
 */
export class NoGoVerdict extends Error {
  override readonly name = 'NoGoVerdict';
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof NoGoVerdict) return ExitCodes.NO_GO;
  if (!isCutoverError(err)) return ExitCodes.ERROR;
  switch (err.code) {
    case ErrorCodes.ADMIN_UNREACHABLE:
      return ExitCodes.UNREACHABLE;
    case ErrorCodes.UNAUTHORIZED:
      return ExitCodes.UNAUTHORIZED;
    default:
      return ExitCodes.ERROR;
  }
}

/** Error text for a terminal: what went wrong, then how to fix it. */
export function describeError(err: unknown): string {
  if (err instanceof NoGoVerdict) return `no-go: ${err.message}`;
  if (isCutoverError(err)) return err.hint ? `error: ${err.message}\n  hint: ${err.hint}` : `error: ${err.message}`;
  const e = err as Error;
  return `error: ${e?.message ?? String(err)}`;
}
