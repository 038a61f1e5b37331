/**
 * Runs every configured gate on one telemetry snapshot.
 */
import type { GatesConfig } from '../config/rollout-schema.ts';
import { evaluateCustom } from './custom-gate.ts';
import { evaluateErrorRate } from './error-rate-gate.ts';
import { combineOutcomes, type GateOutcome, type GateResult } from './gate-result.ts';
import { evaluateLatency } from './latency-gate.ts';
import { evaluateMismatch } from './mismatch-gate.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';

export interface SampleCounts {
  legacy: number;
  candidate: number;
  compared: number;
}

export interface GateEvaluation {
  /** fail if any gate failed, inconclusive if any was, else pass (also when no gate is configured). */
  outcome: GateOutcome;
  results: GateResult[];
  /** Window sizes, checked against a step's `minSamples`. */
  samples: SampleCounts;
  window: { from: number; to: number } | null;
}

/**
 * @example
 * const evaluation = evaluateGates(
 *   {
 *     legacy: { requests: 5000, errors: 5, p95Ms: 40, p99Ms: 90, latencySamples: 5000 },
 *     candidate: { requests: 500, errors: 1, p95Ms: 42, p99Ms: 95, latencySamples: 500 },
 *     comparisons: { compared: 1000, mismatches: 0 },
 *   },
 *   plan.gates,
 * );
 * evaluation.outcome // 'pass' | 'fail' | 'inconclusive'
 */
export function evaluateGates(snapshot: TelemetrySnapshot, gates: GatesConfig): GateEvaluation {
  const results: GateResult[] = [];
  if (gates.require.includes('errorRate')) results.push(evaluateErrorRate(snapshot, gates));
  if (gates.require.includes('latency')) results.push(evaluateLatency(snapshot, gates));
  if (gates.require.includes('mismatch')) results.push(evaluateMismatch(snapshot, gates));
  if (gates.custom !== null) results.push(evaluateCustom(snapshot, gates));
  return {
    outcome: combineOutcomes(results.map((r) => r.outcome)),
    results,
    samples: {
      legacy: snapshot.legacy.requests,
      candidate: snapshot.candidate.requests,
      compared: snapshot.comparisons.compared,
    },
    window: snapshot.window ? { ...snapshot.window } : null,
  };
}
