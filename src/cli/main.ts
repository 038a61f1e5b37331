/**
 * The `cutover` command. Every command except `run`, `validate` and the
 * offline tools talks to a running cutover through the admin API only.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../controlplane/version.ts';
import { createAdminClient, resolveAdminOptions, type AdminCall } from './admin-client.ts';
import { registerBenchCommand } from './commands/bench.ts';
import { registerDiffsCommands } from './commands/diffs.ts';
import { registerRecordCommands } from './commands/record.ts';
import { registerReplayCommands } from './commands/replay.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerRolloutCommands } from './commands/rollout.ts';
import { registerRoutingCommands } from './commands/routing.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerStatsCommand } from './commands/stats.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { describeError, exitCodeFor, ExitCodes } from './exit-codes.ts';
import { planRuntimeFlags, relaunchWithRuntimeFlags } from './runtime-flags.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('cutover')
    .description('Move live HTTP traffic from a legacy backend to its rewrite, with proof of parity and an instant way back')
    .version(VERSION)
    .option('--admin-url <url>', 'admin API of a running cutover (env CUTOVER_ADMIN_URL, default http://127.0.0.1:9090)')
    .option('--token <token>', 'admin token (env CUTOVER_TOKEN)')
    .exitOverride()
    .showHelpAfterError();
  const api = (): AdminCall => createAdminClient(resolveAdminOptions(program.opts()));
  registerRunCommand(program);
  registerValidateCommand(program);
  registerRoutingCommands(program, api);
  registerRolloutCommands(program, api);
  registerDiffsCommands(program, api);
  registerStatsCommand(program, api);
  registerRecordCommands(program, api);
  registerReplayCommands(program);
  registerReportCommand(program);
  registerBenchCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return ExitCodes.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCodes.OK : ExitCodes.ERROR;
    }
    process.stderr.write(`${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}

/**
 * The subcommand a command line names, skipping global options and their
 * values: in `cutover --token T run` it is `run`, not `T`.
 * @example
 * commandOf(['node', 'cutover', '--admin-url', 'http://h:9090', 'status'], buildProgram()); // 'status'
 */
export function commandOf(argv: readonly string[], program: Command): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((n): n is string => n !== undefined)));
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (takesValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Runs the CLI as a process: `run` stays alive through its servers; everything else exits with its code. */
export async function runCli(argv = process.argv): Promise<void> {
  const command = commandOf(argv, buildProgram());
  if (command === 'run' && !argv.includes('--help') && !argv.includes('-h')) {
    // Only here, where cutover owns the process: `run` called in-process (the demo, tests) must not replace its host.
    try {
      relaunchWithRuntimeFlags(planRuntimeFlags({ execArgv: process.execArgv, env: process.env }));
    } catch (err) {
      process.stderr.write(`${describeError(err)}\n`);
      process.exit(exitCodeFor(err));
    }
  }
  const code = await main(argv);
  if (command !== 'run' || code !== 0) process.exit(code);
}

if (import.meta.main) await runCli();
