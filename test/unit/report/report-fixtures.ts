/**
 * Store rows as a running cutover writes them, built through the telemetry
 * module's own recording and serialization, for report tests.
 */
import { createExchangeStats, recordExchange, serializeExchangeStats } from '../../../src/controlplane/telemetry/exchange-stats.ts';
import type { ReportInput } from '../../../src/report/build-report.ts';
import { DEFAULT_CRITERIA } from '../../../src/report/build-report.ts';
import type { ComparisonCountRow, DiffGroupRow, TelemetryBucketRow } from '../../../src/storage/store.ts';

export const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);
export const MINUTE = 60_000;

export interface SideSpec {
  n: number;
  /** Latency of response i, ms. */
  ms: number | ((i: number) => number);
  /** How many of the n are 5xx. */
  errors?: number;
  role?: 'primary' | 'shadow';
}

/** One minute bucket of `n` exchanges with the given latencies and 5xx count. */
export function bucket(route: string, endpoint: string, backend: 'legacy' | 'candidate', spec: SideSpec, minute = NOW - 10 * MINUTE): TelemetryBucketRow {
  const stats = createExchangeStats();
  const role = spec.role ?? (backend === 'legacy' ? 'primary' : 'shadow');
  for (let i = 0; i < spec.n; i++) {
    const ms = typeof spec.ms === 'number' ? spec.ms : spec.ms(i);
    recordExchange(stats, {
      requestId: `r${i}`,
      route,
      endpoint,
      method: 'GET',
      backend,
      role,
      status: i < (spec.errors ?? 0) ? 503 : 200,
      startedAt: minute,
      ttfbMs: ms / 2,
      totalMs: ms,
      requestBytes: 10,
      responseBytes: 100,
    });
  }
  return { minute, route, endpoint, backend, role, instance: 'a', data: serializeExchangeStats(stats) };
}

export function counts(route: string, endpoint: string, match: number, mismatch: number, minute = NOW - 10 * MINUTE): ComparisonCountRow[] {
  const rows: ComparisonCountRow[] = [];
  if (match > 0) rows.push({ minute, route, endpoint, outcome: 'match', reason: '', count: match });
  if (mismatch > 0) rows.push({ minute, route, endpoint, outcome: 'mismatch', reason: '', count: mismatch });
  return rows;
}

export function group(route: string, endpoint: string, path: string, count: number, extra: Partial<DiffGroupRow> = {}): DiffGroupRow {
  return {
    id: `${route}:${endpoint}:${path}`,
    route,
    method: 'GET',
    endpoint,
    path,
    kind: 'value',
    count,
    total: count,
    firstSeen: NOW - 20 * MINUTE,
    lastSeen: NOW - 5 * MINUTE,
    status: 'open',
    ...extra,
  };
}

export function sample(url: string, path: string, legacy: unknown, candidate: unknown): unknown {
  return {
    requestId: 'req-1',
    time: NOW - 6 * MINUTE,
    request: { method: 'GET', url, headers: { authorization: '[redacted:ab12]' }, body: null },
    legacy: { status: 200, headers: {}, body: null },
    candidate: { status: 200, headers: {}, body: null },
    differences: [{ kind: 'value', path: path.replace('[*]', '[0]'), generalPath: path, legacy, candidate }],
  };
}

/** A healthy endpoint: 1000 compared, all matching, 1000 responses per side at the given latencies. */
export function healthy(route: string, endpoint: string, legacyMs = 10, candidateMs = 10): Pick<ReportInput, 'counts' | 'buckets'> {
  return {
    counts: counts(route, endpoint, 1000, 0),
    buckets: [bucket(route, endpoint, 'legacy', { n: 1000, ms: legacyMs }), bucket(route, endpoint, 'candidate', { n: 1000, ms: candidateMs })],
  };
}

export function input(parts: Partial<ReportInput>): ReportInput {
  return {
    now: NOW,
    from: NOW - 86_400_000,
    to: NOW,
    counts: [],
    buckets: [],
    groups: [],
    samples: new Map(),
    noise: [],
    rollouts: [],
    audit: [],
    criteria: { ...DEFAULT_CRITERIA },
    ...parts,
  };
}
