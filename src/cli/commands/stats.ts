/**
 * `cutover stats [ROUTE] [--window 10m] [--json]`: legacy and candidate side
 * by side over a window, with the candidate/legacy ratio, read from the
 * admin API's /api/v1/stats.
 */
import type { Command } from 'commander';
import type { RouteStats, SeriesStats, StatsBody } from '../../controlplane/telemetry/index.ts';
import type { AdminCall } from '../admin-client.ts';
import { renderTable } from '../table.ts';

const dash = '-';

function formatMs(v: number | null): string {
  if (v === null) return dash;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  if (v >= 10) return `${v.toFixed(1)}ms`;
  return `${v.toFixed(2)}ms`;
}

const formatRate = (v: number | null): string => (v === null ? dash : `${(v * 100).toFixed(2)}%`);

/** Candidate over legacy; blank when either side has nothing to compare. */
function ratio(candidate: number | null | undefined, legacy: number | null | undefined): string {
  if (candidate === null || candidate === undefined || legacy === null || legacy === undefined || legacy === 0) return dash;
  return `${(candidate / legacy).toFixed(2)}x`;
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

type Row = [label: string, pick: (s: SeriesStats) => number | null, format: (v: number | null) => string, withRatio: boolean];

const ROWS: Row[] = [
  ['requests', (s) => s.requests, (v) => (v === null ? dash : String(v)), true],
  ['errors (5xx + failures)', (s) => s.errors, (v) => (v === null ? dash : String(v)), true],
  ['error rate', (s) => s.errorRate, formatRate, true],
  ['latency samples', (s) => s.total.count, (v) => (v === null ? dash : String(v)), false],
  ['p50', (s) => s.total.p50, formatMs, true],
  ['p90', (s) => s.total.p90, formatMs, true],
  ['p95', (s) => s.total.p95, formatMs, true],
  ['p99', (s) => s.total.p99, formatMs, true],
  ['p99.9', (s) => s.total.p999, formatMs, true],
  ['ttfb p50', (s) => s.ttfb.p50, formatMs, true],
  ['ttfb p99', (s) => s.ttfb.p99, formatMs, true],
  ['response bytes', (s) => s.responseBytes, (v) => (v === null ? dash : String(v)), true],
];

function describeComparisons(r: RouteStats): string {
  const c = r.comparisons;
  if (c.compared === 0 && c.skipped === 0) return 'no comparisons';
  const skipped = Object.entries(c.skippedByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const parts = [`${c.compared} compared`, `${c.mismatch} mismatched (${formatRate(c.mismatchRate)})`];
  if (c.skipped > 0) parts.push(`${c.skipped} skipped (${skipped})`);
  return parts.join(', ');
}

/** The table for one route; exported for tests and for `cutover report` to reuse. */
export function renderRouteStats(body: StatsBody, r: RouteStats): string {
  const legacy = r.backends.find((s) => s.backend === 'legacy');
  const candidate = r.backends.find((s) => s.backend === 'candidate');
  const roles = r.roles.map((s) => `${s.backend} ${s.role} ${s.requests}`).join('; ');
  const header = `route ${r.route}${body.endpoint ? ` ${body.endpoint}` : ''} — last ${body.window} (${formatTime(body.from)}–${formatTime(body.to)} UTC)`;
  const rows = ROWS.map(([label, pick, format, withRatio]) => {
    const l = legacy ? pick(legacy) : null;
    const c = candidate ? pick(candidate) : null;
    return [label, format(l), format(c), withRatio ? ratio(c, l) : dash];
  });
  return [header, `  traffic: ${roles || 'none'}`, `  comparisons: ${describeComparisons(r)}`, '', renderTable(['', 'LEGACY', 'CANDIDATE', 'CANDIDATE/LEGACY'], rows)].join('\n');
}

export function renderStats(body: StatsBody): string {
  if (body.routes.length === 0) return `no traffic in the last ${body.window}\n`;
  return `${body.routes.map((r) => renderRouteStats(body, r)).join('\n\n')}\n`;
}

/**
 * @example
 * registerStatsCommand(program, () => createAdminClient(resolveAdminOptions(program.opts())));
 * // $ cutover stats checkout --window 30m
 */
export function registerStatsCommand(program: Command, api: () => AdminCall, write: (text: string) => void = (text) => void process.stdout.write(text)): void {
  program
    .command('stats')
    .description('Legacy and candidate side by side: requests, error rates and latency quantiles (with sample counts) over a window')
    .argument('[route]', 'route id; every route with traffic when omitted')
    .option('--window <duration>', 'how far back: 1m up to telemetry.retention (1h by default)', '10m')
    .option('--endpoint <template>', 'narrow the route to one endpoint template')
    .option('--json', 'print the API answer as JSON')
    .action(async (route: string | undefined, flags: { window: string; endpoint?: string; json?: boolean }) => {
      const query = new URLSearchParams({ window: flags.window });
      if (route !== undefined) query.set('route', route);
      if (flags.endpoint !== undefined) query.set('endpoint', flags.endpoint);
      const body = await api()<StatsBody>('GET', `/api/v1/stats?${query.toString()}`);
      write(flags.json ? `${JSON.stringify(body, null, 2)}\n` : renderStats(body));
    });
}
