/**
 * The persistence boundary. Control-plane code talks to this interface only;
 * src/storage/sqlite (default, node:sqlite in WAL mode) and
 * src/storage/postgres (pg) implement it, and one contract suite
 * (test/helpers/store-contract.ts) runs against both.
 *
 * Times are epoch milliseconds. JSON-valued fields are stored as JSON text and
 * returned parsed.
 */
import type { Mode } from '../config/schema.ts';

/** A runtime change to a route's mode made through the admin API or the rollout driver; survives restarts. */
export interface RouteOverride {
  route: string;
  mode: Mode;
  percent: number;
  updatedAt: number;
  updatedBy: string;
}

/**
 * One finished per-minute telemetry bucket for one (route, endpoint, backend, role).
 * `data` is owned by the telemetry module (serialized counters and sketches);
 * the store treats it as opaque JSON. Writing the same key again replaces it.
 */
export interface TelemetryBucketRow {
  minute: number;
  route: string;
  endpoint: string;
  backend: string;
  role: string;
  data: unknown;
}

/** Comparison outcomes per minute; writing the same key again adds `count`. */
export interface ComparisonCountRow {
  minute: number;
  route: string;
  endpoint: string;
  outcome: 'match' | 'mismatch' | 'skipped';
  /** Skip reason for `skipped`, '' otherwise. */
  reason: string;
  count: number;
}

export type DiffGroupStatus = 'open' | 'accepted' | 'ignored';

export interface DiffTriage {
  status: DiffGroupStatus;
  reason: string;
  by: string;
  at: number;
  expiresAt?: number;
}

/** Mismatches grouped by where they are and what kind they are. */
export interface DiffGroupRow {
  /** Stable id derived from route, method, endpoint, path and kind. */
  id: string;
  route: string;
  method: string;
  endpoint: string;
  /** Generalised JSON path, e.g. $.data[*].price, or a header/status locator. */
  path: string;
  kind: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  status: DiffGroupStatus;
  triage?: DiffTriage;
}

/** One observation to fold into a diff group. */
export interface DiffObservation {
  id: string;
  route: string;
  method: string;
  endpoint: string;
  path: string;
  kind: string;
  time: number;
  /** Added to the group's count (usually 1). */
  count: number;
  /** Redacted request, both responses and the differences. Kept only while the group has fewer than `maxSamples`. */
  sample?: unknown;
}

export interface DiffSampleRow {
  groupId: string;
  time: number;
  sample: unknown;
}

export type NoiseStatus = 'learned' | 'confirmed' | 'rejected';

/** A path where two legacy answers differ: noise, not a regression. */
export interface NoiseRow {
  route: string;
  endpoint: string;
  path: string;
  kind: string;
  rawCount: number;
  noiseCount: number;
  total: number;
  status: NoiseStatus;
  updatedAt: number;
}

export interface AuditEntry {
  id?: number;
  time: number;
  /** Route id, component name, or '*' for global actions (kill switch). */
  subject: string;
  action: string;
  /** Who or what: 'api:token', 'cli', 'driver', 'kill-switch:env', … */
  actor: string;
  from?: unknown;
  to?: unknown;
  /** Gate results with their numbers, sample sizes and thresholds; free-form JSON. */
  evidence?: unknown;
}

export interface TimeRange {
  from?: number;
  to?: number;
}

export interface Store {
  /** Creates tables if needed. Safe to call on every start. */
  init(): Promise<void>;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  listRouteOverrides(): Promise<RouteOverride[]>;
  putRouteOverride(override: RouteOverride): Promise<void>;
  deleteRouteOverride(route: string): Promise<void>;

  putTelemetryBuckets(rows: TelemetryBucketRow[]): Promise<void>;
  listTelemetryBuckets(range: TimeRange & { route?: string }): Promise<TelemetryBucketRow[]>;

  addComparisonCounts(rows: ComparisonCountRow[]): Promise<void>;
  listComparisonCounts(range: TimeRange & { route?: string }): Promise<ComparisonCountRow[]>;

  /** Folds observations into groups in one transaction; keeps at most `maxSamples` samples per group. */
  recordDiffs(observations: DiffObservation[], maxSamples: number): Promise<void>;
  listDiffGroups(filter: TimeRange & { route?: string; status?: DiffGroupStatus }): Promise<DiffGroupRow[]>;
  getDiffGroup(id: string): Promise<DiffGroupRow | undefined>;
  listDiffSamples(groupId: string, limit: number): Promise<DiffSampleRow[]>;
  triageDiffGroup(id: string, triage: DiffTriage): Promise<DiffGroupRow | undefined>;

  upsertNoise(rows: NoiseRow[]): Promise<void>;
  listNoise(filter: { route?: string; status?: NoiseStatus }): Promise<NoiseRow[]>;
  setNoiseStatus(route: string, endpoint: string, path: string, kind: string, status: NoiseStatus): Promise<boolean>;

  getRollout(key: string): Promise<unknown | undefined>;
  putRollout(key: string, state: unknown): Promise<void>;
  listRollouts(): Promise<Array<{ key: string; state: unknown }>>;

  appendAudit(entry: AuditEntry): Promise<number>;
  listAudit(filter: TimeRange & { subject?: string; limit?: number }): Promise<AuditEntry[]>;

  /** Retention: drops telemetry, comparison counts, samples and groups last seen before `olderThan`, then trims samples beyond `maxRows`. */
  prune(options: { olderThan: number; maxRows: number }): Promise<void>;
}
