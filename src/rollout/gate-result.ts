/**
 * What one gate concluded and why, with enough numbers that an audit reader
 * can redo the arithmetic without the telemetry.
 */

export type GateName = 'errorRate' | 'latency' | 'mismatch' | 'custom';
export type GateOutcome = 'pass' | 'fail' | 'inconclusive';

export interface GateResult {
  gate: GateName;
  outcome: GateOutcome;
  /** Measured values and derived bounds; null when not measurable. */
  observed: Record<string, number | null>;
  thresholds: Record<string, number | null>;
  sampleSizes: Record<string, number>;
  reason: string;
}

/**
 * Any fail wins, then any inconclusive; pass only when every gate passes.
 *
 * @example combineOutcomes(['pass', 'inconclusive']) // 'inconclusive'
 */
export function combineOutcomes(outcomes: Iterable<GateOutcome>): GateOutcome {
  let result: GateOutcome = 'pass';
  for (const o of outcomes) {
    if (o === 'fail') return 'fail';
    if (o === 'inconclusive') result = 'inconclusive';
  }
  return result;
}

/** Why a count from telemetry cannot be trusted, or undefined when it is fine. */
export function countProblem(name: string, value: number): string | undefined {
  return Number.isInteger(value) && value >= 0 ? undefined : `${name} is ${value}, not a whole number ≥ 0`;
}
