/**
 * The shared store for several cutover instances: PostgreSQL through `pg`.
 * Same contract as the SQLite adapter (test/helpers/store-contract.ts runs on
 * both). Batches go in as one statement each via unnest() arrays, so a batch
 * of 500 rows is one round trip, not 500.
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
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
import type { AuditEntry, ComparisonCountRow, DiffGroupRow, DiffGroupStatus, DiffSampleRow, DiffTriage, NoiseStatus, Store } from '../store.ts';

export interface PostgresStoreOptions {
  /** postgres://user[:password]@host[:port]/database */
  url: string;
  /** Schema holding the tables, created if missing. Default: the connection's search_path (usually `public`). */
  schema?: string;
  /** Default 4: the control plane writes about once a second and never needs many connections. */
  poolSize?: number;
}

const INT8_OID = 20;

/**
 * pg returns BIGINT as a string because it may exceed 2^53. Our BIGINTs are
 * epoch milliseconds, counts and ids, all far below that, so numbers are what
 * callers want. Scoped to this pool rather than the global pg.types so other
 * pg users in the process keep the default.
 */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Entry i takes the schema from version i to i + 1; `{s}` is the schema prefix. Append only.
 * Key columns use the "C" collation so ORDER BY is byte order, like SQLite,
 * whatever locale the database was created with.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE {s}route_overrides (
    route text COLLATE "C" PRIMARY KEY,
    mode text NOT NULL,
    percent double precision NOT NULL,
    updated_at bigint NOT NULL,
    updated_by text NOT NULL
  );

  CREATE TABLE {s}telemetry_buckets (
    minute bigint NOT NULL,
    route text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    backend text COLLATE "C" NOT NULL,
    role text COLLATE "C" NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (minute, route, endpoint, backend, role)
  );
  CREATE INDEX telemetry_buckets_route_minute ON {s}telemetry_buckets (route, minute);

  CREATE TABLE {s}comparison_counts (
    minute bigint NOT NULL,
    route text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    outcome text COLLATE "C" NOT NULL,
    reason text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (minute, route, endpoint, outcome, reason)
  );
  CREATE INDEX comparison_counts_route_minute ON {s}comparison_counts (route, minute);

  CREATE TABLE {s}diff_groups (
    id text COLLATE "C" PRIMARY KEY,
    route text COLLATE "C" NOT NULL,
    method text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    first_seen bigint NOT NULL,
    last_seen bigint NOT NULL,
    status text COLLATE "C" NOT NULL,
    triage jsonb,
    triage_expires_at bigint
  );
  CREATE INDEX diff_groups_route_last_seen ON {s}diff_groups (route, last_seen);
  CREATE INDEX diff_groups_status_last_seen ON {s}diff_groups (status, last_seen);
  CREATE INDEX diff_groups_last_seen ON {s}diff_groups (last_seen);

  CREATE TABLE {s}diff_samples (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id text COLLATE "C" NOT NULL REFERENCES {s}diff_groups (id) ON DELETE CASCADE,
    time bigint NOT NULL,
    sample jsonb NOT NULL
  );
  CREATE INDEX diff_samples_group_time ON {s}diff_samples (group_id, time, id);
  CREATE INDEX diff_samples_time ON {s}diff_samples (time, id);

  CREATE TABLE {s}noise (
    route text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    path text COLLATE "C" NOT NULL,
    kind text COLLATE "C" NOT NULL,
    raw_count bigint NOT NULL,
    noise_count bigint NOT NULL,
    total bigint NOT NULL,
    status text COLLATE "C" NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (route, endpoint, path, kind)
  );
  CREATE INDEX noise_status ON {s}noise (status);

  CREATE TABLE {s}rollouts (
    key text COLLATE "C" PRIMARY KEY,
    state jsonb NOT NULL,
    updated_at bigint NOT NULL
  );

  CREATE TABLE {s}audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time bigint NOT NULL,
    subject text COLLATE "C" NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    from_value jsonb,
    to_value jsonb,
    evidence jsonb
  );
  CREATE INDEX audit_subject_time ON {s}audit (subject, time, id);
  CREATE INDEX audit_time ON {s}audit (time, id);
  `,
  // Per-minute counts behind windowed diff listings; nothing is backfilled (see the SQLite adapter).
  `
  CREATE TABLE {s}diff_group_minutes (
    group_id text COLLATE "C" NOT NULL REFERENCES {s}diff_groups (id) ON DELETE CASCADE,
    minute bigint NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (group_id, minute)
  );
  CREATE INDEX diff_group_minutes_minute ON {s}diff_group_minutes (minute);

  CREATE TABLE {s}compared_minutes (
    minute bigint NOT NULL,
    route text COLLATE "C" NOT NULL,
    method text COLLATE "C" NOT NULL,
    endpoint text COLLATE "C" NOT NULL,
    match bigint NOT NULL,
    mismatch bigint NOT NULL,
    PRIMARY KEY (minute, route, method, endpoint)
  );
  CREATE INDEX compared_minutes_route_minute ON {s}compared_minutes (route, minute);
  `,
  // Telemetry buckets keyed by the instance that counted them (see the SQLite adapter); rows from before keep instance ''.
  `
  ALTER TABLE {s}telemetry_buckets ADD COLUMN instance text COLLATE "C" NOT NULL DEFAULT '';
  ALTER TABLE {s}telemetry_buckets ALTER COLUMN instance DROP DEFAULT;
  ALTER TABLE {s}telemetry_buckets DROP CONSTRAINT telemetry_buckets_pkey;
  ALTER TABLE {s}telemetry_buckets ADD PRIMARY KEY (minute, route, endpoint, backend, role, instance);
  `,
];

/** The schema version this build writes. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Arbitrary constant: serialises migrations when several instances start at once. */
const MIGRATION_LOCK = 0x637574;

/** One array per key, in the order unnest() takes them: a batch of rows as column parameters. */
function columnsOf<T>(rows: readonly T[], keys: ReadonlyArray<keyof T>): unknown[][] {
  return keys.map((k) => rows.map((r) => r[k]));
}

/**
 * jsonb cannot hold U+0000 or an unpaired surrogate and rejects the whole
 * statement, which would throw away a full batch of results for one odd
 * character in one captured body. Both become U+FFFD instead (the only place
 * the two adapters differ). JSON.stringify escapes exactly those code points
 * and emits valid pairs raw, so any escaped surrogate here is a lone one;
 * matching escapes left to right keeps `\\u0000` (a literal backslash) intact.
 */
export function jsonbText(value: unknown): string {
  const text = toJsonText(value);
  if (!text.includes('\\u')) return text;
  return text.replace(/\\(u[0-9a-fA-F]{4}|[^u])/g, (match, esc: string) =>
    esc === 'u0000' || /^ud[89a-f]/i.test(esc) ? '\\ufffd' : match,
  );
}

/** Drops the password so URLs can go into messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * @example
 * const store = createPostgresStore({ url: 'postgres://cutover@db:5432/cutover' });
 * await store.init();
 * const overrides = await store.listRouteOverrides();
 * await store.close();
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const { url, schema } = options;
  const safeUrl = redactUrl(url);
  const prefix = schema === undefined ? '' : `${quoteIdent(schema)}.`;
  const t = (sql: string): string => sql.replaceAll('{s}', prefix);
  let pool: pg.Pool | undefined;
  let hostPort = safeUrl;
  let databaseName = '<database>';
  try {
    const u = new URL(url);
    hostPort = `${u.hostname || 'localhost'}:${u.port || '5432'}`;
    if (u.pathname.length > 1) databaseName = decodeURIComponent(u.pathname.slice(1));
  } catch {
    // Not a URL pg can parse either; init() will report it.
  }

  function fail(op: string, err: unknown): CutoverError {
    if (isCutoverError(err)) return err;
    const e = err as { message?: string; code?: string };
    const message = e.message || String(err);
    const code = e.code;
    let hint = 'check the PostgreSQL server log for details';
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || /timeout|terminated|ECONNRESET/i.test(message)) {
      hint = `is PostgreSQL running at ${hostPort}? start it or set store.kind: sqlite`;
    } else if (code === '3D000') {
      hint = `create it (createdb -h ${hostPort.replace(/:\d+$/, '')} ${databaseName}) or fix the database name in store.url`;
    } else if (code === '28P01' || code === '28000') {
      hint = 'check the user and password in store.url and the server pg_hba.conf';
    } else if (code === '3F000') {
      hint = 'the schema is missing; call init() first';
    } else if (code === '42501') {
      hint = 'the user lacks privileges on the database or schema; grant them or use another user';
    }
    return new CutoverError(ErrorCodes.STORE, `${op} failed on PostgreSQL store ${safeUrl}: ${message}`, {
      hint,
      cause: err,
      details: code === undefined ? undefined : { code },
    });
  }

  function p(): pg.Pool {
    if (pool === undefined) throw new CutoverError(ErrorCodes.STORE, `PostgreSQL store ${safeUrl} is not open`, { hint: 'call init() before using the store' });
    return pool;
  }

  async function q<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await p().query<R>(sql, params)).rows;
  }

  async function tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await p().connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // A client that cannot roll back must not go back into the pool.
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async function guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fail(op, err);
    }
  }

  function groupFromRow(r: QueryResultRow): DiffGroupRow {
    const g: DiffGroupRow = {
      id: r.id,
      route: r.route,
      method: r.method,
      endpoint: r.endpoint,
      path: r.path,
      kind: r.kind,
      count: r.window_count ?? r.count,
      total: r.count,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      status: r.status as DiffGroupStatus,
    };
    if (r.triage !== null) g.triage = r.triage as DiffTriage;
    return g;
  }

  /** Conditions whose value is undefined are left out; `?` becomes the next $n. */
  function whereOf(conds: Array<[string, unknown]>, params: unknown[] = []): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    for (const [clause, value] of conds) {
      if (value === undefined) continue;
      params.push(value);
      clauses.push(clause.replace('?', `$${params.length}`));
    }
    return { where: clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`, params };
  }

  const store: Store = {
    init: () =>
      guard('init', async () => {
        if (pool !== undefined) return;
        const created = new pg.Pool({
          connectionString: url,
          max: options.poolSize ?? 4,
          connectionTimeoutMillis: 5_000,
          idleTimeoutMillis: 30_000,
          application_name: 'cutover',
          types,
        });
        // An idle client dying (server restart) emits on the pool; unhandled, that would crash the process.
        created.on('error', () => {});
        pool = created;
        try {
          await tx(async (c) => {
            await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
            if (schema !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
            await c.query(t('CREATE TABLE IF NOT EXISTS {s}meta (key text PRIMARY KEY, value text NOT NULL)'));
            const rows = (await c.query(t('SELECT value FROM {s}meta WHERE key = $1'), [SCHEMA_VERSION_KEY])).rows;
            const current = rows.length === 0 ? 0 : Number(rows[0].value);
            if (!Number.isInteger(current) || current < 0) {
              throw new CutoverError(ErrorCodes.STORE, `PostgreSQL store ${safeUrl} has an unreadable schema_version "${String(rows[0].value)}"`, {
                hint: 'the meta table was edited by hand; restore it',
              });
            }
            if (current > POSTGRES_MIGRATIONS.length) {
              throw new CutoverError(
                ErrorCodes.STORE,
                `PostgreSQL store ${safeUrl}${schema === undefined ? '' : ` (schema ${schema})`} is at schema version ${current}, newer than this cutover understands (${POSTGRES_MIGRATIONS.length})`,
                { hint: 'upgrade cutover, or point store.url at another database' },
              );
            }
            for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) await c.query(t(POSTGRES_MIGRATIONS[v]));
            if (current !== POSTGRES_MIGRATIONS.length) {
              await c.query(t('INSERT INTO {s}meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value'), [
                SCHEMA_VERSION_KEY,
                String(POSTGRES_MIGRATIONS.length),
              ]);
            }
          });
        } catch (err) {
          pool = undefined;
          await created.end().catch(() => {});
          throw err;
        }
      }),

    close: () =>
      guard('close', async () => {
        const current = pool;
        pool = undefined;
        if (current !== undefined) await current.end();
      }),

    getMeta: (key) =>
      guard('getMeta', async () => {
        const rows = await q<{ value: string }>(t('SELECT value FROM {s}meta WHERE key = $1'), [key]);
        return rows.length === 0 ? undefined : rows[0].value;
      }),

    setMeta: (key, value) =>
      guard('setMeta', async () => {
        if (key === SCHEMA_VERSION_KEY) {
          throw new CutoverError(ErrorCodes.STORE, `meta key "${SCHEMA_VERSION_KEY}" is reserved for the store's migrations`, { hint: 'use another key' });
        }
        await q(t('INSERT INTO {s}meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value'), [key, value]);
      }),

    listRouteOverrides: () =>
      guard('listRouteOverrides', async () =>
        (await q(t('SELECT * FROM {s}route_overrides ORDER BY route'))).map((r) => ({
          route: r.route as string,
          mode: r.mode as Mode,
          percent: r.percent as number,
          updatedAt: r.updated_at as number,
          updatedBy: r.updated_by as string,
        })),
      ),

    putRouteOverride: (o) =>
      guard('putRouteOverride', async () => {
        await q(
          t(`INSERT INTO {s}route_overrides (route, mode, percent, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (route) DO UPDATE SET mode = EXCLUDED.mode, percent = EXCLUDED.percent,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`),
          [o.route, o.mode, o.percent, o.updatedAt, o.updatedBy],
        );
      }),

    deleteRouteOverride: (route) =>
      guard('deleteRouteOverride', async () => {
        await q(t('DELETE FROM {s}route_overrides WHERE route = $1'), [route]);
      }),

    putTelemetryBuckets: (rows) =>
      guard('putTelemetryBuckets', async () => {
        if (rows.length === 0) return;
        const unique = dedupeTelemetryBuckets(rows);
        await q(
          t(`INSERT INTO {s}telemetry_buckets (minute, route, endpoint, backend, role, instance, data)
             SELECT m, r, e, b, ro, i, d::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(m, r, e, b, ro, i, d)
             ON CONFLICT (minute, route, endpoint, backend, role, instance) DO UPDATE SET data = EXCLUDED.data`),
          [
            ...columnsOf(unique, ['minute', 'route', 'endpoint', 'backend', 'role', 'instance']),
            unique.map((r) => jsonbText(r.data)),
          ],
        );
      }),

    listTelemetryBuckets: (range) =>
      guard('listTelemetryBuckets', async () => {
        const { where, params } = whereOf([
          ['route = ?', range.route],
          ['minute >= ?', range.from],
          ['minute < ?', range.to],
          ['instance <> ?', range.excludeInstance],
        ]);
        return (await q(t(`SELECT * FROM {s}telemetry_buckets${where} ORDER BY minute, route, endpoint, backend, role, instance`), params)).map((r) => ({
          minute: r.minute as number,
          route: r.route as string,
          endpoint: r.endpoint as string,
          backend: r.backend as string,
          role: r.role as string,
          instance: r.instance as string,
          data: r.data as unknown,
        }));
      }),

    addComparisonCounts: (rows) =>
      guard('addComparisonCounts', async () => {
        if (rows.length === 0) return;
        const folded = foldComparisonCounts(rows);
        await q(
          t(`INSERT INTO {s}comparison_counts AS cc (minute, route, endpoint, outcome, reason, count)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
             ON CONFLICT (minute, route, endpoint, outcome, reason) DO UPDATE SET count = cc.count + EXCLUDED.count`),
          columnsOf(folded, ['minute', 'route', 'endpoint', 'outcome', 'reason', 'count']),
        );
      }),

    listComparisonCounts: (range) =>
      guard('listComparisonCounts', async () => {
        const { where, params } = whereOf([['route = ?', range.route], ['minute >= ?', range.from], ['minute < ?', range.to]]);
        return (await q(t(`SELECT * FROM {s}comparison_counts${where} ORDER BY minute, route, endpoint, outcome, reason`), params)).map((r) => ({
          minute: r.minute as number,
          route: r.route as string,
          endpoint: r.endpoint as string,
          outcome: r.outcome as ComparisonCountRow['outcome'],
          reason: r.reason as string,
          count: r.count as number,
        }));
      }),

    recordDiffs: (observations, maxSamples) =>
      guard('recordDiffs', async () => {
        if (observations.length === 0) return;
        const groups = foldDiffObservations(observations);
        await tx(async (c) => {
          // The upsert row-locks every group until COMMIT, so a concurrent
          // instance cannot count samples between our count and our insert.
          await c.query(
            t(`INSERT INTO {s}diff_groups AS g (id, route, method, endpoint, path, kind, count, first_seen, last_seen, status)
               SELECT id, route, method, endpoint, path, kind, count, first_seen, last_seen, 'open'
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[])
                 AS x(id, route, method, endpoint, path, kind, count, first_seen, last_seen)
               ON CONFLICT (id) DO UPDATE SET count = g.count + EXCLUDED.count,
                 first_seen = LEAST(g.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(g.last_seen, EXCLUDED.last_seen)`),
            [
              groups.map((g) => g.id),
              groups.map((g) => g.route),
              groups.map((g) => g.method),
              groups.map((g) => g.endpoint),
              groups.map((g) => g.path),
              groups.map((g) => g.kind),
              groups.map((g) => g.count),
              groups.map((g) => g.firstSeen),
              groups.map((g) => g.lastSeen),
            ],
          );
          const minutes = groups.flatMap((g) => g.minutes.map((m) => ({ id: g.id, ...m })));
          await c.query(
            t(`INSERT INTO {s}diff_group_minutes AS m (group_id, minute, count)
               SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
               ON CONFLICT (group_id, minute) DO UPDATE SET count = m.count + EXCLUDED.count`),
            [minutes.map((m) => m.id), minutes.map((m) => m.minute), minutes.map((m) => m.count)],
          );
          if (maxSamples <= 0) return;
          const withSamples = groups.filter((g) => g.samples.length > 0);
          if (withSamples.length === 0) return;
          const have = new Map<string, number>();
          const counted = await c.query<{ group_id: string; n: number }>(
            t('SELECT group_id, count(*) AS n FROM {s}diff_samples WHERE group_id = ANY($1::text[]) GROUP BY group_id'),
            [withSamples.map((g) => g.id)],
          );
          for (const r of counted.rows) have.set(r.group_id, r.n);
          const ids: string[] = [];
          const times: number[] = [];
          const samples: string[] = [];
          for (const g of withSamples) {
            const room = Math.min(maxSamples - (have.get(g.id) ?? 0), g.samples.length);
            for (let i = 0; i < room; i++) {
              ids.push(g.id);
              times.push(g.samples[i].time);
              samples.push(jsonbText(g.samples[i].sample));
            }
          }
          if (ids.length === 0) return;
          // WITH ORDINALITY keeps identity ids in array order, which is the sample order readers see for equal times.
          await c.query(
            t(`INSERT INTO {s}diff_samples (group_id, time, sample)
               SELECT g, tm, s::jsonb FROM unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY AS x(g, tm, s, n) ORDER BY n`),
            [ids, times, samples],
          );
        });
      }),

    listDiffGroups: (filter) =>
      guard('listDiffGroups', async () => {
        const windowed = filter.from !== undefined || filter.to !== undefined;
        let from = '{s}diff_groups';
        const params: unknown[] = [];
        if (windowed) {
          const minutes = whereOf([['minute >= ?', filter.from], ['minute < ?', filter.to]], params);
          from = `{s}diff_groups JOIN (SELECT group_id, sum(count)::bigint AS window_count FROM {s}diff_group_minutes${minutes.where} GROUP BY group_id) w ON w.group_id = {s}diff_groups.id`;
        }
        const { where } = whereOf([['route = ?', filter.route], ['status = ?', filter.status]], params);
        params.push(filter.limit ?? null);
        const order = windowed ? 'window_count DESC' : 'count DESC';
        const sql = `SELECT * FROM ${from}${where} ORDER BY ${order}, last_seen DESC, id LIMIT $${params.length}`;
        return (await q(t(sql), params)).map(groupFromRow);
      }),

    addComparedMinutes: (rows) =>
      guard('addComparedMinutes', async () => {
        if (rows.length === 0) return;
        const folded = foldComparedMinutes(rows);
        await q(
          t(`INSERT INTO {s}compared_minutes AS cm (minute, route, method, endpoint, match, mismatch)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
             ON CONFLICT (minute, route, method, endpoint) DO UPDATE SET match = cm.match + EXCLUDED.match, mismatch = cm.mismatch + EXCLUDED.mismatch`),
          columnsOf(folded, ['minute', 'route', 'method', 'endpoint', 'match', 'mismatch']),
        );
      }),

    listComparedMinutes: (range) =>
      guard('listComparedMinutes', async () => {
        const { where, params } = whereOf([['route = ?', range.route], ['minute >= ?', range.from], ['minute < ?', range.to]]);
        return (await q(t(`SELECT * FROM {s}compared_minutes${where} ORDER BY minute, route, method, endpoint`), params)).map(comparedMinuteOf);
      }),

    getDiffGroup: (id) =>
      guard('getDiffGroup', async () => {
        const rows = await q(t('SELECT * FROM {s}diff_groups WHERE id = $1'), [id]);
        return rows.length === 0 ? undefined : groupFromRow(rows[0]);
      }),

    listDiffSamples: (groupId, limit) =>
      guard('listDiffSamples', async () =>
        (await q(t('SELECT group_id, time, sample FROM {s}diff_samples WHERE group_id = $1 ORDER BY time, id LIMIT $2'), [groupId, limit])).map(
          (r): DiffSampleRow => ({ groupId: r.group_id as string, time: r.time as number, sample: r.sample as unknown }),
        ),
      ),

    triageDiffGroup: (id, triage) =>
      guard('triageDiffGroup', async () => {
        const rows = await q(
          t('UPDATE {s}diff_groups SET status = $1, triage = $2::jsonb, triage_expires_at = $3 WHERE id = $4 RETURNING *'),
          [triage.status, jsonbText(triage), triage.expiresAt ?? null, id],
        );
        return rows.length === 0 ? undefined : groupFromRow(rows[0]);
      }),

    upsertNoise: (rows) =>
      guard('upsertNoise', async () => {
        if (rows.length === 0) return;
        // Same key twice in one statement is an error in Postgres; the last one wins, as it would across calls.
        const unique = [...new Map(rows.map((r) => [[r.route, r.endpoint, r.path, r.kind].join('\u0000'), r])).values()];
        await q(
          t(`INSERT INTO {s}noise AS n (route, endpoint, path, kind, raw_count, noise_count, total, status, updated_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[])
             ON CONFLICT (route, endpoint, path, kind) DO UPDATE SET raw_count = EXCLUDED.raw_count,
               noise_count = EXCLUDED.noise_count, total = EXCLUDED.total, updated_at = EXCLUDED.updated_at,
               status = CASE WHEN n.status = 'learned' THEN EXCLUDED.status ELSE n.status END`),
          columnsOf(unique, ['route', 'endpoint', 'path', 'kind', 'rawCount', 'noiseCount', 'total', 'status', 'updatedAt']),
        );
      }),

    listNoise: (filter) =>
      guard('listNoise', async () => {
        const { where, params } = whereOf([['route = ?', filter.route], ['status = ?', filter.status]]);
        return (await q(t(`SELECT * FROM {s}noise${where} ORDER BY route, endpoint, path, kind`), params)).map((r) => ({
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
      }),

    setNoiseStatus: (route, endpoint, path, kind, status) =>
      guard('setNoiseStatus', async () => {
        const res = await p().query(t('UPDATE {s}noise SET status = $1 WHERE route = $2 AND endpoint = $3 AND path = $4 AND kind = $5'), [
          status,
          route,
          endpoint,
          path,
          kind,
        ]);
        return (res.rowCount ?? 0) > 0;
      }),

    getRollout: (key) =>
      guard('getRollout', async () => {
        const rows = await q(t('SELECT state FROM {s}rollouts WHERE key = $1'), [key]);
        return rows.length === 0 ? undefined : (rows[0].state as unknown);
      }),

    putRollout: (key, state) =>
      guard('putRollout', async () => {
        await q(
          t(`INSERT INTO {s}rollouts (key, state, updated_at) VALUES ($1, $2::jsonb, $3)
             ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`),
          [key, jsonbText(state), Date.now()],
        );
      }),

    listRollouts: () =>
      guard('listRollouts', async () =>
        (await q(t('SELECT key, state FROM {s}rollouts ORDER BY key'))).map((r) => ({ key: r.key as string, state: r.state as unknown })),
      ),

    appendAudit: (e: AuditEntry) =>
      guard('appendAudit', async () => {
        const rows = await q<{ id: number }>(
          t(`INSERT INTO {s}audit (time, subject, action, actor, from_value, to_value, evidence)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb) RETURNING id`),
          [e.time, e.subject, e.action, e.actor, optionalJsonb(e.from), optionalJsonb(e.to), optionalJsonb(e.evidence)],
        );
        return rows[0].id;
      }),

    listAudit: (filter) =>
      guard('listAudit', async () => {
        const { where, params } = whereOf([['subject = ?', filter.subject], ['time >= ?', filter.from], ['time < ?', filter.to]]);
        params.push(filter.limit ?? null);
        // As text: pg parses jsonb 'null' and SQL NULL both to null, and "from: null" must not read back as "no from".
        const rows = await q(
          t(`SELECT id, time, subject, action, actor, from_value::text AS from_value, to_value::text AS to_value, evidence::text AS evidence
             FROM {s}audit${where} ORDER BY time DESC, id DESC LIMIT $${params.length}`),
          params,
        );
        return rows.map((r) => {
          const e: AuditEntry = { id: r.id, time: r.time, subject: r.subject, action: r.action, actor: r.actor };
          if (r.from_value !== null) e.from = JSON.parse(r.from_value);
          if (r.to_value !== null) e.to = JSON.parse(r.to_value);
          if (r.evidence !== null) e.evidence = JSON.parse(r.evidence);
          return e;
        });
      }),

    prune: ({ olderThan, maxRows }) =>
      guard('prune', async () => {
        await tx(async (c) => {
          await c.query(t('DELETE FROM {s}telemetry_buckets WHERE minute < $1'), [olderThan]);
          await c.query(t('DELETE FROM {s}comparison_counts WHERE minute < $1'), [olderThan]);
          await c.query(t('DELETE FROM {s}compared_minutes WHERE minute < $1'), [olderThan]);
          await c.query(t('DELETE FROM {s}diff_group_minutes WHERE minute < $1'), [olderThan]);
          await c.query(t('DELETE FROM {s}diff_samples WHERE time < $1'), [olderThan]);
          await c.query(
            t(`DELETE FROM {s}diff_groups WHERE last_seen < $1
                 AND (status = 'open' OR (triage_expires_at IS NOT NULL AND triage_expires_at < $1))`),
            [olderThan],
          );
          if (Number.isFinite(maxRows)) {
            await c.query(t('DELETE FROM {s}diff_samples WHERE id IN (SELECT id FROM {s}diff_samples ORDER BY time DESC, id DESC OFFSET $1)'), [
              Math.max(0, Math.floor(maxRows)),
            ]);
          }
        });
      }),
  };
  return store;
}

/** SQL NULL for "absent" keeps `undefined` and an explicit JSON null apart on the way back. */
function optionalJsonb(value: unknown): string | null {
  return value === undefined ? null : jsonbText(value);
}
