/**
 * Custom gate: the verdict of an external check URL (business metrics, an
 * SLO service). The driver makes the HTTP call; this only interprets it.
 */
import type { GatesConfig } from '../config/rollout-schema.ts';
import type { GateResult } from './gate-result.ts';
import type { TelemetrySnapshot } from './telemetry-snapshot.ts';

/**
 * A missing result (timeout, connection refused) is inconclusive rather than a
 * failure: an unreachable checker says nothing about the candidate, and
 * treating it as a fail would let a flaky checker roll back a healthy rollout.
 *
 * @example evaluateCustom({ …, custom: { ok: false, detail: 'checkout conversion -4%' } }, gates).outcome // 'fail'
 */
export function evaluateCustom(snapshot: TelemetrySnapshot, gates: GatesConfig): GateResult {
  const base = {
    gate: 'custom' as const,
    observed: { ok: snapshot.custom === undefined ? null : snapshot.custom.ok ? 1 : 0 },
    thresholds: { timeoutMs: gates.custom?.timeout ?? null },
    sampleSizes: {},
  };
  const where = gates.custom ? ` (${gates.custom.url})` : '';
  if (snapshot.custom === undefined) return { ...base, outcome: 'inconclusive', reason: `no answer from the check URL${where}` };
  const detail = snapshot.custom.detail ? `: ${snapshot.custom.detail}` : '';
  return snapshot.custom.ok
    ? { ...base, outcome: 'pass', reason: `check URL passed${detail}` }
    : { ...base, outcome: 'fail', reason: `check URL failed${detail}` };
}
