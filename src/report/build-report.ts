/**
 * The Go/No-Go report as data: store rows in, verdicts and their evidence
 * out. No clock, no I/O, so every verdict can be pinned by a table test and
 * the renderers (markdown, HTML, JSON) only ever format what is decided here.
 *
 * Each endpoint (route + endpoint template) gets one verdict from its checks:
 * - mismatch groups: any open group that is not noise blocks (a person has to
 *   accept or ignore it, or the candidate has to be fixed);
 * - mismatch rate, only when a maximum is configured: 95% upper bound;
 * - error rate: the candidate's 95% upper bound against legacy's observed rate plus a margin;
 * - latency: candidate p95 / legacy p95 against a maximum ratio.
 * A check that fails is No-Go. A check that cannot decide (too few samples,
 * or a bound still too wide to tell) is "insufficient data", which is No-Go
 * unless the caller allows it.
 */
import { createComparisonCounts } from '../controlplane/telemetry/comparison-counts.ts';
import type { ExchangeSummary } from '../controlplane/telemetry/exchange-stats.ts';
import { createMinuteWindow, type SeriesKey } from '../controlplane/telemetry/minute-window.ts';
import { queryWindow, type SeriesStats } from '../controlplane/telemetry/window-query.ts';
import { effectiveGroup } from '../controlplane/comparison/triage.ts';
import { clopperPearsonBounds, parseRolloutState, summarizeState } from '../rollout/index.ts';
import type { AuditEntry, ComparisonCountRow, DiffGroupRow, NoiseRow, TelemetryBucketRow } from '../storage/store.ts';

/** Confidence of every bound in the report (one-sided). */
export const REPORT_CONFIDENCE = 0.95;

export interface ReportCriteria {
  /** Candidate p95 / legacy p95 at most this (0.7 = "at least 30% faster"). */
  maxP95Ratio: number;
  /** Candidate error-rate upper bound at most legacy's observed rate plus this. */
  errorRateMargin: number;
  /** Mismatch-rate upper bound at most this; unchecked when undefined. */
  maxMismatchRate?: number;
  minCompared: number;
  minRequests: number;
  /** Insufficient endpoints do not block an overall Go. */
  allowInsufficient: boolean;
}

export const DEFAULT_CRITERIA: ReportCriteria = {
  maxP95Ratio: 1.1,
  errorRateMargin: 0.01,
  minCompared: 100,
  minRequests: 100,
  allowInsufficient: false,
};

export type Verdict = 'go' | 'no-go' | 'insufficient';
export type CheckOutcome = 'pass' | 'fail' | 'insufficient';
export type CheckName = 'mismatch-groups' | 'mismatch-rate' | 'error-rate' | 'latency';

export interface Check {
  name: CheckName;
  outcome: CheckOutcome;
  /** One sentence with the numbers that decided it. */
  detail: string;
}

export interface ReportInput {
  /** When the report is made; decides whether a triage has expired. */
  now: number;
  from: number;
  to: number;
  /** Only this route, when the report was asked for one. */
  route?: string;
  counts: readonly ComparisonCountRow[];
  buckets: readonly TelemetryBucketRow[];
  /** Groups seen in the window, any status. */
  groups: readonly DiffGroupRow[];
  /** The first stored sample of each group, by group id (already redacted). */
  samples: ReadonlyMap<string, unknown>;
  noise: readonly NoiseRow[];
  rollouts: ReadonlyArray<{ key: string; state: unknown }>;
  /** Audit entries of the routes and rollout keys (and `*`), newest first. */
  audit: readonly AuditEntry[];
  criteria: ReportCriteria;
  /** Differences listed per endpoint (the largest groups). */
  topDifferences?: number;
}

export interface DifferenceExample {
  method: string;
  url: string;
  legacyStatus: number | null;
  candidateStatus: number | null;
  /** The difference at the group's path, as the comparer recorded it (previews, redacted). */
  path: string | null;
  legacy?: unknown;
  candidate?: unknown;
  detail?: string;
}

export interface DifferenceRow {
  id: string;
  method: string;
  path: string;
  kind: string;
  count: number;
  /** Status after triage expiry: an expired accept is open again. */
  status: 'open' | 'accepted' | 'ignored';
  /** The path is learned or confirmed noise: listed, never blocking. */
  noise: boolean;
  /** Open and not noise. */
  blocking: boolean;
  triageReason: string | null;
  firstSeen: number;
  lastSeen: number;
  example: DifferenceExample | null;
}

