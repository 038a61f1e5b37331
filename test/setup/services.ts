/**
 * Makes sure the services the integration tests talk to are up before
 * `node --test` starts: PostgreSQL (trust auth, database `test`) and Redis.
 * `npm run test:integration` runs it first.
 *
 * When both answer it prints one line and exits 0. Otherwise, on this
 * machine only (a remote target is never touched), it installs what is
 * missing with apt-get, creates/configures the cluster, starts what is down,
 * creates the role/database, and waits (bounded) until both answer, printing
 * every action. It needs root for any of that and says so if it lacks it.
 * Written for Debian 12 (postgresql-common's pg_ctlcluster layout).
 *
 * Targets, overridable for other setups:
 *   CUTOVER_TEST_PG_URL     default postgres://postgres@127.0.0.1:5432/test
 *   CUTOVER_TEST_REDIS_URL  default redis://127.0.0.1:6379
 *
 * @example
 * node test/setup/services.ts
 * // services: postgres postgres://postgres@127.0.0.1:5432/test and redis 127.0.0.1:6379 are reachable
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';

const PG_URL = process.env.CUTOVER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CUTOVER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const pgTarget = new URL(PG_URL);
const pgHost = pgTarget.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
const pgPort = Number(pgTarget.port || 5432);
const pgUser = decodeURIComponent(pgTarget.username || process.env.USER || 'postgres');
const pgDatabase = decodeURIComponent(pgTarget.pathname.slice(1) || pgUser);
const redisTarget = new URL(REDIS_URL);
const redisHost = redisTarget.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
const redisPort = Number(redisTarget.port || 6379);

const PG_START_WAIT_MS = 30_000;
const REDIS_START_WAIT_MS = 15_000;

class SetupError extends Error {}

function log(line: string): void {
  console.log(`services: ${line}`);
}

const isLocal = (host: string): boolean => host === '127.0.0.1' || host === 'localhost' || host === '::1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type PgState =
  | { ok: true }
  | { ok: false; kind: 'down' | 'auth' | 'norole' | 'nodb' | 'other'; detail: string };

async function probePostgres(): Promise<PgState> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const detail = `${e.code ?? ''} ${e.message ?? String(err)}`.trim();
    // 57P03: "the database system is starting up" is worth waiting for, like a refused connection.
    if (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' || e.code === 'ECONNRESET' || e.code === '57P03' || /timeout|terminated/i.test(e.message ?? '')) {
      return { ok: false, kind: 'down', detail };
    }
    if (e.code === '3D000') return { ok: false, kind: 'nodb', detail };
    if (e.code === '28000' && /role .* does not exist/.test(e.message ?? '')) return { ok: false, kind: 'norole', detail };
    if (e.code === '28000' || e.code === '28P01') return { ok: false, kind: 'auth', detail };
    return { ok: false, kind: 'other', detail };
  } finally {
    await client.end().catch(() => {});
  }
}

type RedisState = { ok: true } | { ok: false; kind: 'down' | 'other'; detail: string };

/** Raw RESP over TCP: a client library would be a dependency for one PING. */
function probeRedis(): Promise<RedisState> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: redisHost, port: redisPort });
    let reply = '';
    const done = (state: RedisState): void => {
      socket.destroy();
      resolve(state);
    };
    socket.setTimeout(1_500, () => done({ ok: false, kind: 'down', detail: 'no answer within 1.5 s' }));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end === -1) return;
      const line = reply.slice(0, end);
      done(line === '+PONG' ? { ok: true } : { ok: false, kind: 'other', detail: `answered "${line}" to PING` });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, kind: 'down', detail: err.code ?? err.message }));
    socket.on('end', () => done({ ok: false, kind: 'other', detail: 'closed the connection without answering PING' }));
  });
}

/** Runs a command with its output shown, failing loudly; `what` says why in the log. */
function sh(what: string, cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): string {
  log(`${what}: ${[cmd, ...args.map((a) => (a === '' || /\s/.test(a) ? JSON.stringify(a) : a))].join(' ')}`);
  const res = spawnSync(cmd, args, {
    stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    env: options.env ?? process.env,
  });
  if (res.error !== undefined) throw new SetupError(`${what} failed: ${res.error.message}`);
  if (res.status !== 0) {
    const out = options.quiet ? `\n${(res.stdout ?? '') + (res.stderr ?? '')}`.trimEnd() : '';
    throw new SetupError(`${what} failed: ${cmd} exited with ${res.status ?? res.signal}${out}`);
  }
  return res.stdout ?? '';
}

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function requireRoot(todo: string): void {
  if (process.getuid?.() !== 0) throw new SetupError(`${todo} needs root; run this script as root or do it by hand`);
}

const postgresInstalled = (): boolean =>
  commandExists('pg_ctlcluster') && existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));

function aptInstall(packages: string[]): void {
  requireRoot(`installing ${packages.join(' ')}`);
  if (!commandExists('apt-get')) throw new SetupError(`${packages.join(' ')} missing and there is no apt-get here; install them by hand`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  sh('refreshing package lists', 'apt-get', ['update'], { env, timeoutMs: 600_000 });
  sh(`installing ${packages.join(' ')}`, 'apt-get', ['install', '-y', ...packages], { env, timeoutMs: 900_000 });
}

interface Cluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
  log: string;
}

