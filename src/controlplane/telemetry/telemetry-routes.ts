/**
 * Admin endpoints of telemetry: Prometheus text at /metrics and the windowed
 * side-by-side numbers at /api/v1/stats (what `cutover stats` prints).
 */
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { formatDuration, tryParseDuration } from '../../core/duration.ts';
import type { AdminRoute } from '../admin/admin-router.ts';
import { emptyComparisonSummary, type ComparisonSummary } from './comparison-counts.ts';
import { MINUTE } from './minute-window.ts';
import type { TelemetryMetrics } from './prometheus-metrics.ts';
import type { TelemetryApi } from './telemetry-api.ts';
import type { SeriesStats } from './window-query.ts';

export const DEFAULT_STATS_WINDOW = '10m';

/**
 * Windows are whole minutes of buckets, so less than a minute would silently
 * mean "a minute or two"; more than the retention cannot be answered.
 * @example parseWindowParam('10m', 3_600_000) // 600000
 */
export function parseWindowParam(raw: string | null, retentionMs: number): number {
  const text = raw === null || raw.trim() === '' ? DEFAULT_STATS_WINDOW : raw.trim();
  const ms = tryParseDuration(text);
  const range = `between 1m and ${formatDuration(retentionMs)}`;
  if (ms === undefined) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `window "${text}" is not a duration`, { hint: `write a duration ${range}, e.g. window=10m, 30m or 1h` });
  }
  if (ms < MINUTE || ms > retentionMs) {
    throw new CutoverError(ErrorCodes.BAD_REQUEST, `window "${text}" is not ${range}`, {
      hint: `telemetry keeps per-minute buckets for telemetry.retention (${formatDuration(retentionMs)}); ask for e.g. window=10m`,
    });
  }
  return ms;
}

export interface RouteStats {
  route: string;
  /** One row per backend, primary and shadow merged: the side-by-side view. */
  backends: SeriesStats[];
  /** One row per backend and role. */
  roles: SeriesStats[];
  comparisons: ComparisonSummary;
}

export interface StatsBody {
  window: string;
  windowMs: number;
  from: number;
  to: number;
  endpoint?: string;
  routes: RouteStats[];
}

export interface TelemetryRoutesDeps {
  api: TelemetryApi;
  metrics: TelemetryMetrics;
  retentionMs: () => number;
  routeIds: () => string[];
}

export function metricsRoute(metrics: TelemetryMetrics, auth: boolean): AdminRoute {
  return {
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics: per-route upstream counters and latency histograms, comparisons, process and data-plane load',
    tag: 'telemetry',
    auth,
    handler: async () => ({ raw: await metrics.render(), contentType: metrics.contentType }),
  };
}

/**
 * @example
 * const routes = createTelemetryRoutes({ api, metrics, retentionMs: () => 3_600_000, routeIds: () => routing.routeIds() });
 */
export function createTelemetryRoutes(deps: TelemetryRoutesDeps): AdminRoute[] {
  return [
    metricsRoute(deps.metrics, true),
    {
      method: 'GET',
      path: '/api/v1/stats',
      summary: 'Per-backend counts, error rates and latency quantiles (with sample counts) over a window, legacy and candidate side by side',
      tag: 'telemetry',
      query: {
        route: 'route id; all routes with traffic when omitted',
        endpoint: 'endpoint template, to narrow a route to one endpoint',
        window: `duration from 1m to telemetry.retention (default ${DEFAULT_STATS_WINDOW})`,
      },
      handler: (req) => {
        const windowMs = parseWindowParam(req.query.get('window'), deps.retentionMs());
        const route = req.query.get('route') || undefined;
        const endpoint = req.query.get('endpoint') || undefined;
        const r = deps.api.query({ route, endpoint, windowMs });
        if (route !== undefined && r.series.length === 0 && r.comparisons.length === 0 && !deps.routeIds().includes(route)) {
          throw new CutoverError(ErrorCodes.NOT_FOUND, `route "${route}" does not exist and has no traffic in the last ${formatDuration(windowMs)}`, {
            hint: `known routes: ${deps.routeIds().join(', ')}`,
          });
        }
        const ids = new Set<string>([...r.backends.map((s) => s.route), ...r.comparisonTotals.map((c) => c.route)]);
        if (route !== undefined) ids.add(route);
        const body: StatsBody = {
          window: formatDuration(windowMs),
          windowMs,
          from: r.from,
          to: r.to,
          ...(endpoint !== undefined ? { endpoint } : {}),
          routes: [...ids].sort().map((id) => ({
            route: id,
            backends: r.backends.filter((s) => s.route === id),
            roles: r.totals.filter((s) => s.route === id),
            comparisons: r.comparisonTotals.find((c) => c.route === id) ?? emptyComparisonSummary(id, '*'),
          })),
        };
        return { body };
      },
    },
  ];
}