export interface SideNumbers {
  requests: number;
  errors: number;
  errorRate: number | null;
  /** Clopper-Pearson upper bound of the error rate; null without requests. */
  errorRateUpper: number | null;
  /** Responses with a latency (failures and client aborts have none). */
  latencyCount: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  byRole: Array<{ role: string; requests: number; errors: number; errorRate: number | null; p95: number | null }>;
}

export interface EndpointReport {
  route: string;
  endpoint: string;
  verdict: Verdict;
  checks: Check[];
  comparison: {
    compared: number;
    match: number;
    mismatch: number;
    skipped: number;
    skippedByReason: Record<string, number>;
    mismatchRate: number | null;
    mismatchRateUpper: number | null;
  };
  /** Groups by count, largest first, at most `topDifferences`. */
  differences: DifferenceRow[];
  /** All groups of the endpoint, by status (the list above may be cut). */
  groupCounts: { open: number; blocking: number; accepted: number; ignored: number; noise: number };
  legacy: SideNumbers;
  candidate: SideNumbers;
  /** candidate / legacy; null when either side has no latency. */
  ratios: { p50: number | null; p95: number | null; p99: number | null };
}

export interface RolloutSummary {
  key: string;
  status: string;
  step: number;
  stepLabel: string;
  steps: number;
  reason: string | null;
  updatedAt: number;
  /** Set when the stored state could not be read. */
  problem?: string;
}

export interface HistoryEntry {
  time: number;
  subject: string;
  action: string;
  actor: string;
  from?: unknown;
  to?: unknown;
}

export interface RouteReport {
  route: string;
  verdict: Verdict;
  rollout: RolloutSummary | null;
  /** Audit entries for the route and its rollout, newest first. */
  history: HistoryEntry[];
  endpoints: EndpointReport[];
}

export interface Report {
  generatedAt: number;
  from: number;
  to: number;
  route: string | null;
  criteria: ReportCriteria;
  confidence: number;
  verdict: 'go' | 'no-go';
  /** Why the overall verdict is what it is, one line each. */
  reasons: string[];
  totals: { endpoints: number; go: number; noGo: number; insufficient: number };
  routes: RouteReport[];
  /** Global actions (kill switch) in the window, newest first. */
  globalHistory: HistoryEntry[];
  /** Stored rows that could not be read (written by another version, damaged). */
  unreadableBuckets: number;
}

const HISTORY_LIMIT = 20;

const endpointKey = (route: string, endpoint: string) => `${route}\n${endpoint}`;

function emptySide(): SideNumbers {
  return { requests: 0, errors: 0, errorRate: null, errorRateUpper: null, latencyCount: 0, p50: null, p95: null, p99: null, byRole: [] };
}

function sideFrom(all: ExchangeSummary | undefined, roles: SeriesStats[]): SideNumbers {
  if (all === undefined) return emptySide();
  return {
    requests: all.requests,
    errors: all.errors,
    errorRate: all.errorRate,
    errorRateUpper: all.requests > 0 ? clopperPearsonBounds(all.errors, all.requests, REPORT_CONFIDENCE).upper : null,
    latencyCount: all.total.count,
    p50: all.total.p50,
    p95: all.total.p95,
    p99: all.total.p99,
    byRole: roles.map((r) => ({ role: r.role, requests: r.requests, errors: r.errors, errorRate: r.errorRate, p95: r.total.p95 })),
  };
}

function ratio(candidate: number | null, legacy: number | null): number | null {
  if (candidate === null || legacy === null) return null;
  if (legacy === 0) return candidate === 0 ? 1 : null;
  return candidate / legacy;
}

const pct = (v: number | null): string => (v === null ? '-' : `${(100 * v).toFixed(v !== 0 && v < 0.001 ? 3 : 2)}%`);
const fixed = (v: number | null, d = 2): string => (v === null ? '-' : v.toFixed(d));

function exampleOf(sample: unknown, group: DiffGroupRow): DifferenceExample | null {
  if (sample === null || typeof sample !== 'object') return null;
  const s = sample as {
    request?: { method?: unknown; url?: unknown };
    legacy?: { status?: unknown };
    candidate?: { status?: unknown };
    differences?: Array<{ path?: unknown; generalPath?: unknown; legacy?: unknown; candidate?: unknown; detail?: unknown; kind?: unknown }>;
  };
  const diffs = Array.isArray(s.differences) ? s.differences : [];
  const d = diffs.find((x) => x.generalPath === group.path && x.kind === group.kind) ?? diffs.find((x) => x.generalPath === group.path) ?? diffs[0];
  const out: DifferenceExample = {
    method: typeof s.request?.method === 'string' ? s.request.method : group.method,
    url: typeof s.request?.url === 'string' ? s.request.url : '',
    legacyStatus: typeof s.legacy?.status === 'number' ? s.legacy.status : null,
    candidateStatus: typeof s.candidate?.status === 'number' ? s.candidate.status : null,
    path: typeof d?.path === 'string' ? d.path : null,
  };
  if (d !== undefined && 'legacy' in d) out.legacy = d.legacy;
  if (d !== undefined && 'candidate' in d) out.candidate = d.candidate;
  if (typeof d?.detail === 'string') out.detail = d.detail;
  return out;
}

