/**
 * V8 settings `cutover run` starts its process with, and the one re-exec that
 * applies them (they only take effect at isolate creation, so setting them
 * from inside a running process does nothing).
 *
 * Why a smaller young generation: every read from an upstream socket allocates
 * a new ArrayBuffer, and V8 starts a full mark-compact each time ~64 MiB of
 * such external memory has piled up. A lean proxy makes little JS garbage, so
 * with Node 24's default semi-spaces (64 MiB on a machine with this much RAM)
 * scavenges are rare and the read buffers are only freed by those
 * mark-compacts, 4-5 a second at 16 KiB responses. With 16 MiB semi-spaces a
 * scavenge comes first and frees them: on /large, user CPU per request fell
 * by a fifth and p99 at 50 connections from 25 to 5 ms, at the price of about
 * half a millisecond of p99 at one connection (docs/decisions.md).
 *
 * Planning is pure (`planRuntimeFlags`); `relaunchWithRuntimeFlags` applies the
 * plan with process.execve, which keeps the PID and the open terminal, so a
 * supervisor's signals still reach the one process that serves.
 */
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export const SEMI_SPACE_ENV = 'CUTOVER_SEMI_SPACE_MB';
/** Set in the relaunched process so it never relaunches again. */
export const RELAUNCHED_ENV = 'CUTOVER_RELAUNCHED';
export const DEFAULT_SEMI_SPACE_MB = 16;
const MAX_SEMI_SPACE_MB = 1024;

export interface RuntimeFlagsInput {
  /** process.execArgv: flags node was started with. */
  execArgv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

export type RuntimeFlagsPlan =
  | { action: 'relaunch'; flags: string[] }
  | { action: 'keep'; reason: 'relaunched' | 'disabled' | 'set-by-user' };

const SEMI_SPACE_FLAG = /(^|\s)--max[-_]semi[-_]space[-_]size([=\s]|$)/;

/**
 * Decides whether `cutover run` should restart itself with tuned V8 flags.
 * An explicit `--max-semi-space-size` (on the command line or in NODE_OPTIONS)
 * always wins; `CUTOVER_SEMI_SPACE_MB=0` keeps Node's default.
 * @example
 * planRuntimeFlags({ execArgv: [], env: {} }); // { action: 'relaunch', flags: ['--max-semi-space-size=16'] }
 */
export function planRuntimeFlags(input: RuntimeFlagsInput): RuntimeFlagsPlan {
  const { env } = input;
  if (env[RELAUNCHED_ENV] !== undefined) return { action: 'keep', reason: 'relaunched' };
  const mb = semiSpaceMb(env[SEMI_SPACE_ENV]);
  if (input.execArgv.some((flag) => SEMI_SPACE_FLAG.test(flag)) || SEMI_SPACE_FLAG.test(env.NODE_OPTIONS ?? '')) {
    return { action: 'keep', reason: 'set-by-user' };
  }
  if (mb === 0) return { action: 'keep', reason: 'disabled' };
  return { action: 'relaunch', flags: [`--max-semi-space-size=${mb}`] };
}

function semiSpaceMb(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEMI_SPACE_MB;
  const text = raw.trim();
  const mb = Number(text);
  if (!/^\d+$/.test(text) || mb > MAX_SEMI_SPACE_MB) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `${SEMI_SPACE_ENV} must be a whole number of MiB from 0 to ${MAX_SEMI_SPACE_MB}; got '${raw}'`, {
      hint: `unset it for the default (${DEFAULT_SEMI_SPACE_MB}), or set ${SEMI_SPACE_ENV}=0 to keep Node's own young-generation size`,
    });
  }
  return mb;
}

/**
 * Replaces this process with `node <flags> <same script and arguments>` when
 * the plan asks for it. Returns only when nothing was replaced: the plan said
 * keep, or the platform has no execve (Windows, Node < 22.15), in which case
 * cutover runs on Node's defaults.
 */
export function relaunchWithRuntimeFlags(plan: RuntimeFlagsPlan): void {
  if (plan.action !== 'relaunch') return;
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return;
  const args = [process.execPath, ...process.execArgv, ...plan.flags, ...process.argv.slice(1)];
  try {
    execve.call(process, process.execPath, args, { ...process.env, [RELAUNCHED_ENV]: plan.flags.join(' ') });
  } catch (err) {
    // Still the same process, untouched: serve on Node's defaults rather than not at all.
    process.stderr.write(`warning: could not restart with ${plan.flags.join(' ')} (${(err as Error).message}); running on Node's defaults\n`);
  }
}
