/**
 * The default store: one SQLite file through node:sqlite (built into Node, no
 * native addon to build).
 *
 * Durability: WAL with synchronous=NORMAL. Commits do not fsync; the WAL is
 * synced at checkpoints. A process crash (kill -9) loses nothing that was
 * committed, because the WAL is in the OS page cache; a power cut or kernel
 * panic may lose the last commits. Writes arrive in ~1 s batches, so that is
 * at most about the last second of results, which the control plane accepts
 * in exchange for not paying an fsync per batch. The database is never left
 * corrupt either way.
 *
 * node:sqlite is synchronous. That is fine because only the control plane
 * uses the store, never the request path; every method still returns a
 * promise so it is interchangeable with the Postgres adapter.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { CutoverError, ErrorCodes, isCutoverError } from '../../core/errors.ts';
import type { Mode } from '../../config/schema.ts';
import {
  SCHEMA_VERSION_KEY,
  dedupeTelemetryBuckets,
  foldComparedMinutes,
  foldComparisonCounts,
  foldDiffObservations,
  toJsonText,
  comparedMinuteOf,
} from '../fold.ts';
import type {
  AuditEntry,
  ComparedMinuteRow,
  ComparisonCountRow,
  DiffGroupRow,
  DiffGroupStatus,
  DiffObservation,
  DiffSampleRow,
  DiffTriage,
  NoiseRow,
  NoiseStatus,
  RouteOverride,
  Store,
  TelemetryBucketRow,
  TimeRange,
} from '../store.ts';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:` for a private in-memory database (tests). */
  path: string;
  /** How long a write waits for another connection (e.g. the CLI) to let go of the lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * Forward migrations: entry i takes the schema from version i to i + 1.
 * Append only; never edit a released entry, since databases in the field have
 * already run it.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE route_overrides (
    route TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    percent REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE telemetry_buckets (
    minute INTEGER NOT NULL,
    route TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    backend TEXT NOT NULL,
    role TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (minute, route, endpoint, backend, role)
  );
  CREATE INDEX telemetry_buckets_route_minute ON telemetry_buckets (route, minute);

  CREATE TABLE comparison_counts (
    minute INTEGER NOT NULL,
    route TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute, route, endpoint, outcome, reason)
  ) WITHOUT ROWID;
  CREATE INDEX comparison_counts_route_minute ON comparison_counts (route, minute);

  CREATE TABLE diff_groups (
    id TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    method TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    status TEXT NOT NULL,
    triage TEXT,
    triage_expires_at INTEGER
  );
  CREATE INDEX diff_groups_route_last_seen ON diff_groups (route, last_seen);
  CREATE INDEX diff_groups_status_last_seen ON diff_groups (status, last_seen);
  CREATE INDEX diff_groups_last_seen ON diff_groups (last_seen);

  CREATE TABLE diff_samples (
    id INTEGER PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES diff_groups (id) ON DELETE CASCADE,
    time INTEGER NOT NULL,
    sample TEXT NOT NULL
  );
  CREATE INDEX diff_samples_group_time ON diff_samples (group_id, time);
  CREATE INDEX diff_samples_time ON diff_samples (time);

  CREATE TABLE noise (
    route TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    raw_count INTEGER NOT NULL,
    noise_count INTEGER NOT NULL,
    total INTEGER NOT NULL,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (route, endpoint, path, kind)
  ) WITHOUT ROWID;
  CREATE INDEX noise_status ON noise (status);

  CREATE TABLE rollouts (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- AUTOINCREMENT: audit ids must never be reused, even after the newest row is deleted.
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    subject TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    evidence TEXT
  );
  CREATE INDEX audit_subject_time ON audit (subject, time);
  CREATE INDEX audit_time ON audit (time);
  `,
  // Per-minute counts behind windowed diff listings. Nothing is backfilled: a
  // window counts what was recorded from this version on, numerator and
  // denominator alike, so a windowed rate never mixes the two.
  `
  CREATE TABLE diff_group_minutes (
    group_id TEXT NOT NULL REFERENCES diff_groups (id) ON DELETE CASCADE,
    minute INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (group_id, minute)
  ) WITHOUT ROWID;
  CREATE INDEX diff_group_minutes_minute ON diff_group_minutes (minute);

  CREATE TABLE compared_minutes (
    minute INTEGER NOT NULL,
    route TEXT NOT NULL,
    method TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    match INTEGER NOT NULL,
    mismatch INTEGER NOT NULL,
    PRIMARY KEY (minute, route, method, endpoint)
  ) WITHOUT ROWID;
  CREATE INDEX compared_minutes_route_minute ON compared_minutes (route, minute);
  `,
  // Telemetry buckets keyed by the instance that counted them, so cutover
  // instances sharing a store add up instead of overwriting each other's
  // minutes. Rows from before keep instance ''.
  `
  CREATE TABLE telemetry_buckets_v3 (
    minute INTEGER NOT NULL,
    route TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    backend TEXT NOT NULL,
    role TEXT NOT NULL,
    instance TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (minute, route, endpoint, backend, role, instance)
  );
  INSERT INTO telemetry_buckets_v3 (minute, route, endpoint, backend, role, instance, data)
    SELECT minute, route, endpoint, backend, role, '', data FROM telemetry_buckets;
  DROP TABLE telemetry_buckets;
  ALTER TABLE telemetry_buckets_v3 RENAME TO telemetry_buckets;
  CREATE INDEX telemetry_buckets_route_minute ON telemetry_buckets (route, minute);
  `,
];

/** The schema version this build writes. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

type Row = Record<string, SQLInputValue>;

/**
 * @example
 * const store = createSqliteStore({ path: '.cutover/cutover.db' });
 * await store.init();
 * await store.putRouteOverride({ route: 'checkout', mode: 'canary', percent: 5, updatedAt: Date.now(), updatedBy: 'cli' });
 * await store.close();
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  const inMemory = path === ':memory:';
  const where = inMemory ? 'in-memory SQLite store' : `SQLite store ${resolve(path)}`;
  let db: DatabaseSync | undefined;
  const statements = new Map<string, StatementSync>();

  function fail(op: string, err: unknown): CutoverError {
    if (isCutoverError(err)) return err;
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown; errcode?: unknown }).errcode ?? (err as { code?: unknown }).code;
    let hint = `check that ${inMemory ? 'the process' : 'the file and its directory'} can be read and written`;
    if (/locked|busy/i.test(message)) hint = 'another process holds the database lock for too long; is a second cutover using the same dataDir?';
    else if (/not a database|malformed/i.test(message)) hint = `the file is not a healthy SQLite database; move it aside and restart to begin empty`;
    else if (/readonly|read-only|EACCES|EROFS|permission/i.test(message)) hint = 'the process cannot write there; fix permissions or point dataDir elsewhere';
    else if (code === 'EEXIST' || code === 'ENOTDIR') hint = 'a file is in the way of a directory on that path; dataDir must be a directory';
    return new CutoverError(ErrorCodes.STORE, `${op} failed on ${where}: ${message}`, { hint, cause: err, details: code === undefined ? undefined : { code } });
  }

  function conn(): DatabaseSync {
    if (db === undefined) throw new CutoverError(ErrorCodes.STORE, `${where} is not open`, { hint: 'call init() before using the store' });
    return db;
  }

  function st(sql: string): StatementSync {
    let s = statements.get(sql);
    if (s === undefined) {
      s = conn().prepare(sql);
      statements.set(sql, s);
    }
    return s;
  }

  /** IMMEDIATE takes the write lock up front, so a busy database waits at BEGIN (honouring busy_timeout) instead of failing mid-batch on lock upgrade. */
  function tx<T>(fn: () => T): T {
    const d = conn();
    d.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      d.exec('COMMIT');
      return out;
    } catch (err) {
      if (d.isTransaction) d.exec('ROLLBACK');
      throw err;
    }
  }

  // Sync work wrapped so every failure, including a throw, surfaces as a rejected CutoverError.
  function run<T>(op: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(fail(op, err));
    }
  }

  function migrate(d: DatabaseSync): void {
    d.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    tx(() => {
      const row = st('SELECT value FROM meta WHERE key = ?').get(SCHEMA_VERSION_KEY) as Row | undefined;
      const current = row === undefined ? 0 : Number(row.value);
      if (!Number.isInteger(current) || current < 0) {
        throw new CutoverError(ErrorCodes.STORE, `${where} has an unreadable schema_version "${String(row?.value)}"`, {
          hint: 'the meta table was edited by hand; restore it or move the file aside',
        });
      }
      if (current > SQLITE_MIGRATIONS.length) {
        throw new CutoverError(
          ErrorCodes.STORE,
          `${where} is at schema version ${current}, newer than this cutover understands (${SQLITE_MIGRATIONS.length})`,
          { hint: 'upgrade cutover, or point dataDir at a fresh directory' },
        );
      }
      for (let v = current; v < SQLITE_MIGRATIONS.length; v++) d.exec(SQLITE_MIGRATIONS[v]);
      if (current !== SQLITE_MIGRATIONS.length) {
        st('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
          SCHEMA_VERSION_KEY,
          String(SQLITE_MIGRATIONS.length),
        );
      }
    });
  }

  function groupFromRow(r: Row): DiffGroupRow {
    const g: DiffGroupRow = {
      id: r.id as string,
      route: r.route as string,
      method: r.method as string,
      endpoint: r.endpoint as string,
      path: r.path as string,
      kind: r.kind as string,
      count: (r.window_count ?? r.count) as number,
      total: r.count as number,
      firstSeen: r.first_seen as number,
      lastSeen: r.last_seen as number,
      status: r.status as DiffGroupStatus,
    };
    if (r.triage !== null) g.triage = JSON.parse(r.triage as string) as DiffTriage;
    return g;
  }

  function getGroup(id: string): DiffGroupRow | undefined {
    const r = st('SELECT * FROM diff_groups WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? undefined : groupFromRow(r);
  }

  /** Dynamic filters produce a handful of distinct SQL strings, each prepared once. */
  function rangeClause(column: string, range: TimeRange, clauses: string[], params: SQLInputValue[]): void {
    if (range.from !== undefined) {
      clauses.push(`${column} >= ?`);
      params.push(range.from);
    }
    if (range.to !== undefined) {
      clauses.push(`${column} < ?`);
      params.push(range.to);
    }
  }

  /** The filter the time-series tables take: one optional key column and a half-open range on a time column. */
  function keyAndRange(keyColumn: string, key: string | undefined, timeColumn: string, range: TimeRange): { clauses: string[]; params: SQLInputValue[] } {
    const clauses: string[] = [];
    const params: SQLInputValue[] = [];
    if (key !== undefined) {
      clauses.push(`${keyColumn} = ?`);
      params.push(key);
    }
    rangeClause(timeColumn, range, clauses, params);
    return { clauses, params };
  }

  const whereSql = (clauses: string[]): string => (clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`);

  const store: Store = {
    init() {
      return run('open', () => {
        if (db !== undefined) return;
        if (!inMemory && !path.startsWith('file:')) mkdirSync(dirname(resolve(path)), { recursive: true });
        const d = new DatabaseSync(path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
        try {
          // Returns the resulting mode; :memory: stays "memory", which is expected.
          d.exec('PRAGMA journal_mode = WAL');
          d.exec('PRAGMA synchronous = NORMAL');
          d.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
          // Keeps the -wal file from staying at its high-water mark after a burst.
          d.exec('PRAGMA journal_size_limit = 67108864');
          db = d;
          migrate(d);
        } catch (err) {
          statements.clear();
          db = undefined;
          d.close();
          throw err;
        }
      });
    },

    close() {
      return run('close', () => {
        if (db === undefined) return;
        const d = db;
        db = undefined;
        statements.clear();
        try {
          d.exec('PRAGMA optimize');
        } finally {
          d.close();
        }
      });
    },

    getMeta(key) {
      return run('getMeta', () => {
        const r = st('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
        return r === undefined ? undefined : (r.value as string);
      });
    },

    setMeta(key, value) {
      return run('setMeta', () => {
        if (key === SCHEMA_VERSION_KEY) {
          throw new CutoverError(ErrorCodes.STORE, `meta key "${SCHEMA_VERSION_KEY}" is reserved for the store's migrations`, {
            hint: 'use another key',
          });
        }
        st('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
      });
    },

    listRouteOverrides() {
      return run('listRouteOverrides', () =>
        (st('SELECT * FROM route_overrides ORDER BY route').all() as Row[]).map((r) => ({
          route: r.route as string,
          mode: r.mode as Mode,
          percent: r.percent as number,
          updatedAt: r.updated_at as number,
          updatedBy: r.updated_by as string,
        })),
      );
    },

    putRouteOverride(o: RouteOverride) {
      return run('putRouteOverride', () => {
        st(
          `INSERT INTO route_overrides (route, mode, percent, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (route) DO UPDATE SET mode = excluded.mode, percent = excluded.percent,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        ).run(o.route, o.mode, o.percent, o.updatedAt, o.updatedBy);
      });
    },

    deleteRouteOverride(route) {
      return run('deleteRouteOverride', () => {
        st('DELETE FROM route_overrides WHERE route = ?').run(route);
      });
    },

    putTelemetryBuckets(rows: TelemetryBucketRow[]) {
      return run('putTelemetryBuckets', () => {
        if (rows.length === 0) return;
        const ins = st(
          `INSERT INTO telemetry_buckets (minute, route, endpoint, backend, role, instance, data) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (minute, route, endpoint, backend, role, instance) DO UPDATE SET data = excluded.data`,
        );
        tx(() => {
          for (const r of dedupeTelemetryBuckets(rows)) ins.run(r.minute, r.route, r.endpoint, r.backend, r.role, r.instance, toJsonText(r.data));
        });
      });
    },

    listTelemetryBuckets(range) {
      return run('listTelemetryBuckets', () => {
        const { clauses, params } = keyAndRange('route', range.route, 'minute', range);
        if (range.excludeInstance !== undefined) {
          clauses.push('instance <> ?');
          params.push(range.excludeInstance);
        }
        const sql = `SELECT * FROM telemetry_buckets${whereSql(clauses)} ORDER BY minute, route, endpoint, backend, role, instance`;
        return (st(sql).all(...params) as Row[]).map((r) => ({
          minute: r.minute as number,
          route: r.route as string,
          endpoint: r.endpoint as string,
          backend: r.backend as string,
          role: r.role as string,
          instance: r.instance as string,
          data: JSON.parse(r.data as string) as unknown,
        }));
      });
    },

    addComparisonCounts(rows: ComparisonCountRow[]) {
      return run('addComparisonCounts', () => {
        if (rows.length === 0) return;
        const ins = st(
          `INSERT INTO comparison_counts (minute, route, endpoint, outcome, reason, count) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (minute, route, endpoint, outcome, reason) DO UPDATE SET count = count + excluded.count`,
        );
        tx(() => {
          for (const r of foldComparisonCounts(rows)) ins.run(r.minute, r.route, r.endpoint, r.outcome, r.reason, r.count);
        });
      });
    },

    listComparisonCounts(range) {
      return run('listComparisonCounts', () => {
        const { clauses, params } = keyAndRange('route', range.route, 'minute', range);
        const sql = `SELECT * FROM comparison_counts${whereSql(clauses)} ORDER BY minute, route, endpoint, outcome, reason`;
        return (st(sql).all(...params) as Row[]).map((r) => ({
          minute: r.minute as number,
          route: r.route as string,
          endpoint: r.endpoint as string,
          outcome: r.outcome as ComparisonCountRow['outcome'],
          reason: r.reason as string,
          count: r.count as number,
        }));
      });
    },

    recordDiffs(observations: DiffObservation[], maxSamples: number) {
      return run('recordDiffs', () => {
        if (observations.length === 0) return;
        const upsert = st(
          `INSERT INTO diff_groups (id, route, method, endpoint, path, kind, count, first_seen, last_seen, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
           ON CONFLICT (id) DO UPDATE SET count = count + excluded.count,
             first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
        );
        const addMinute = st(
          `INSERT INTO diff_group_minutes (group_id, minute, count) VALUES (?, ?, ?)
           ON CONFLICT (group_id, minute) DO UPDATE SET count = count + excluded.count`,
        );
        const countSamples = st('SELECT count(*) AS n FROM diff_samples WHERE group_id = ?');
        const insertSample = st('INSERT INTO diff_samples (group_id, time, sample) VALUES (?, ?, ?)');
        tx(() => {
          for (const g of foldDiffObservations(observations)) {
            upsert.run(g.id, g.route, g.method, g.endpoint, g.path, g.kind, g.count, g.firstSeen, g.lastSeen);
            for (const m of g.minutes) addMinute.run(g.id, m.minute, m.count);
            if (g.samples.length === 0 || maxSamples <= 0) continue;
            const have = (countSamples.get(g.id) as Row).n as number;
            const room = Math.min(maxSamples - have, g.samples.length);
            for (let i = 0; i < room; i++) insertSample.run(g.id, g.samples[i].time, toJsonText(g.samples[i].sample));
          }
        });
      });
    },

    listDiffGroups(filter) {
      return run('listDiffGroups', () => {
        const clauses: string[] = [];
        const params: SQLInputValue[] = [];
        const windowed = filter.from !== undefined || filter.to !== undefined;
        let from = 'diff_groups';
        if (windowed) {
          const minuteClauses: string[] = [];
          rangeClause('minute', filter, minuteClauses, params);
          from = `diff_groups JOIN (SELECT group_id, sum(count) AS window_count FROM diff_group_minutes${whereSql(minuteClauses)} GROUP BY group_id) w ON w.group_id = diff_groups.id`;
        }
        if (filter.route !== undefined) {
          clauses.push('route = ?');
          params.push(filter.route);
        }
        if (filter.status !== undefined) {
          clauses.push('status = ?');
          params.push(filter.status);
        }
        params.push(filter.limit ?? -1);
        const order = windowed ? 'window_count DESC' : 'count DESC';
        const sql = `SELECT * FROM ${from}${whereSql(clauses)} ORDER BY ${order}, last_seen DESC, id LIMIT ?`;
        return (st(sql).all(...params) as Row[]).map(groupFromRow);
      });
    },

    addComparedMinutes(rows: ComparedMinuteRow[]) {
      return run('addComparedMinutes', () => {
        if (rows.length === 0) return;
        const ins = st(
          `INSERT INTO compared_minutes (minute, route, method, endpoint, match, mismatch) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (minute, route, method, endpoint) DO UPDATE SET match = match + excluded.match, mismatch = mismatch + excluded.mismatch`,
        );
        tx(() => {
          for (const r of foldComparedMinutes(rows)) ins.run(r.minute, r.route, r.method, r.endpoint, r.match, r.mismatch);
        });
      });
    },

    listComparedMinutes(range) {
      return run('listComparedMinutes', () => {
        const { clauses, params } = keyAndRange('route', range.route, 'minute', range);
        const sql = `SELECT * FROM compared_minutes${whereSql(clauses)} ORDER BY minute, route, method, endpoint`;
        return (st(sql).all(...params) as Row[]).map(comparedMinuteOf);
      });
    },

    getDiffGroup(id) {
      return run('getDiffGroup', () => getGroup(id));
    },

    listDiffSamples(groupId, limit) {
      return run('listDiffSamples', () =>
        (st('SELECT group_id, time, sample FROM diff_samples WHERE group_id = ? ORDER BY time, id LIMIT ?').all(groupId, limit) as Row[]).map(
          (r): DiffSampleRow => ({ groupId: r.group_id as string, time: r.time as number, sample: JSON.parse(r.sample as string) as unknown }),
        ),
      );
    },

    triageDiffGroup(id, triage) {
      return run('triageDiffGroup', () => {
        const changed = st('UPDATE diff_groups SET status = ?, triage = ?, triage_expires_at = ? WHERE id = ?').run(
          triage.status,
          toJsonText(triage),
          triage.expiresAt ?? null,
          id,
        );
        return changed.changes === 0 ? undefined : getGroup(id);
      });
    },

    upsertNoise(rows: NoiseRow[]) {
      return run('upsertNoise', () => {
        if (rows.length === 0) return;
        const ins = st(
          `INSERT INTO noise (route, endpoint, path, kind, raw_count, noise_count, total, status, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (route, endpoint, path, kind) DO UPDATE SET raw_count = excluded.raw_count,
             noise_count = excluded.noise_count, total = excluded.total, updated_at = excluded.updated_at,
             status = CASE WHEN noise.status = 'learned' THEN excluded.status ELSE noise.status END`,
        );
        tx(() => {
          for (const r of rows) ins.run(r.route, r.endpoint, r.path, r.kind, r.rawCount, r.noiseCount, r.total, r.status, r.updatedAt);
        });
      });
    },

    listNoise(filter) {
      return run('listNoise', () => {
        const clauses: string[] = [];
        const params: SQLInputValue[] = [];
        if (filter.route !== undefined) {
          clauses.push('route = ?');
          params.push(filter.route);
        }
        if (filter.status !== undefined) {
          clauses.push('status = ?');
          params.push(filter.status);
        }
        const sql = `SELECT * FROM noise${whereSql(clauses)} ORDER BY route, endpoint, path, kind`;
        return (st(sql).all(...params) as Row[]).map((r) => ({
          route: r.route as string,
          endpoint: r.endpoint as string,
          path: r.path as string,
          kind: r.kind as string,
          rawCount: r.raw_count as number,
          noiseCount: r.noise_count as number,
          total: r.total as number,
          status: r.status as NoiseStatus,
          updatedAt: r.updated_at as number,
        }));
      });
    },

    setNoiseStatus(route, endpoint, path, kind, status) {
      return run(
        'setNoiseStatus',
        () => st('UPDATE noise SET status = ? WHERE route = ? AND endpoint = ? AND path = ? AND kind = ?').run(status, route, endpoint, path, kind).changes > 0,
      );
    },

    getRollout(key) {
      return run('getRollout', () => {
        const r = st('SELECT state FROM rollouts WHERE key = ?').get(key) as Row | undefined;
        return r === undefined ? undefined : (JSON.parse(r.state as string) as unknown);
      });
    },

    putRollout(key, state) {
      return run('putRollout', () => {
        st(
          `INSERT INTO rollouts (key, state, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        ).run(key, toJsonText(state), Date.now());
      });
    },

    listRollouts() {
      return run('listRollouts', () =>
        (st('SELECT key, state FROM rollouts ORDER BY key').all() as Row[]).map((r) => ({
          key: r.key as string,
          state: JSON.parse(r.state as string) as unknown,
        })),
      );
    },

    appendAudit(e: AuditEntry) {
      return run('appendAudit', () => {
        const res = st(
          'INSERT INTO audit (time, subject, action, actor, from_value, to_value, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).run(e.time, e.subject, e.action, e.actor, optionalJson(e.from), optionalJson(e.to), optionalJson(e.evidence));
        return Number(res.lastInsertRowid);
      });
    },

    listAudit(filter) {
      return run('listAudit', () => {
        const { clauses, params } = keyAndRange('subject', filter.subject, 'time', filter);
        params.push(filter.limit ?? -1);
        const sql = `SELECT * FROM audit${whereSql(clauses)} ORDER BY time DESC, id DESC LIMIT ?`;
        return (st(sql).all(...params) as Row[]).map((r) => {
          const e: AuditEntry = {
            id: r.id as number,
            time: r.time as number,
            subject: r.subject as string,
            action: r.action as string,
            actor: r.actor as string,
          };
          if (r.from_value !== null) e.from = JSON.parse(r.from_value as string);
          if (r.to_value !== null) e.to = JSON.parse(r.to_value as string);
          if (r.evidence !== null) e.evidence = JSON.parse(r.evidence as string);
          return e;
        });
      });
    },

    prune({ olderThan, maxRows }) {
      return run('prune', () => {
        tx(() => {
          st('DELETE FROM telemetry_buckets WHERE minute < ?').run(olderThan);
          st('DELETE FROM comparison_counts WHERE minute < ?').run(olderThan);
          st('DELETE FROM compared_minutes WHERE minute < ?').run(olderThan);
          st('DELETE FROM diff_group_minutes WHERE minute < ?').run(olderThan);
          st('DELETE FROM diff_samples WHERE time < ?').run(olderThan);
          st(
            `DELETE FROM diff_groups WHERE last_seen < ?
               AND (status = 'open' OR (triage_expires_at IS NOT NULL AND triage_expires_at < ?))`,
          ).run(olderThan, olderThan);
          if (Number.isFinite(maxRows)) {
            st('DELETE FROM diff_samples WHERE id IN (SELECT id FROM diff_samples ORDER BY time DESC, id DESC LIMIT -1 OFFSET ?)').run(
              Math.max(0, Math.floor(maxRows)),
            );
          }
        });
      });
    },
  };
  return store;
}

/** SQL NULL for "absent" keeps `undefined` and an explicit JSON null apart on the way back. */
function optionalJson(value: unknown): string | null {
  return value === undefined ? null : toJsonText(value);
}