/**
 * Three-valued bound check: pass when the upper bound is within the limit,
 * fail when even the point estimate is beyond it, otherwise the sample cannot
 * tell yet.
 */
function boundCheck(point: number, upper: number, limit: number): CheckOutcome {
  if (upper <= limit) return 'pass';
  if (point > limit) return 'fail';
  return 'insufficient';
}

function checkGroups(groups: DifferenceRow[], compared: number, c: ReportCriteria): Check {
  const blocking = groups.filter((g) => g.blocking);
  if (blocking.length > 0) {
    const n = blocking.reduce((a, g) => a + g.count, 0);
    const list = blocking
      .slice(0, 3)
      .map((g) => `${g.method} ${g.path} ${g.kind}`)
      .join('; ');
    return {
      name: 'mismatch-groups',
      outcome: 'fail',
      detail: `${blocking.length} open mismatch group${blocking.length === 1 ? '' : 's'} (${n} mismatches): ${list}${blocking.length > 3 ? '; …' : ''}`,
    };
  }
  if (compared < c.minCompared) return { name: 'mismatch-groups', outcome: 'insufficient', detail: `${compared} compared pairs, fewer than ${c.minCompared}` };
  return { name: 'mismatch-groups', outcome: 'pass', detail: `no open mismatch group over ${compared} compared pairs` };
}

function checkMismatchRate(cmp: EndpointReport['comparison'], max: number, c: ReportCriteria): Check {
  if (cmp.compared < c.minCompared || cmp.mismatchRate === null || cmp.mismatchRateUpper === null) {
    return { name: 'mismatch-rate', outcome: 'insufficient', detail: `${cmp.compared} compared pairs, fewer than ${c.minCompared}` };
  }
  const outcome = boundCheck(cmp.mismatchRate, cmp.mismatchRateUpper, max);
  return {
    name: 'mismatch-rate',
    outcome,
    detail: `mismatch rate ${pct(cmp.mismatchRate)} (upper bound ${pct(cmp.mismatchRateUpper)}) against a maximum of ${pct(max)}`,
  };
}

function checkErrors(legacy: SideNumbers, candidate: SideNumbers, c: ReportCriteria): Check {
  if (legacy.requests < c.minRequests || candidate.requests < c.minRequests) {
    return {
      name: 'error-rate',
      outcome: 'insufficient',
      detail: `${legacy.requests} legacy and ${candidate.requests} candidate requests; each needs ${c.minRequests}`,
    };
  }
  const limit = (legacy.errorRate ?? 0) + c.errorRateMargin;
  const outcome = boundCheck(candidate.errorRate ?? 0, candidate.errorRateUpper ?? 1, limit);
  const verb = outcome === 'pass' ? 'within' : outcome === 'fail' ? 'above' : 'not yet provably within';
  return {
    name: 'error-rate',
    outcome,
    detail: `candidate ${pct(candidate.errorRate)} (upper bound ${pct(candidate.errorRateUpper)}) is ${verb} legacy ${pct(legacy.errorRate)} + ${pct(c.errorRateMargin)} = ${pct(limit)}`,
  };
}

function checkLatency(legacy: SideNumbers, candidate: SideNumbers, p95Ratio: number | null, c: ReportCriteria): Check {
  if (legacy.latencyCount < c.minRequests || candidate.latencyCount < c.minRequests || p95Ratio === null) {
    return {
      name: 'latency',
      outcome: 'insufficient',
      detail: `${legacy.latencyCount} legacy and ${candidate.latencyCount} candidate latencies; each needs ${c.minRequests}`,
    };
  }
  const outcome: CheckOutcome = p95Ratio <= c.maxP95Ratio ? 'pass' : 'fail';
  return {
    name: 'latency',
    outcome,
    detail: `p95 ${fixed(candidate.p95)} ms vs ${fixed(legacy.p95)} ms = ${fixed(p95Ratio)}x, ${outcome === 'pass' ? 'within' : 'above'} the maximum ${c.maxP95Ratio}x`,
  };
}

