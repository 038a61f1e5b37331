/**
 * The persistence boundary. Control-plane code talks to this interface only;
 * src/storage/sqlite (default, node:sqlite in WAL mode) and
 * src/storage/postgres (pg) implement it, and one contract suite
 * (test/helpers/store-contract.ts) runs against both.
 *
 * Times are epoch milliseconds. JSON-valued fields are stored as JSON text and
 * returned parsed, so they follow JSON.stringify: `undefined` members vanish,
 * NaN/Infinity become null, Dates become strings, -0 becomes 0.
 *
 * Ordering and retention are part of the contract (both adapters agree):
 * - time filters are half-open, `from <= t < to`, so adjacent windows never
 *   count a minute twice;
 * - lists come back in a stable order, documented on each method;
 * - audit entries, overrides, noise and rollouts are never pruned.
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
 * One per-minute telemetry bucket for one (route, endpoint, backend, role), as
 * one cutover instance counted it. `data` is owned by the telemetry module
 * (serialized counters and sketches); the store treats it as opaque JSON.
 * Writing the same key, instance included, again replaces it; instances
 * sharing a store never overwrite each other, and readers merge their rows.
 */
export interface TelemetryBucketRow {
  minute: number;
  route: string;
  endpoint: string;
  backend: string;
  role: string;
  /** The writing process's instance id; '' for rows written before schema version 3. */
  instance: string;
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
  /**
   * Stored, never acted on by the store (it has no clock): callers treat an
   * expired accept/ignore as `open`. Prune keeps triaged groups until this passes.
   */
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
  /** Occurrences inside the time range asked for; every occurrence when no range was given (then equal to `total`). */
  count: number;
  /** Every occurrence since the group was first recorded. */
  total: number;
  firstSeen: number;
  lastSeen: number;
  status: DiffGroupStatus;
  triage?: DiffTriage;
}

/**
 * Pairs compared per endpoint and minute, written by the same writer as the
 * diff groups so a windowed mismatch rate divides numbers of the same minutes.
 * Writing the same key again adds to it.
 */
export interface ComparedMinuteRow {
  minute: number;
  route: string;
  method: string;
  endpoint: string;
  match: number;
  mismatch: number;
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

/** Half-open: `from <= t < to`; either end may be omitted. */
export interface TimeRange {
  from?: number;
  to?: number;
}

export interface Store {
  /**
   * Opens the connection, creates tables and runs forward migrations. Safe to
   * call on every start; fails with CUTOVER_ERR_STORE if the database was
   * written by a newer cutover.
   */
  init(): Promise<void>;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | undefined>;
  /** The key `schema_version` belongs to the store; writing it throws. */
  setMeta(key: string, value: string): Promise<void>;

  /** Ordered by route. */
  listRouteOverrides(): Promise<RouteOverride[]>;
  putRouteOverride(override: RouteOverride): Promise<void>;
  deleteRouteOverride(route: string): Promise<void>;

  putTelemetryBuckets(rows: TelemetryBucketRow[]): Promise<void>;
  /** Ordered by minute, then route, endpoint, backend, role, instance. `excludeInstance`: leave out what that instance wrote. */
  listTelemetryBuckets(range: TimeRange & { route?: string; excludeInstance?: string }): Promise<TelemetryBucketRow[]>;

  addComparisonCounts(rows: ComparisonCountRow[]): Promise<void>;
  /** Ordered by minute, then route, endpoint, outcome, reason. */
  listComparisonCounts(range: TimeRange & { route?: string }): Promise<ComparisonCountRow[]>;

  /**
   * Folds observations into groups in one transaction; keeps at most `maxSamples` samples per group.
   * A new group starts `open`; later observations add to `count`, widen
   * firstSeen/lastSeen and never change status or triage. The first samples to
   * arrive (in array order) are the ones kept; later ones are dropped unread.
   */
  recordDiffs(observations: DiffObservation[], maxSamples: number): Promise<void>;
  /**
   * With a time range, a group matches when it occurred in a minute that
   * starts inside it (`from <= minute < to`, as for comparison counts), and
   * its `count` is the occurrences of those minutes. Ordered by count
   * descending, then lastSeen descending, then id; `limit` caps the rows
   * (default: all).
   */
  listDiffGroups(filter: TimeRange & { route?: string; status?: DiffGroupStatus; limit?: number }): Promise<DiffGroupRow[]>;
  getDiffGroup(id: string): Promise<DiffGroupRow | undefined>;
  addComparedMinutes(rows: ComparedMinuteRow[]): Promise<void>;
  /** Ordered by minute, then route, method, endpoint. */
  listComparedMinutes(range: TimeRange & { route?: string }): Promise<ComparedMinuteRow[]>;
  /** Oldest first (the order they were recorded). */
  listDiffSamples(groupId: string, limit: number): Promise<DiffSampleRow[]>;
  /** Sets status and triage together; undefined when the group does not exist. */
  triageDiffGroup(id: string, triage: DiffTriage): Promise<DiffGroupRow | undefined>;

  /**
   * Replaces counts and updatedAt. Status is replaced only while the stored
   * row is still `learned`: a human `confirmed`/`rejected` survives the
   * learner's next write and changes only through setNoiseStatus.
   */
  upsertNoise(rows: NoiseRow[]): Promise<void>;
  /** Ordered by route, endpoint, path, kind. */
  listNoise(filter: { route?: string; status?: NoiseStatus }): Promise<NoiseRow[]>;
  /** False when no such row exists. Leaves updatedAt alone. */
  setNoiseStatus(route: string, endpoint: string, path: string, kind: string, status: NoiseStatus): Promise<boolean>;

  getRollout(key: string): Promise<unknown | undefined>;
  putRollout(key: string, state: unknown): Promise<void>;
  /** Ordered by key. */
  listRollouts(): Promise<Array<{ key: string; state: unknown }>>;

  /** Returns the new id; ids strictly increase and are never reused. */
  appendAudit(entry: AuditEntry): Promise<number>;
  /** Newest first: time descending, then id descending. `limit` defaults to all. */
  listAudit(filter: TimeRange & { subject?: string; limit?: number }): Promise<AuditEntry[]>;

  /**
   * Retention: drops telemetry, comparison counts, compared and diff minutes, samples and groups last seen before `olderThan`, then trims samples beyond `maxRows`.
   * Triaged groups (accepted/ignored) are kept past `olderThan` so a human
   * decision is not forgotten, until their triage expiresAt is also before it.
   * `maxRows` caps the sample table overall, dropping the oldest samples first.
   */
  prune(options: { olderThan: number; maxRows: number }): Promise<void>;
}
