import type { Command } from 'commander';
import { loadConfigFile, validateConfig } from '../../config/load.ts';
import type { CutoverConfig, CutoverConfigInput } from '../../config/schema.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';

export interface RunFlags {
  config?: string;
  legacy?: string;
  candidate?: string;
  replica?: string;
  listen?: string;
  admin?: string;
  dataDir?: string;
  workers?: string;
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

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Start the proxy and its admin API')
    .option('-c, --config <file>', 'cutover.yaml')
    .option('--legacy <url>', 'legacy backend URL')
    .option('--candidate <url>', 'candidate (rewrite) backend URL')
    .option('--replica <url>', 'a second legacy instance, for noise detection')
    .option('--listen <host:port>', 'proxy listener (default 127.0.0.1:8080)')
    .option('--admin <host:port>', 'admin API listener (default 127.0.0.1:9090)')
    .option('--data-dir <dir>', 'state directory (default ./.cutover)')
    .option('--workers <n|auto>', 'data-plane processes (default 1)')
    .action(async (flags: RunFlags) => {
      const config = configFromFlags(flags);
      // Loaded here, not at the top: every other command (set, rollback, status) would pay for the whole runtime at start.
      const [{ startCutover }, { defaultFeatures }] = await Promise.all([import('../../controlplane/runtime.ts'), import('../../controlplane/features.ts')]);
      // A reload re-reads the file and applies the same flags again, so --legacy, --listen… survive SIGHUP.
      await startCutover({ config, configPath: flags.config, loadConfig: () => configFromFlags(flags), features: defaultFeatures, handleSignals: true });
    });
}
