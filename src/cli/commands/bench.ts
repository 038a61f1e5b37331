/**
 * `cutover bench`: a load comparison of legacy and candidate outside the
 * proxy, with the same request mix, alternating rounds and a load generator
 * that reports when it, rather than the backends, is the limit.
 */
import type { Command } from 'commander';
import type { BenchFlags } from './bench-action.ts';

/**
 * @example
 * registerBenchCommand(program); // cutover bench --legacy http://10.0.0.5:8001 --candidate http://10.0.0.6:8002 --path /products --duration 60s --connections 50
 */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('Load comparison: the same requests against legacy and candidate in alternating rounds; throughput, p50/p95/p99, errors and ratios')
    .requiredOption('--legacy <url>', 'legacy base URL')
    .requiredOption('--candidate <url>', 'candidate base URL')
    .option('--from <file>', 'request mix: recorded traffic (NDJSON, as written by cutover record)')
    .option('--path <path>', 'or a single request path (with query)')
    .option('--method <method>', 'method for --path', 'GET')
    .option('--duration <d>', 'total measured time, split over the rounds', '30s')
    .option('--connections <n>', 'closed-loop connections per backend', '50')
    .option('--rounds <n>', 'measured rounds, alternating legacy and candidate (even)', '6')
    .option('--warmup <d>', 'unmeasured traffic per backend before the first round', '1s')
    .option('--max-generator-cpu <fraction>', 'warn when the generator uses more than this share of one core', '0.9')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: BenchFlags) => {
      const { runBenchCommand } = await import('./bench-action.ts');
      await runBenchCommand(flags);
    });
}