function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((k) => k.outcome === 'fail')) return 'no-go';
  if (checks.some((k) => k.outcome === 'insufficient')) return 'insufficient';
  return 'go';
}

function worst(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('no-go')) return 'no-go';
  if (verdicts.includes('insufficient') || verdicts.length === 0) return 'insufficient';
  return 'go';
}

function historyOf(e: AuditEntry): HistoryEntry {
  const h: HistoryEntry = { time: e.time, subject: e.subject, action: e.action, actor: e.actor };
  if (e.from !== undefined) h.from = e.from;
  if (e.to !== undefined) h.to = e.to;
  return h;
}

function rolloutsByRoute(rollouts: ReportInput['rollouts']): Map<string, RolloutSummary> {
  const out = new Map<string, RolloutSummary>();
  for (const { key, state } of rollouts) {
    try {
      const s = parseRolloutState(state);
      const sum = summarizeState(s);
      const summary: RolloutSummary = { key, status: sum.status, step: sum.step, stepLabel: sum.stepLabel, steps: s.plan.steps.length, reason: s.reason, updatedAt: s.updatedAt };
      for (const r of s.routes) out.set(r, summary);
    } catch (err) {
      const routes = (state as { routes?: unknown } | null)?.routes;
      const summary: RolloutSummary = { key, status: 'unknown', step: 0, stepLabel: '', steps: 0, reason: null, updatedAt: 0, problem: (err as Error).message };
      if (Array.isArray(routes)) for (const r of routes) if (typeof r === 'string') out.set(r, summary);
    }
  }
  return out;
}

/**
 * @example
 * const report = buildReport({ now, from: now - 86_400_000, to: now, counts, buckets, groups, samples, noise, rollouts, audit, criteria: DEFAULT_CRITERIA });
 * report.verdict; // 'go' | 'no-go'
 * report.routes[0].endpoints[0].checks; // what decided it, with the numbers
 */
