/**
 * `cutover replay` (recorded traffic or a scenario file against legacy and
 * candidate) and `cutover import har|nginx` (other sources to the recorded
 * traffic format). Both run offline: no running cutover is needed; replay
 * writes its results into the store of `--data-dir` (or the config's).
 * The work lives in replay-actions.ts, loaded only when these commands run.
 */
import type { Command } from 'commander';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import type { ReplayFlags } from './replay-actions.ts';

/**
 * @example
 * registerReplayCommands(program); // cutover replay traffic.ndjson --legacy http://a --candidate http://b
 */
export function registerReplayCommands(program: Command): void {
  program
    .command('replay')
    .description('Send recorded traffic (NDJSON) to legacy and candidate and store the comparison, or check a scenario file (.yaml)')
    .argument('<files...>', 'traffic.ndjson [traffic.1.ndjson …], or scenarios.yaml')
    .option('--legacy <url>', 'legacy backend URL')
    .option('--candidate <url>', 'candidate backend URL')
    .option('--replica <url>', 'a second legacy instance, for noise detection')
    .option('-c, --config <file>', 'cutover.yaml: comparison rules, routes, results settings, store')
    .option('--concurrency <n>', 'requests in flight at once', '64')
    .option('--rate <n/s>', 'at most this many requests a second')
    .option('--data-dir <dir>', 'store directory (default: the config’s, else ./.cutover)')
    .option('--json', 'print the summary (or scenario results) as JSON')
    .action(async (files: string[], flags: ReplayFlags) => {
      if (files.length > 1 && files.some((f) => /\.ya?ml$/i.test(f))) {
        throw new CutoverError(ErrorCodes.INPUT_INVALID, 'a scenario file is replayed on its own', { hint: 'cutover replay scenarios.yaml --legacy … --candidate …' });
      }
      const actions = await import('./replay-actions.ts');
      if (/\.ya?ml$/i.test(files[0]!)) return actions.replayScenarios(files[0]!, flags);
      return actions.replayTraffic(files, flags);
    });

  const imp = program.command('import').description('Convert other traffic sources to the recorded traffic format (NDJSON)');
  imp
    .command('har')
    .description('HAR 1.2 (browser devtools, proxies): requests with bodies, and responses when present')
    .argument('<file>', 'FILE.har')
    .requiredOption('--out <file>', 'NDJSON to write')
    .action(async (file: string, flags: { out: string }) => {
      (await import('./replay-actions.ts')).importHarFile(file, flags.out);
    });
  imp
    .command('nginx')
    .description('nginx access log in the combined format: GET and HEAD only (a log has no bodies)')
    .argument('<file>', 'access.log')
    .requiredOption('--out <file>', 'NDJSON to write')
    .option('--host <host>', 'Host header to send (the log does not have it)')
    .action(async (file: string, flags: { out: string; host?: string }) => {
      (await import('./replay-actions.ts')).importNginxFile(file, flags.out, flags.host);
    });
}
