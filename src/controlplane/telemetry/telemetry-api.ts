/**
 * What other features get from `context.feature<TelemetryApi>('telemetry')`.
 * Rollout gates read windows through `query`; the comparison feature reports
 * outcomes through `recordComparison`.
 */
import type { ComparisonOutcome } from './comparison-counts.ts';
import type { TelemetryQuery, TelemetryQueryResult } from './window-query.ts';

export type { ComparisonOutcome } from './comparison-counts.ts';
export type { ComparisonSummary } from './comparison-counts.ts';
export type { ExchangeSummary, StatusClass } from './exchange-stats.ts';
export type { LatencySummary } from './latency-sketch.ts';
export type { SeriesStats, TelemetryQuery, TelemetryQueryResult } from './window-query.ts';

export interface ComparisonDetails {
  /** Lets the access log put the outcome on the request's line. */
  requestId?: string;
  /** Epoch ms the outcome belongs to; defaults to now. */
  time?: number;
}

export interface TelemetryApi {
  /**
   * Counts, error rates, latency quantiles (with sample counts) and bytes per
   * route/endpoint/backend/role over a window, plus comparison counts in the
   * same minutes. Answers from memory; the last `telemetry.retention` is
   * reloaded from the store on start, so a restart keeps the window.
   *
   * @example
   * const t = context.feature<TelemetryApi>('telemetry')!;
   * const r = t.query({ route: 'checkout', windowMs: 10 * 60_000 });
   * const cand = r.backends.find((s) => s.backend === 'candidate');
   * if (cand && cand.total.count >= 500 && (cand.total.p99 ?? 0) > 250) rollback();
   */
  query(q: TelemetryQuery): TelemetryQueryResult;
  /**
   * Counts one comparison outcome. `comparisonSkipped` events from the data
   * plane are already counted by telemetry itself; call this for what the
   * comparer decides (match, mismatch, or a skip of its own, e.g. a body it
   * could not decode).
   *
   * @example
   * telemetry.recordComparison(pair.route, pair.endpoint, 'mismatch', undefined, { requestId: pair.requestId });
   */
  recordComparison(route: string, endpoint: string, outcome: ComparisonOutcome, reason?: string, details?: ComparisonDetails): void;
  /** Writes finished minutes and comparison counts to the store now (also done every few seconds). */
  flush(): Promise<void>;
}
