/**
 * Builds the rollout core's `TelemetrySnapshot` from the telemetry feature's
 * window query: legacy vs candidate over one window, summed across a plan's
 * routes, both sides from the same minutes.
 *
 * Telemetry keeps per-minute buckets, so a query reaches back to the start of
 * the minute containing `from`. Right after a step change that minute still
 * holds the previous step's traffic. For counts (requests, errors, latency
 * samples, compared pairs, mismatches) the driver removes it by subtracting a
 * baseline taken when the step began; quantiles cannot be subtracted and stay
 * blended with up to one minute of the previous step.
 */
import { MINUTE, minuteOf } from '../../core/clock.ts';
import type { SideStats, TelemetrySnapshot } from '../../rollout/index.ts';
import type { SeriesStats, TelemetryApi } from '../telemetry/telemetry-api.ts';

/** Counts that can be subtracted; quantiles cannot. */
export interface WindowCounts {
  legacy: { requests: number; errors: number; latencySamples: number };
  candidate: { requests: number; errors: number; latencySamples: number };
  compared: number;
  mismatches: number;
}

/** The current minute's counts at the moment a step began. */
export interface StepBaseline {
  /** When the step began (the state's stepStartedAt). */
  at: number;
  /** Start of the telemetry minute the counts belong to. */
  minute: number;
  counts: WindowCounts;
}


interface Side {
  requests: number;
  errors: number;
  latencySamples: number;
  /** Sample-weighted sums of the quantiles across routes (see weightedQuantile). */
  p95Sum: number;
  p99Sum: number;
  p95Weight: number;
  p99Weight: number;
}

const emptySide = (): Side => ({ requests: 0, errors: 0, latencySamples: 0, p95Sum: 0, p99Sum: 0, p95Weight: 0, p99Weight: 0 });

function addSeries(side: Side, row: SeriesStats): void {
  side.requests += row.requests;
  side.errors += row.errors;
  side.latencySamples += row.total.count;
  // Telemetry has no sketch merged across routes; a sample-weighted mean of per-route quantiles is close for routes of similar shape and exact for one route.
  if (row.total.p95 !== null) {
    side.p95Sum += row.total.p95 * row.total.count;
    side.p95Weight += row.total.count;
  }
  if (row.total.p99 !== null) {
    side.p99Sum += row.total.p99 * row.total.count;
    side.p99Weight += row.total.count;
  }
}

function windowTotals(api: TelemetryApi, routes: readonly string[], from: number, to: number): { legacy: Side; candidate: Side; compared: number; mismatches: number } {
  const legacy = emptySide();
  const candidate = emptySide();
  let compared = 0;
  let mismatches = 0;
  for (const route of routes) {
    const result = api.query({ route, windowMs: Math.max(0, to - from), now: to });
    for (const row of result.backends) {
      if (row.route !== route) continue;
      if (row.backend === 'legacy') addSeries(legacy, row);
      else if (row.backend === 'candidate') addSeries(candidate, row);
    }
    for (const c of result.comparisonTotals) {
      if (c.route !== route) continue;
      compared += c.compared;
      mismatches += c.mismatch;
    }
  }
  return { legacy, candidate, compared, mismatches };
}

/**
 * Counts in the telemetry minute that contains `at`, up to now; taken when a
 * step begins so evaluations can leave out what that minute saw before.
 *
 * @example const baseline = stepBaseline(telemetry, state.routes, state.stepStartedAt!);
 */
export function stepBaseline(api: TelemetryApi, routes: readonly string[], at: number): StepBaseline {
  const t = windowTotals(api, routes, at, at);
  return {
    at,
    minute: minuteOf(at),
    counts: {
      legacy: { requests: t.legacy.requests, errors: t.legacy.errors, latencySamples: t.legacy.latencySamples },
      candidate: { requests: t.candidate.requests, errors: t.candidate.errors, latencySamples: t.candidate.latencySamples },
      compared: t.compared,
      mismatches: t.mismatches,
    },
  };
}

const nonNegative = (n: number) => Math.max(0, n);

function toSideStats(side: Side, minus: WindowCounts['legacy'] | undefined): SideStats {
  return {
    requests: nonNegative(side.requests - (minus?.requests ?? 0)),
    errors: nonNegative(side.errors - (minus?.errors ?? 0)),
    p95Ms: side.p95Weight > 0 ? side.p95Sum / side.p95Weight : null,
    p99Ms: side.p99Weight > 0 ? side.p99Sum / side.p99Weight : null,
    latencySamples: nonNegative(side.latencySamples - (minus?.latencySamples ?? 0)),
  };
}

/**
 * The snapshot the gates judge for `[from, to]`. `baseline` (taken when the
 * step began) is subtracted when the window's first minute is the step's
 * first minute; otherwise that minute lies wholly inside the step anyway.
 *
 * @example
 * const { from, to } = evaluationWindow(state, Date.now())!;
 * const snapshot = buildTelemetrySnapshot(telemetry, state.routes, from, to, baseline);
 */
export function buildTelemetrySnapshot(
  api: TelemetryApi,
  routes: readonly string[],
  from: number,
  to: number,
  baseline?: StepBaseline,
): TelemetrySnapshot {
  const t = windowTotals(api, routes, from, to);
  const subtract = baseline !== undefined && baseline.minute === minuteOf(from) ? baseline.counts : undefined;
  return {
    legacy: toSideStats(t.legacy, subtract?.legacy),
    candidate: toSideStats(t.candidate, subtract?.candidate),
    comparisons: {
      compared: nonNegative(t.compared - (subtract?.compared ?? 0)),
      mismatches: nonNegative(t.mismatches - (subtract?.mismatches ?? 0)),
    },
    // Say which span the numbers really cover: from the step start when the baseline was subtracted, else from the minute boundary.
    window: { from: subtract ? Math.max(baseline!.at, minuteOf(from)) : minuteOf(from), to },
  };
}

/** A snapshot with nothing in it, for when telemetry is not running: every gate comes out inconclusive, never failed. */
export function emptySnapshot(from: number, to: number): TelemetrySnapshot {
  const side: SideStats = { requests: 0, errors: 0, p95Ms: null, p99Ms: null, latencySamples: 0 };
  return { legacy: { ...side }, candidate: { ...side }, comparisons: { compared: 0, mismatches: 0 }, window: { from, to } };
}