function listClusters(): Cluster[] {
  const out = spawnSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6)
    .map(([version, name, port, status, , , log]) => ({ version, name, port: Number(port), online: status.startsWith('online'), log: log ?? '' }));
}

/** The cluster serving our port; created as `<newest version>/main` when there is none at all. */
function findOrCreateCluster(): Cluster {
  let clusters = listClusters();
  const onPort = clusters.find((c) => c.port === pgPort);
  if (onPort !== undefined) return onPort;
  if (clusters.length > 0) {
    throw new SetupError(
      `no PostgreSQL cluster is configured for port ${pgPort} (have ${clusters.map((c) => `${c.version}/${c.name} on ${c.port}`).join(', ')}); ` +
        'point CUTOVER_TEST_PG_URL at one of those or change the cluster port',
    );
  }
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
  const version = versions.sort((a, b) => Number(b) - Number(a))[0];
  requireRoot('creating a PostgreSQL cluster');
  sh('creating the PostgreSQL cluster', 'pg_createcluster', [version, 'main', '--port', String(pgPort)]);
  clusters = listClusters();
  const created = clusters.find((c) => c.port === pgPort);
  if (created === undefined) throw new SetupError(`pg_createcluster ran but no cluster listens on ${pgPort}: ${JSON.stringify(clusters)}`);
  return created;
}

const TRUST_LINE = 'host all all 127.0.0.1/32 trust';

/**
 * pg_hba.conf is first-match: what counts is the first rule that would match
 * a TCP connection from 127.0.0.1 for any database and user. If that one is
 * already trust, nothing changes; otherwise the trust line goes above every
 * rule. Rules naming a specific database or user are skipped, which is good
 * enough for test machines. Returns the new text, or undefined when unchanged.
 */
