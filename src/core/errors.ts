/**
 * Coded errors. Every error that reaches a user carries a stable `code`
 * (`CUTOVER_ERR_*`), a message saying what went wrong, and where possible a
 * `hint` saying how to fix it. The CLI maps codes to exit codes in one place
 * (src/cli/exit-codes.ts); the admin API maps them to HTTP statuses in one place.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'CUTOVER_ERR_CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'CUTOVER_ERR_CONFIG_NOT_FOUND',
  CONFIG_PARSE: 'CUTOVER_ERR_CONFIG_PARSE',
  BAD_REQUEST: 'CUTOVER_ERR_BAD_REQUEST',
  NOT_FOUND: 'CUTOVER_ERR_NOT_FOUND',
  CONFLICT: 'CUTOVER_ERR_CONFLICT',
  UNAUTHORIZED: 'CUTOVER_ERR_UNAUTHORIZED',
  ADMIN_UNREACHABLE: 'CUTOVER_ERR_ADMIN_UNREACHABLE',
  UPSTREAM_CONNECT: 'CUTOVER_ERR_UPSTREAM_CONNECT',
  UPSTREAM_TIMEOUT: 'CUTOVER_ERR_UPSTREAM_TIMEOUT',
  UPSTREAM_RESET: 'CUTOVER_ERR_UPSTREAM_RESET',
  UPSTREAM_PROTOCOL: 'CUTOVER_ERR_UPSTREAM_PROTOCOL',
  STORE: 'CUTOVER_ERR_STORE',
  INPUT_INVALID: 'CUTOVER_ERR_INPUT_INVALID',
  INTERNAL: 'CUTOVER_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface CutoverErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured detail a machine can read, e.g. the list of config problems. */
  details?: unknown;
}

/**
 * @example
 * throw new CutoverError(ErrorCodes.NOT_FOUND, 'route "checkout" does not exist', {
 *   hint: 'run `cutover status` to list route ids',
 * });
 */
export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: CutoverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: unknown } {
    const out: { code: ErrorCode; message: string; hint?: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function isCutoverError(err: unknown): err is CutoverError {
  return err instanceof CutoverError;
}