export function buildReport(input: ReportInput): Report {
  const c = input.criteria;
  const keep = (route: string) => input.route === undefined || route === input.route;
  const top = input.topDifferences ?? 5;

  // The telemetry module's own merge and query code, fed from stored rows.
  const window = createMinuteWindow();
  const unreadableBuckets = window.load(
    input.buckets.filter((b) => keep(b.route)),
    (k: SeriesKey) => k,
  );
  const counts = createComparisonCounts();
  for (const row of input.counts) if (keep(row.route)) counts.load(row);

  const endpoints = new Map<string, { route: string; endpoint: string }>();
  const see = (route: string, endpoint: string) => {
    if (keep(route)) endpoints.set(endpointKey(route, endpoint), { route, endpoint });
  };
  for (const b of input.buckets) see(b.route, b.endpoint);
  for (const r of input.counts) see(r.route, r.endpoint);
  for (const g of input.groups) see(g.route, g.endpoint);

  const noiseKeys = new Set(input.noise.filter((n) => n.status !== 'rejected').map((n) => `${n.route}\n${n.endpoint}\n${n.path}\n${n.kind}`));
  const groupsByEndpoint = new Map<string, DifferenceRow[]>();
  for (const row of input.groups) {
    if (!keep(row.route)) continue;
    const g = effectiveGroup(row, input.now);
    const noise = noiseKeys.has(`${row.route}\n${row.endpoint}\n${row.path}\n${row.kind}`);
    const d: DifferenceRow = {
      id: row.id,
      method: row.method,
      path: row.path,
      kind: row.kind,
      count: row.count,
      status: g.status,
      noise,
      blocking: g.status === 'open' && !noise,
      triageReason: g.status !== 'open' ? (row.triage?.reason ?? null) : null,
      firstSeen: row.firstSeen,
      lastSeen: row.lastSeen,
      example: exampleOf(input.samples.get(row.id), row),
    };
    const k = endpointKey(row.route, row.endpoint);
    let list = groupsByEndpoint.get(k);
    if (list === undefined) groupsByEndpoint.set(k, (list = []));
    list.push(d);
  }

  const reports: EndpointReport[] = [];
  for (const { route, endpoint } of endpoints.values()) {
    const q = queryWindow(window, counts, { route, endpoint, windowMs: Infinity, now: input.to });
    const side = (backend: string) =>
      sideFrom(
        q.backends.find((s) => s.backend === backend),
        q.totals.filter((s) => s.backend === backend),
      );
    const legacy = side('legacy');
    const candidate = side('candidate');
    const cs = q.comparisons[0];
    const compared = cs?.compared ?? 0;
    const comparison: EndpointReport['comparison'] = {
      compared,
      match: cs?.match ?? 0,
      mismatch: cs?.mismatch ?? 0,
      skipped: cs?.skipped ?? 0,
      skippedByReason: cs?.skippedByReason ?? {},
      mismatchRate: cs?.mismatchRate ?? null,
      mismatchRateUpper: compared > 0 ? clopperPearsonBounds(cs!.mismatch, compared, REPORT_CONFIDENCE).upper : null,
    };
    const groups = (groupsByEndpoint.get(endpointKey(route, endpoint)) ?? []).sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen || (a.id < b.id ? -1 : 1));
    const ratios = { p50: ratio(candidate.p50, legacy.p50), p95: ratio(candidate.p95, legacy.p95), p99: ratio(candidate.p99, legacy.p99) };
    const checks: Check[] = [checkGroups(groups, compared, c)];
    if (c.maxMismatchRate !== undefined) checks.push(checkMismatchRate(comparison, c.maxMismatchRate, c));
    checks.push(checkErrors(legacy, candidate, c), checkLatency(legacy, candidate, ratios.p95, c));
    reports.push({
      route,
      endpoint,
      verdict: verdictOf(checks),
      checks,
      comparison,
      // Blocking groups first, so a cut list never hides what blocks.
      differences: [...groups.filter((g) => g.blocking), ...groups.filter((g) => !g.blocking)].slice(0, top),
      groupCounts: {
        open: groups.filter((g) => g.status === 'open').length,
        blocking: groups.filter((g) => g.blocking).length,
        accepted: groups.filter((g) => g.status === 'accepted').length,
        ignored: groups.filter((g) => g.status === 'ignored').length,
        noise: groups.filter((g) => g.noise).length,
      },
      legacy,
      candidate,
      ratios,
    });
  }
  reports.sort((a, b) => (a.route !== b.route ? (a.route < b.route ? -1 : 1) : a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));

  const rollouts = rolloutsByRoute(input.rollouts);
  const routeIds = [...new Set(reports.map((r) => r.route))];
  if (input.route !== undefined && !routeIds.includes(input.route)) routeIds.push(input.route);
  const routes: RouteReport[] = routeIds.map((route) => {
    const eps = reports.filter((r) => r.route === route);
    const rollout = rollouts.get(route) ?? null;
    const subjects = new Set([route, ...(rollout ? [rollout.key] : [])]);
    return {
      route,
      verdict: worst(eps.map((e) => e.verdict)),
      rollout,
      history: input.audit
        .filter((e) => subjects.has(e.subject))
        .slice(0, HISTORY_LIMIT)
        .map(historyOf),
      endpoints: eps,
    };
  });

  const totals = {
    endpoints: reports.length,
    go: reports.filter((r) => r.verdict === 'go').length,
    noGo: reports.filter((r) => r.verdict === 'no-go').length,
    insufficient: reports.filter((r) => r.verdict === 'insufficient').length,
  };
  const reasons: string[] = [];
  const name = (r: EndpointReport) => `${r.route} ${r.endpoint}`;
  for (const r of reports) {
    if (r.verdict === 'no-go') reasons.push(`${name(r)}: ${r.checks.filter((k) => k.outcome === 'fail').map((k) => k.detail).join('; ')}`);
  }
  if (totals.insufficient > 0) {
    const list = reports.filter((r) => r.verdict === 'insufficient').map(name);
    reasons.push(
      `${totals.insufficient} endpoint${totals.insufficient === 1 ? ' has' : 's have'} insufficient data${c.allowInsufficient ? ' (allowed)' : ''}: ${list.slice(0, 5).join(', ')}${list.length > 5 ? ', …' : ''}`,
    );
  }
  if (totals.go === 0) reasons.push('no endpoint has enough data to be Go');
  const go = totals.noGo === 0 && totals.go > 0 && (totals.insufficient === 0 || c.allowInsufficient);
  if (go) reasons.unshift(`${totals.go} endpoint${totals.go === 1 ? '' : 's'} meet every criterion`);

  return {
    generatedAt: input.now,
    from: input.from,
    to: input.to,
    route: input.route ?? null,
    criteria: { ...c },
    confidence: REPORT_CONFIDENCE,
    verdict: go ? 'go' : 'no-go',
    reasons,
    totals,
    routes,
    globalHistory: input.audit
      .filter((e) => e.subject === '*' && e.time >= input.from && e.time < input.to)
      .slice(0, HISTORY_LIMIT)
      .map(historyOf),
    unreadableBuckets,
  };
}
