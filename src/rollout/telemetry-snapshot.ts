/**
 * What the gates look at: one telemetry window, both sides measured over the
 * same interval, so a traffic or upstream change hits both equally and cancels
 * out of the comparison. The driver builds it from the store; gates never
 * query anything themselves.
 */

export interface SideStats {
  requests: number;
  /** Requests that count as errors (the driver decides: 5xx, resets, timeouts). */
  errors: number;
  /** null when the side has no latency samples in the window. */
  p95Ms: number | null;
  p99Ms: number | null;
  latencySamples: number;
}

export interface ComparisonStats {
  /** Request pairs whose responses were compared (shadow or canary compare). */
  compared: number;
  /** Compared pairs that differed after rules, noise and triage were applied. */
  mismatches: number;
}

/** Result of the plan's custom check URL, fetched by the driver. Omit it when the call timed out or failed to connect. */
export interface CustomCheckResult {
  ok: boolean;
  detail?: string;
}

export interface TelemetrySnapshot {
  legacy: SideStats;
  candidate: SideStats;
  comparisons: ComparisonStats;
  custom?: CustomCheckResult;
  /** The window the numbers cover (epoch ms), echoed into evidence. */
  window?: { from: number; to: number };
}
