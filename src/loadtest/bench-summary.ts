/**
 * What a series of alternating rounds says about the two backends, computed
 * as data (pure): totals per backend from merged sketches, candidate/legacy
 * ratios, how much those ratios moved between round pairs, and whether the
 * load generator itself was the bottleneck.
 */
import { createLatencySketch, mergeSketch, summarizeSketch } from '../controlplane/telemetry/latency-sketch.ts';
import type { RoundMeasurement } from './load-round.ts';

export type BenchBackend = 'legacy' | 'candidate';

export interface BenchRound extends RoundMeasurement {
  index: number;
  backend: BenchBackend;
}

export interface RoundRow {
  index: number;
  backend: BenchBackend;
  responses: number;
  errors: number;
  wallMs: number;
  throughput: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Generator CPU over the round, in cores (1 = one core fully busy). */
  cpuCores: number;
}

export interface BackendTotals {
  backend: BenchBackend;
  rounds: number;
  responses: number;
  errors: number;
  failures: number;
  /** errors / (responses + failures). */
  errorRate: number | null;
  /** Responses per second over the rounds' summed wall time. */
  throughput: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RatioStats {
  /** candidate / legacy from the totals. */
  value: number | null;
  /** Per round pair (legacy round k, candidate round k+1). */
  perPair: number[];
  min: number | null;
  max: number | null;
  /** Sample standard deviation of the per-pair ratios; null with fewer than two pairs. */
  stddev: number | null;
}

export interface BenchSummary {
  legacy: BackendTotals;
  candidate: BackendTotals;
  ratios: { throughput: RatioStats; p50: RatioStats; p95: RatioStats; p99: RatioStats };
  rounds: RoundRow[];
  generator: { maxCpuCores: number; meanCpuCores: number; threshold: number; saturated: boolean };
  warnings: string[];
}

const div = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);

function ratioStats(value: number | null, perPair: Array<number | null>): RatioStats {
  const xs = perPair.filter((x): x is number => x !== null && Number.isFinite(x));
  const mean = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  return {
    value,
    perPair: xs,
    min: xs.length > 0 ? Math.min(...xs) : null,
    max: xs.length > 0 ? Math.max(...xs) : null,
    stddev: xs.length >= 2 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : null,
  };
}

function rowOf(r: BenchRound): RoundRow {
  const s = summarizeSketch(r.latency);
  return {
    index: r.index,
    backend: r.backend,
    responses: r.responses,
    errors: r.errors,
    wallMs: r.wallMs,
    throughput: r.wallMs > 0 ? (1000 * r.responses) / r.wallMs : 0,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    cpuCores: r.wallMs > 0 ? r.cpuMs / r.wallMs : 0,
  };
}

function totalsOf(backend: BenchBackend, rounds: readonly BenchRound[]): BackendTotals {
  const mine = rounds.filter((r) => r.backend === backend);
  const sketch = createLatencySketch();
  for (const r of mine) mergeSketch(sketch, r.latency);
  const s = summarizeSketch(sketch);
  const responses = mine.reduce((a, r) => a + r.responses, 0);
  const failures = mine.reduce((a, r) => a + r.failures, 0);
  const errors = mine.reduce((a, r) => a + r.errors, 0);
  const wall = mine.reduce((a, r) => a + r.wallMs, 0);
  return {
    backend,
    rounds: mine.length,
    responses,
    errors,
    failures,
    errorRate: responses + failures > 0 ? errors / (responses + failures) : null,
    throughput: wall > 0 ? (1000 * responses) / wall : 0,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
  };
}

/**
 * @example
 * const summary = summarizeBench(rounds, { cpuThreshold: 0.9 });
 * summary.ratios.p95.value; // candidate p95 / legacy p95
 * summary.generator.saturated; // true: the numbers measure the generator
 */
export function summarizeBench(rounds: readonly BenchRound[], options: { cpuThreshold: number }): BenchSummary {
  const legacy = totalsOf('legacy', rounds);
  const candidate = totalsOf('candidate', rounds);
  const rows = [...rounds].sort((a, b) => a.index - b.index).map(rowOf);
  const pairs: Array<[RoundRow, RoundRow]> = [];
  const ls = rows.filter((r) => r.backend === 'legacy');
  const cs = rows.filter((r) => r.backend === 'candidate');
  for (let i = 0; i < Math.min(ls.length, cs.length); i++) pairs.push([ls[i]!, cs[i]!]);
  const per = (pick: (r: RoundRow) => number | null) => pairs.map(([l, c]) => div(pick(c), pick(l)));

  const cpu = rows.map((r) => r.cpuCores);
  const maxCpuCores = cpu.length > 0 ? Math.max(...cpu) : 0;
  const meanCpuCores = cpu.length > 0 ? cpu.reduce((a, b) => a + b, 0) / cpu.length : 0;
  const saturated = maxCpuCores > options.cpuThreshold;
  const warnings: string[] = [];
  if (saturated) {
    const worst = rows.filter((r) => r.cpuCores > options.cpuThreshold).map((r) => `${r.index + 1} (${r.backend}, ${(100 * r.cpuCores).toFixed(0)}%)`);
    warnings.push(
      `the load generator used more than ${(100 * options.cpuThreshold).toFixed(0)}% of a core in round${worst.length === 1 ? '' : 's'} ${worst.join(', ')}: ` +
        'these numbers measure the generator, not the backend. Use fewer --connections, or run the generator on another machine.',
    );
  }
  for (const t of [legacy, candidate]) {
    if (t.responses === 0) warnings.push(`${t.backend} answered no request: check its URL and that it is up.`);
    else if (t.errors > 0) warnings.push(`${t.backend}: ${t.errors} errors (${(100 * (t.errorRate ?? 0)).toFixed(2)}%); fast errors flatter latency and throughput.`);
  }
  const p95 = ratioStats(div(candidate.p95, legacy.p95), per((r) => r.p95));
  if (p95.min !== null && p95.max !== null && p95.value !== null && p95.max - p95.min > 0.2 * p95.value) {
    warnings.push(`the p95 ratio moved from ${p95.min.toFixed(2)} to ${p95.max.toFixed(2)} between rounds: the machine is noisy; use more or longer rounds.`);
  }
  return {
    legacy,
    candidate,
    ratios: {
      throughput: ratioStats(div(candidate.throughput, legacy.throughput), per((r) => r.throughput)),
      p50: ratioStats(div(candidate.p50, legacy.p50), per((r) => r.p50)),
      p95,
      p99: ratioStats(div(candidate.p99, legacy.p99), per((r) => r.p99)),
    },
    rounds: rows,
    generator: { maxCpuCores, meanCpuCores, threshold: options.cpuThreshold, saturated },
    warnings,
  };
}
