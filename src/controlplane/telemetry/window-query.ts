/**
 * Answers "what did each backend do over the last N minutes": merges whole
 * minutes, then rolls series up to the views gates and people ask for.
 *
 * A window covers every minute bucket that overlaps `[now - windowMs, now]`,
 * so a 10m window spans ten full minutes plus the current partial one. The
 * answer says exactly which span it covers (`from`, `to`) and every latency
 * summary carries its sample count, so a gate can refuse to decide on too
 * little data.
 */
import type { BackendName } from '../../config/schema.ts';
import type { Role } from '../../dataplane/events.ts';
import { addToComparisonSummary, emptyComparisonSummary, type ComparisonCounts, type ComparisonSummary } from './comparison-counts.ts';
import { createExchangeStats, mergeExchangeStats, summarizeExchangeStats, type ExchangeStats, type ExchangeSummary } from './exchange-stats.ts';
import { minuteOf, type MinuteWindow } from './minute-window.ts';

export interface TelemetryQuery {
  route?: string;
  /** Several routes at once (a component); `combined` then merges them with exact quantiles. */
  routes?: readonly string[];
  endpoint?: string;
  /** Window length in ms; `Infinity` adds everything since start, including minutes that aged out of memory. */
  windowMs: number;
  /** Defaults to the current time. */
  now?: number;
}

export interface SeriesStats extends ExchangeSummary {
  route: string;
  /** `*` when endpoints are merged. */
  endpoint: string;
  backend: BackendName;
  /** `all` when primary and shadow are merged. */
  role: Role | 'all';
}

export interface TelemetryQueryResult {
  windowMs: number;
  /** Start of the oldest minute counted. */
  from: number;
  /** The query time. */
  to: number;
  /** Per route, endpoint, backend and role. */
  series: SeriesStats[];
  /** Per route, backend and role, endpoints merged (endpoint `*`). */
  totals: SeriesStats[];
  /** Per route and backend, endpoints and roles merged (endpoint `*`, role `all`): the side-by-side view. */
  backends: SeriesStats[];
  /** Per backend over every selected route (route `*`, endpoint `*`, role `all`); sketches merged, so quantiles are exact to 1%. */
  combined: SeriesStats[];
  /** Per route and endpoint. */
  comparisons: ComparisonSummary[];
  /** Per route (endpoint `*`). */
  comparisonTotals: ComparisonSummary[];
  /** Every selected route together (route `*`, endpoint `*`). */
  comparisonCombined: ComparisonSummary;
}

const BACKEND_ORDER: Record<string, number> = { legacy: 0, candidate: 1, replica: 2 };
const ROLE_ORDER: Record<string, number> = { primary: 0, shadow: 1, all: 2 };

function bySeries(a: SeriesStats, b: SeriesStats): number {
  if (a.route !== b.route) return a.route < b.route ? -1 : 1;
  if (a.endpoint !== b.endpoint) return a.endpoint < b.endpoint ? -1 : 1;
  if (a.backend !== b.backend) return (BACKEND_ORDER[a.backend] ?? 9) - (BACKEND_ORDER[b.backend] ?? 9);
  return (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9);
}

const byComparison = (a: ComparisonSummary, b: ComparisonSummary) =>
  a.route !== b.route ? (a.route < b.route ? -1 : 1) : a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;

/**
 * @example
 * const r = queryWindow(window, counts, { route: 'checkout', windowMs: 600_000 });
 * const legacy = r.backends.find((s) => s.backend === 'legacy');
 * legacy?.total.p99; // ms, from legacy?.total.count samples
 */
export function queryWindow(window: MinuteWindow, counts: ComparisonCounts, q: TelemetryQuery): TelemetryQueryResult {
  const now = q.now ?? Date.now();
  const all = q.windowMs === Infinity;
  const toMinute = minuteOf(now);
  const fromMinute = all ? -Infinity : minuteOf(now - Math.max(0, q.windowMs));
  const routes = q.routes === undefined ? undefined : new Set(q.routes);
  const merged = window.collect({ route: q.route, routes, endpoint: q.endpoint, fromMinute, toMinute, includeArchive: all });

  const series: SeriesStats[] = [];
  const totals = new Map<string, { route: string; backend: BackendName; role: Role | 'all'; stats: ExchangeStats }>();
  const rollUp = (id: string, route: string, backend: BackendName, role: Role | 'all', stats: ExchangeStats) => {
    let t = totals.get(id);
    if (t === undefined) {
      t = { route, backend, role, stats: createExchangeStats() };
      totals.set(id, t);
    }
    mergeExchangeStats(t.stats, stats);
  };
  for (const { key, stats } of merged.values()) {
    series.push({ route: key.route, endpoint: key.endpoint, backend: key.backend, role: key.role, ...summarizeExchangeStats(stats) });
    rollUp(`${key.route}\n${key.backend}\n${key.role}`, key.route, key.backend, key.role, stats);
    rollUp(`${key.route}\n${key.backend}\nall`, key.route, key.backend, 'all', stats);
    rollUp(`*\n${key.backend}`, '*', key.backend, 'all', stats);
  }
  const totalRows: SeriesStats[] = [];
  const backendRows: SeriesStats[] = [];
  const combinedRows: SeriesStats[] = [];
  for (const t of totals.values()) {
    const row: SeriesStats = { route: t.route, endpoint: '*', backend: t.backend, role: t.role, ...summarizeExchangeStats(t.stats) };
    (t.route === '*' ? combinedRows : t.role === 'all' ? backendRows : totalRows).push(row);
  }

  const comparisons = new Map<string, ComparisonSummary>();
  const comparisonTotals = new Map<string, ComparisonSummary>();
  const comparisonCombined = emptyComparisonSummary('*', '*');
  counts.forEach(fromMinute, toMinute, (route, endpoint, outcome, reason, count) => {
    if ((q.route !== undefined && route !== q.route) || (routes !== undefined && !routes.has(route)) || (q.endpoint !== undefined && endpoint !== q.endpoint)) return;
    addToComparisonSummary(comparisonCombined, outcome, reason, count);
    const k = `${route}\n${endpoint}`;
    let s = comparisons.get(k);
    if (s === undefined) comparisons.set(k, (s = emptyComparisonSummary(route, endpoint)));
    addToComparisonSummary(s, outcome, reason, count);
    let t = comparisonTotals.get(route);
    if (t === undefined) comparisonTotals.set(route, (t = emptyComparisonSummary(route, '*')));
    addToComparisonSummary(t, outcome, reason, count);
  });

  const minutes = window.minutes();
  return {
    windowMs: q.windowMs,
    from: all ? (minutes[0] ?? toMinute) : fromMinute,
    to: now,
    series: series.sort(bySeries),
    totals: totalRows.sort(bySeries),
    backends: backendRows.sort(bySeries),
    combined: combinedRows.sort(bySeries),
    comparisons: [...comparisons.values()].sort(byComparison),
    comparisonTotals: [...comparisonTotals.values()].sort(byComparison),
    comparisonCombined,
  };
}

