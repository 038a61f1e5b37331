/**
 * Builds the run command's config from a file and flags. Kept apart from the
 * command's registration so the CLI loads the schema only when it runs.
 */
import { loadConfigFile, validateConfig } from '../config/load.ts';
import type { CutoverConfig, CutoverConfigInput } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';

export interface RunFlags {
  config?: string;
  legacy?: string;
  candidate?: string;
  replica?: string;
  listen?: string;
  admin?: string;
  dataDir?: string;
  workers?: string;
  tlsCert?: string;
  tlsKey?: string;
}

function applyFlags(base: Record<string, unknown>, flags: RunFlags): void {
  const backends = { ...(base.backends as Record<string, unknown> | undefined) };
  if (flags.legacy) backends.legacy = { ...(backends.legacy as object), url: flags.legacy };
  if (flags.candidate) backends.candidate = { ...(backends.candidate as object), url: flags.candidate };
  if (flags.replica) backends.replica = { ...(backends.replica as object), url: flags.replica };
  base.backends = backends;
  if (flags.listen) base.listen = flags.listen;
  if (flags.admin) base.admin = { ...(base.admin as object), listen: flags.admin };
  if (flags.dataDir) base.dataDir = flags.dataDir;
  if (flags.workers) base.workers = flags.workers === 'auto' ? 'auto' : Number(flags.workers);
  if (flags.tlsCert || flags.tlsKey) {
    const tls: Record<string, unknown> = { ...(base.tls as object | undefined) };
    if (flags.tlsCert) tls.cert = flags.tlsCert;
    if (flags.tlsKey) tls.key = flags.tlsKey;
    base.tls = tls;
  }
}

/**
 * Flags win over the file, so one file can serve several local runs. They are
 * applied to the parsed YAML before validation, and again on every reload.
 */
export function configFromFlags(flags: RunFlags): CutoverConfig {
  if (flags.config === undefined && (flags.legacy === undefined || flags.candidate === undefined)) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, 'cutover run needs a config file or both backends', {
      hint: 'cutover run --legacy http://127.0.0.1:8001 --candidate http://127.0.0.1:8002, or cutover run -c cutover.yaml',
    });
  }
  if (flags.config !== undefined) return loadConfigFile(flags.config, (raw) => applyFlags(raw, flags));
  const base: Record<string, unknown> = {};
  applyFlags(base, flags);
  return validateConfig(base as CutoverConfigInput, 'command-line flags');
}

