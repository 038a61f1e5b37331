/**
 * Error-rate gate: is the candidate's error rate at most `maxErrorRateIncrease`
 * (absolute) above legacy's, measured in the same window?
 *
 * It bounds the difference p_candidate − p_legacy with Newcombe's score
 * interval at the configured one-sided confidence:
 *   upper bound ≤ allowed increase → pass (shown to be no worse than allowed)
 *   lower bound >  allowed increase → fail (shown to be worse than allowed)
 *   otherwise                      → inconclusive (not enough evidence yet)
 * A fail therefore needs evidence, not just a bad-looking point estimate, and
 * low traffic can only ever make it inconclusive.
 */
import type { GatesConfig } from '../config/rollout-schema.ts';
import { countProblem, type GateResult } from './gate-result.ts';
import { normalQuantile } from './normal-quantile.ts';
import { differenceBounds } from './proportion-bounds.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';
import { percentText, pointsText } from './text-format.ts';

/**
 * @example
 * evaluateErrorRate(snapshot, gates)
 * // { gate: 'errorRate', outcome: 'fail', observed: { legacyRate: 0, candidateRate: 0.05, lowerBound: 0.039, … }, … }
 */
export function evaluateErrorRate(snapshot: TelemetrySnapshot, gates: GatesConfig): GateResult {
  const { legacy, candidate } = snapshot;
  const thresholds = {
    maxErrorRateIncrease: gates.maxErrorRateIncrease,
    confidence: gates.confidence,
    minRequests: gates.minRequests,
  };
  const sampleSizes = { legacy: legacy.requests, candidate: candidate.requests };
  const base = { gate: 'errorRate' as const, thresholds, sampleSizes };

  const problem =
    countProblem('legacy requests', legacy.requests) ??
    countProblem('legacy errors', legacy.errors) ??
    countProblem('candidate requests', candidate.requests) ??
    countProblem('candidate errors', candidate.errors) ??
    (legacy.errors > legacy.requests ? 'legacy errors exceed requests' : undefined) ??
    (candidate.errors > candidate.requests ? 'candidate errors exceed requests' : undefined);
  if (problem) {
    return { ...base, outcome: 'inconclusive', observed: {}, reason: `unusable telemetry: ${problem}` };
  }

  const legacyRate = legacy.requests > 0 ? legacy.errors / legacy.requests : null;
  const candidateRate = candidate.requests > 0 ? candidate.errors / candidate.requests : null;
  const minimum = Math.max(1, gates.minRequests);
  if (legacy.requests < minimum || candidate.requests < minimum) {
    return {
      ...base,
      outcome: 'inconclusive',
      observed: { legacyRate, candidateRate },
      reason: `too few requests to judge: legacy ${legacy.requests}, candidate ${candidate.requests} (need ${minimum} on each side)`,
    };
  }

  const z = normalQuantile(gates.confidence);
  const bounds = differenceBounds(candidate.errors, candidate.requests, legacy.errors, legacy.requests, z);
  const observed = {
    legacyRate,
    candidateRate,
    difference: bounds.difference,
    lowerBound: bounds.lower,
    upperBound: bounds.upper,
  };
  const conf = `${Math.round(gates.confidence * 1000) / 10}%`;
  const allowed = pointsText(gates.maxErrorRateIncrease);
  const rates = `candidate error rate ${percentText(candidateRate!)} vs legacy ${percentText(legacyRate!)}`;
  if (bounds.upper <= gates.maxErrorRateIncrease) {
    return { ...base, outcome: 'pass', observed, reason: `${rates}: increase at most ${pointsText(bounds.upper)} at ${conf} confidence, within the allowed ${allowed}` };
  }
  if (bounds.lower > gates.maxErrorRateIncrease) {
    return { ...base, outcome: 'fail', observed, reason: `${rates}: increase at least ${pointsText(bounds.lower)} at ${conf} confidence, above the allowed ${allowed}` };
  }
  return {
    ...base,
    outcome: 'inconclusive',
    observed,
    reason: `${rates}: increase between ${pointsText(bounds.lower)} and ${pointsText(bounds.upper)} at ${conf} confidence; not yet clear against the allowed ${allowed}`,
  };
}