export function withTrustLine(hba: string): string | undefined {
  const lines = hba.split('\n');
  const rules = lines.map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '').map((l) => l.split(/\s+/));
  const loopback = new Set(['127.0.0.1/32', '127.0.0.1', '127.0.0.0/8', '0.0.0.0/0', 'all', 'samehost', 'localhost']);
  const deciding = rules.find(
    ([type, database, user, address]) => /^host(ssl|nossl|gssenc|nogssenc)?$/.test(type) && database === 'all' && user === 'all' && loopback.has(address),
  );
  if (deciding !== undefined && deciding[deciding[3] === '127.0.0.1' ? 5 : 4] === 'trust') return undefined;
  const firstRule = lines.findIndex((l) => l.replace(/#.*/, '').trim() !== '');
  lines.splice(firstRule === -1 ? lines.length : firstRule, 0, '# added by cutover test/setup/services.ts: integration tests connect without a password', TRUST_LINE);
  return lines.join('\n');
}

/** True when the file changed (a running server then needs a reload). */
function ensureTrust(cluster: Cluster): boolean {
  const path = `/etc/postgresql/${cluster.version}/${cluster.name}/pg_hba.conf`;
  const next = withTrustLine(readFileSync(path, 'utf8'));
  if (next === undefined) return false;
  requireRoot(`editing ${path}`);
  writeFileSync(path, next);
  log(`added "${TRUST_LINE}" at the top of ${path}`);
  return true;
}

function pgctl(cluster: Cluster, action: 'start' | 'reload'): void {
  requireRoot(`${action} PostgreSQL`);
  try {
    sh(`${action === 'start' ? 'starting' : 'reloading'} PostgreSQL ${cluster.version}/${cluster.name}`, 'pg_ctlcluster', [
      '--skip-systemctl-redirect',
      cluster.version,
      cluster.name,
      action,
    ]);
  } catch (err) {
    throw new SetupError(`${(err as Error).message}\n${logTail(cluster.log)}`);
  }
}

function logTail(path: string): string {
  try {
    return `last lines of ${path}:\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`;
  } catch {
    return `(no log at ${path})`;
  }
}

/** Admin SQL as the postgres OS user over the Unix socket (peer auth), which works before TCP trust does. */
function adminSql(cluster: Cluster, what: string, sql: string): void {
  requireRoot(what);
  sh(what, 'runuser', ['-u', 'postgres', '--', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-p', String(cluster.port), '-d', 'postgres', '-c', sql], {
    quiet: true,
  });
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function waitFor<T extends { ok: boolean }>(probe: () => Promise<T>, until: (s: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let state = await probe();
  while (!until(state) && Date.now() < deadline) {
    await sleep(250);
    state = await probe();
  }
  return state;
}

async function ensurePostgres(initial: PgState): Promise<void> {
  let state = initial;
  if (state.ok) return;
  const where = `${pgHost}:${pgPort}`;
  log(`postgres at ${where} (database ${pgDatabase}, user ${pgUser}) is not usable: ${state.kind}: ${state.detail}`);
  if (!isLocal(pgHost)) throw new SetupError(`postgres at ${where} is not on this machine, so it is not touched; fix it there or set CUTOVER_TEST_PG_URL`);
  if (state.kind === 'other') throw new SetupError(`postgres at ${where} failed in a way this script does not repair: ${state.detail}`);

  if (!postgresInstalled()) aptInstall(['postgresql']);
  const cluster = findOrCreateCluster();
  const hbaChanged = ensureTrust(cluster);
  // Look again rather than trust `state`: apt may just have started the server (hosts without policy-rc.d).
  const online = listClusters().find((c) => c.port === pgPort)?.online === true;
  if (!online) pgctl(cluster, 'start');
  else if (hbaChanged) pgctl(cluster, 'reload');
  // A reload is applied asynchronously by the postmaster, so an auth failure right after it is worth retrying too.
  const settled = (s: PgState): boolean => s.ok || (s.kind !== 'down' && !(hbaChanged && s.kind === 'auth'));
  state = await waitFor(probePostgres, settled, online ? 5_000 : PG_START_WAIT_MS);
  if (!state.ok && state.kind === 'down') {
    throw new SetupError(
      online
        ? `cluster ${cluster.version}/${cluster.name} is online on port ${pgPort} but ${where} refuses connections; check listen_addresses\n${logTail(cluster.log)}`
        : `postgres did not accept connections within ${PG_START_WAIT_MS / 1000} s\n${logTail(cluster.log)}`,
    );
  }
  if (!state.ok && state.kind === 'norole') {
    adminSql(cluster, `creating role ${pgUser}`, `CREATE ROLE ${ident(pgUser)} LOGIN SUPERUSER`);
    state = await probePostgres();
  }
  if (!state.ok && state.kind === 'nodb') {
    adminSql(cluster, `creating database ${pgDatabase}`, `CREATE DATABASE ${ident(pgDatabase)} OWNER ${ident(pgUser)}`);
    state = await probePostgres();
  }
  if (!state.ok) throw new SetupError(`postgres at ${where} still not usable after repairs: ${state.kind}: ${state.detail}\n${logTail(cluster.log)}`);
  log(`postgres at ${where} is ready`);
}

async function ensureRedis(initial: RedisState): Promise<void> {
  if (initial.ok) return;
  const where = `${redisHost}:${redisPort}`;
  log(`redis at ${where} is not usable: ${initial.kind}: ${initial.detail}`);
  if (!isLocal(redisHost)) throw new SetupError(`redis at ${where} is not on this machine, so it is not touched; fix it there or set CUTOVER_TEST_REDIS_URL`);
  // Something answers but not with PONG (auth, protected mode): someone else's server; leave it alone.
  if (initial.kind === 'other') throw new SetupError(`redis at ${where} is running but ${initial.detail}; tests need a password-less redis there`);

  if (!commandExists('redis-server')) aptInstall(['redis-server']);
  // apt may have started it (when policy-rc.d allows), so look again before starting a second one.
  let state = await probeRedis();
  if (!state.ok) {
    requireRoot('starting redis');
    mkdirSync('/var/lib/redis', { recursive: true });
    mkdirSync('/var/log/redis', { recursive: true });
    // Test-only settings: nothing persisted, so a restart always starts empty.
    sh('starting redis', 'redis-server', [
      '--daemonize', 'yes',
      '--bind', '127.0.0.1', '-::1',
      '--port', String(redisPort),
      '--save', '',
      '--appendonly', 'no',
      '--dir', '/var/lib/redis',
      '--logfile', '/var/log/redis/ci.log',
    ]);
    state = await waitFor(probeRedis, (s) => s.ok, REDIS_START_WAIT_MS);
  }
  if (!state.ok) throw new SetupError(`redis at ${where} did not answer PING within ${REDIS_START_WAIT_MS / 1000} s: ${state.detail}\n${logTail('/var/log/redis/ci.log')}`);
  log(`redis at ${where} is ready`);
}

async function main(): Promise<number> {
  const pgShown = PG_URL.replace(/:[^:@/]*@/, ':***@');
  const [pgState, redisState] = await Promise.all([probePostgres(), probeRedis()]);
  if (pgState.ok && redisState.ok) {
    log(`postgres ${pgShown} and redis ${redisHost}:${redisPort} are reachable`);
    return 0;
  }
  const started = Date.now();
  try {
    // One apt run for both when both are missing: apt-get update is the slow part.
    const missing: string[] = [];
    if (!pgState.ok && pgState.kind === 'down' && isLocal(pgHost) && !postgresInstalled()) missing.push('postgresql');
    if (!redisState.ok && redisState.kind === 'down' && isLocal(redisHost) && !commandExists('redis-server')) missing.push('redis-server');
    if (missing.length > 0) aptInstall(missing);
    await ensurePostgres(pgState);
    await ensureRedis(redisState);
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    console.error(`services: FAILED: ${err.message}`);
    return 1;
  }
  log(`postgres ${pgShown} and redis ${redisHost}:${redisPort} are ready (setup took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error('services: FAILED unexpectedly:', err);
      process.exit(1);
    },
  );
}
