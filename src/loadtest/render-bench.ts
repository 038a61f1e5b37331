/**
 * `cutover bench` output for a terminal: per-backend totals side by side,
 * the candidate/legacy ratios with how far they moved between round pairs,
 * the rounds themselves, and the generator's own CPU use.
 */
import { renderTable } from '../cli/table.ts';
import type { BackendTotals, BenchSummary, RatioStats, RoundRow } from './bench-summary.ts';

const ms = (v: number | null): string => (v === null ? '-' : v >= 100 ? `${v.toFixed(0)}ms` : v >= 10 ? `${v.toFixed(1)}ms` : `${v.toFixed(2)}ms`);
const x = (v: number | null): string => (v === null ? '-' : `${v.toFixed(3)}x`);
const rps = (v: number): string => v.toFixed(0);
const spread = (r: RatioStats): string => (r.min === null || r.max === null ? '-' : `${r.min.toFixed(3)}–${r.max.toFixed(3)}`);
const sd = (r: RatioStats): string => (r.stddev === null ? '-' : r.stddev.toFixed(3));

/** One line per round, for progress while the bench runs. */
export function renderRoundLine(r: RoundRow, rounds: number): string {
  return `round ${r.index + 1}/${rounds} ${r.backend.padEnd(9)} ${rps(r.throughput).padStart(7)} req/s  p50 ${ms(r.p50)}  p95 ${ms(r.p95)}  p99 ${ms(r.p99)}  errors ${r.errors}  generator CPU ${(100 * r.cpuCores).toFixed(0)}%`;
}

/**
 * @example
 * process.stdout.write(renderBench(summarizeBench(rounds, { cpuThreshold: 0.9 }), { connections: 50, durationMs: 30_000 }));
 */
export function renderBench(s: BenchSummary, setup: { connections: number; durationMs: number; requests: number }): string {
  const row = (label: string, pick: (t: BackendTotals) => string, ratio?: RatioStats): string[] => [
    label,
    pick(s.legacy),
    pick(s.candidate),
    ratio ? x(ratio.value) : '-',
    ratio ? spread(ratio) : '-',
    ratio ? sd(ratio) : '-',
  ];
  const table = renderTable(
    ['', 'LEGACY', 'CANDIDATE', 'CANDIDATE/LEGACY', 'ROUND PAIRS MIN–MAX', 'STDDEV'],
    [
      row('throughput (req/s)', (t) => rps(t.throughput), s.ratios.throughput),
      row('p50', (t) => ms(t.p50), s.ratios.p50),
      row('p95', (t) => ms(t.p95), s.ratios.p95),
      row('p99', (t) => ms(t.p99), s.ratios.p99),
      row('responses', (t) => String(t.responses)),
      row('errors', (t) => `${t.errors}${t.failures > 0 ? ` (${t.failures} failed)` : ''}`),
    ],
  );
  const g = s.generator;
  const lines = [
    `${s.rounds.length} rounds alternating legacy and candidate, ${setup.connections} connections each, ${(setup.durationMs / 1000).toFixed(1)}s measured in total, ${setup.requests} distinct request${setup.requests === 1 ? '' : 's'} in the mix`,
    '',
    table,
    '',
    `generator CPU: up to ${(100 * g.maxCpuCores).toFixed(0)}% of one core (mean ${(100 * g.meanCpuCores).toFixed(0)}%; warning above ${(100 * g.threshold).toFixed(0)}%)`,
    ...s.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}
