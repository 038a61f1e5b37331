/**
 * Latency gate: candidate p95/p99 compared with legacy's in the same window as
 * a ratio, plus optional absolute caps on the candidate alone.
 *
 * Percentiles come from sketches without a variance, so this is a point
 * comparison guarded by a sample minimum; the consecutive-failure threshold in
 * the decision step is what keeps one noisy window from acting.
 */
import type { GatesConfig, LatencyPercentile } from '../config/rollout-schema.ts';
import { combineOutcomes, countProblem, type GateOutcome, type GateResult } from './gate-result.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';
import { finiteOrNull, msText } from './text-format.ts';

interface Check {
  outcome: GateOutcome;
  text: string;
}

const FIELD = { p95: 'p95Ms', p99: 'p99Ms' } as const;

/**
 * @example
 * evaluateLatency(snapshot, { ...gates, maxLatencyRatio: 1.2 })
 * // 3x slower → { outcome: 'fail', reason: 'p95 30ms is 3.00x legacy 10ms (max 1.2x); …' }
 */
export function evaluateLatency(snapshot: TelemetrySnapshot, gates: GatesConfig): GateResult {
  const { legacy, candidate } = snapshot;
  const thresholds = {
    maxLatencyRatio: gates.maxLatencyRatio,
    latencyToleranceMs: gates.latencyToleranceMs,
    maxP95Ms: gates.maxP95Ms,
    maxP99Ms: gates.maxP99Ms,
    minLatencySamples: gates.minLatencySamples,
  };
  const sampleSizes = { legacy: legacy.latencySamples, candidate: candidate.latencySamples };
  const observed: Record<string, number | null> = {
    legacyP95Ms: legacy.p95Ms,
    candidateP95Ms: candidate.p95Ms,
    legacyP99Ms: legacy.p99Ms,
    candidateP99Ms: candidate.p99Ms,
  };
  const base = { gate: 'latency' as const, thresholds, sampleSizes, observed };

  const problem = countProblem('legacy latency samples', legacy.latencySamples) ?? countProblem('candidate latency samples', candidate.latencySamples);
  if (problem) return { ...base, outcome: 'inconclusive', reason: `unusable telemetry: ${problem}` };

  const minimum = Math.max(1, gates.minLatencySamples);
  const caps: Array<[LatencyPercentile, number | null]> = [
    ['p95', gates.maxP95Ms],
    ['p99', gates.maxP99Ms],
  ];
  const activeCaps = caps.filter((c): c is [LatencyPercentile, number] => c[1] !== null);
  if (gates.latencyPercentiles.length === 0 && activeCaps.length === 0) {
    return { ...base, outcome: 'pass', reason: 'no latency percentiles or caps configured' };
  }
  if (candidate.latencySamples < minimum) {
    return {
      ...base,
      outcome: 'inconclusive',
      reason: `too few latency samples to judge: legacy ${legacy.latencySamples}, candidate ${candidate.latencySamples} (need ${minimum})`,
    };
  }

  const checks: Check[] = [];
  for (const [p, cap] of activeCaps) {
    const value = candidate[FIELD[p]];
    if (value === null || !Number.isFinite(value)) checks.push({ outcome: 'inconclusive', text: `candidate ${p} not reported` });
    else if (value > cap) checks.push({ outcome: 'fail', text: `candidate ${p} ${msText(value)} above the ${msText(cap)} cap` });
    else checks.push({ outcome: 'pass', text: `candidate ${p} ${msText(value)} within the ${msText(cap)} cap` });
  }
  for (const p of gates.latencyPercentiles) {
    if (legacy.latencySamples < minimum) {
      checks.push({ outcome: 'inconclusive', text: `too few legacy latency samples for the ${p} ratio (${legacy.latencySamples}, need ${minimum})` });
      continue;
    }
    const l = legacy[FIELD[p]];
    const c = candidate[FIELD[p]];
    if (l === null || c === null || !Number.isFinite(l) || !Number.isFinite(c)) {
      checks.push({ outcome: 'inconclusive', text: `${p} not reported for both sides` });
      continue;
    }
    const ratio = l > 0 ? c / l : c > 0 ? Infinity : 1;
    observed[`${p}Ratio`] = finiteOrNull(ratio);
    const ratioText = Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'infinitely';
    if (ratio > gates.maxLatencyRatio && c - l > gates.latencyToleranceMs) {
      checks.push({ outcome: 'fail', text: `${p} ${msText(c)} is ${ratioText} legacy ${msText(l)} (max ${gates.maxLatencyRatio}x)` });
    } else {
      checks.push({ outcome: 'pass', text: `${p} ${msText(c)} is ${ratioText} legacy ${msText(l)} (max ${gates.maxLatencyRatio}x)` });
    }
  }
  const outcome = combineOutcomes(checks.map((c) => c.outcome));
  // Lead with what decided the outcome; the rest is context.
  const ordered = [...checks.filter((c) => c.outcome === outcome), ...checks.filter((c) => c.outcome !== outcome)];
  return { ...base, outcome, reason: ordered.map((c) => c.text).join('; ') };
}
