/**
 * `cutover report`: the Go/No-Go report, built offline from the store of a
 * cutover (running or stopped). Exit code 0 for Go and 2 for No-Go, so a
 * pipeline can gate a cutover on it; errors are 1.
 */
import type { Command } from 'commander';
import type { ReportFlags } from './report-action.ts';

/**
 * @example
 * registerReportCommand(program); // cutover report -c cutover.yaml --route checkout --format html --out report.html
 */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('Go/No-Go report from the store: per endpoint mismatches, latency and errors legacy vs candidate, rollout history. Exit 0 Go, 2 No-Go')
    .option('--route <id>', 'only this route')
    .option('--since <when>', 'from this long ago (24h, 30m, 7d) or an ISO time; default report.since (24h)')
    .option('--until <when>', 'up to this (same forms); default now')
    .option('--format <format>', 'md | html | json', 'md')
    .option('--out <file>', 'write the report here instead of standard output')
    .option('--data-dir <dir>', 'data dir of the cutover (SQLite); default the config file\'s, else ./.cutover')
    .option('-c, --config <file>', 'cutover.yaml: store settings and report criteria')
    .option('--max-p95-ratio <x>', 'candidate p95 / legacy p95 at most this (default 1.1; 0.7 = at least 30% faster)')
    .option('--error-rate-margin <fraction>', "candidate error-rate upper bound at most legacy's rate + this (default 0.01)")
    .option('--max-mismatch-rate <fraction>', 'mismatch-rate upper bound at most this (default: not checked)')
    .option('--min-compared <n>', 'fewer compared pairs is insufficient data (default 100)')
    .option('--min-requests <n>', 'fewer responses from either backend is insufficient data (default 100)')
    .option('--allow-insufficient', 'endpoints with insufficient data do not make the report No-Go')
    .option('--top <n>', 'differences listed per endpoint', '5')
    .action(async (flags: ReportFlags) => {
      const { runReport } = await import('./report-action.ts');
      await runReport(flags);
    });
}
