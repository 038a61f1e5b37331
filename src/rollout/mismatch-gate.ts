/**
 * Mismatch gate: is the proportion of compared responses that differ at most
 * `maxMismatchRate`?
 *
 * Uses exact Clopper-Pearson one-sided bounds rather than Wilson because the
 * interesting case is few or zero mismatches, where exact bounds are the
 * honest ones: 0 mismatches in n gives an upper bound of 1 − (1 − c)^(1/n),
 * ≈ 3/n at 95% (the rule of three). So 0 in 1000 supports a rate up to ≈ 0.3%.
 *   upper bound ≤ max → pass;  lower bound > max → fail;  otherwise inconclusive.
 */
import type { GatesConfig } from '../config/rollout-schema.ts';
import { countProblem, type GateResult } from './gate-result.ts';
import { clopperPearsonBounds } from './proportion-bounds.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';
import { percentText } from './text-format.ts';

/**
 * @example
 * evaluateMismatch({ …, comparisons: { compared: 1000, mismatches: 0 } }, gates).observed.upperBound // ≈ 0.00299
 */
export function evaluateMismatch(snapshot: TelemetrySnapshot, gates: GatesConfig): GateResult {
  const { compared, mismatches } = snapshot.comparisons;
  const thresholds = { maxMismatchRate: gates.maxMismatchRate, confidence: gates.confidence, minCompared: gates.minCompared };
  const sampleSizes = { compared };
  const base = { gate: 'mismatch' as const, thresholds, sampleSizes };

  const problem =
    countProblem('compared', compared) ??
    countProblem('mismatches', mismatches) ??
    (mismatches > compared ? 'mismatches exceed compared' : undefined);
  if (problem) return { ...base, outcome: 'inconclusive', observed: {}, reason: `unusable telemetry: ${problem}` };

  const minimum = Math.max(1, gates.minCompared);
  const rate = compared > 0 ? mismatches / compared : null;
  if (compared < minimum) {
    return {
      ...base,
      outcome: 'inconclusive',
      observed: { rate, mismatches },
      reason: `too few compared responses to judge: ${compared} (need ${minimum})`,
    };
  }
  const bounds = clopperPearsonBounds(mismatches, compared, gates.confidence);
  const observed = { rate, mismatches, lowerBound: bounds.lower, upperBound: bounds.upper };
  const conf = `${Math.round(gates.confidence * 1000) / 10}%`;
  const seen = `${mismatches} of ${compared} compared responses differ`;
  const max = percentText(gates.maxMismatchRate);
  if (bounds.upper <= gates.maxMismatchRate) {
    return { ...base, outcome: 'pass', observed, reason: `${seen}: rate at most ${percentText(bounds.upper)} at ${conf} confidence, within ${max}` };
  }
  if (bounds.lower > gates.maxMismatchRate) {
    return { ...base, outcome: 'fail', observed, reason: `${seen}: rate at least ${percentText(bounds.lower)} at ${conf} confidence, above ${max}` };
  }
  return {
    ...base,
    outcome: 'inconclusive',
    observed,
    reason: `${seen}: rate between ${percentText(bounds.lower)} and ${percentText(bounds.upper)} at ${conf} confidence; not yet clear against ${max}`,
  };
}
