import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createSqliteStore, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from '../../../src/storage/sqlite/sqlite-store.ts';
import { openStore, sqlitePath } from '../../../src/storage/index.ts';
import { runStoreContract } from '../../helpers/store-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'cutover-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(root, `case-${++n}`, 'nested', 'cutover.db');

runStoreContract('sqlite file', async () => createSqliteStore({ path: freshPath() }));
runStoreContract('sqlite :memory:', async () => createSqliteStore({ path: ':memory:' }));

function isStoreError(err: unknown, pattern: RegExp): boolean {
  const e = err as { code?: string; message?: string; hint?: string };
  assert.equal(e.code, 'CUTOVER_ERR_STORE');
  assert.match(e.message ?? '', pattern);
  assert.ok(e.hint, 'has a hint');
  return true;
}

describe('sqlite store specifics', () => {
  it('creates missing parent directories and keeps data across reopen', async () => {
    const path = freshPath();
    const first = createSqliteStore({ path });
    await first.init();
    await first.setMeta('k', 'v');
    await first.putRouteOverride({ route: 'r', mode: 'live', percent: 100, updatedAt: 1, updatedBy: 'cli' });
    await first.recordDiffs([{ id: 'g', route: 'r', method: 'GET', endpoint: 'e', path: '$', kind: 'value', time: 5, count: 1, sample: { a: 1 } }], 3);
    const auditId = await first.appendAudit({ time: 1, subject: 'r', action: 'a', actor: 'cli' });
    await first.close();
    assert.ok(existsSync(path));

    const second = createSqliteStore({ path });
    await second.init();
    assert.equal(await second.getMeta('k'), 'v');
    assert.equal((await second.listRouteOverrides())[0].mode, 'live');
    assert.deepEqual((await second.listDiffSamples('g', 5))[0].sample, { a: 1 });
    assert.ok((await second.appendAudit({ time: 2, subject: 'r', action: 'b', actor: 'cli' })) > auditId);
    await second.close();
  });

  it('leaves the file in WAL mode and records the schema version', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path });
    await store.init();
    assert.equal(await store.getMeta('schema_version'), String(SQLITE_SCHEMA_VERSION));
    await store.close();
    const raw = new DatabaseSync(path);
    assert.equal((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    raw.close();
  });

  it('upgrades a version 2 database: telemetry rows keep their data under instance ""', async () => {
    const path = freshPath();
    await createSqliteStore({ path }).init().then(() => {}); // creates the directories
    rmSync(path);
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    for (const m of SQLITE_MIGRATIONS.slice(0, 2)) raw.exec(m);
    raw.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
    raw.prepare("INSERT INTO telemetry_buckets (minute, route, endpoint, backend, role, data) VALUES (60000, 'r', 'GET /x', 'legacy', 'primary', '{\"v\":1}')").run();
    raw.close();

    const store = createSqliteStore({ path });
    await store.init();
    assert.equal(await store.getMeta('schema_version'), String(SQLITE_SCHEMA_VERSION));
    const row = { minute: 60_000, route: 'r', endpoint: 'GET /x', backend: 'legacy', role: 'primary' };
    assert.deepEqual(await store.listTelemetryBuckets({}), [{ ...row, instance: '', data: { v: 1 } }]);
    await store.putTelemetryBuckets([{ ...row, instance: 'host-a_1', data: { v: 2 } }]);
    assert.equal((await store.listTelemetryBuckets({ route: 'r', from: 60_000 })).length, 2, 'the old row and the new instance row side by side');
    await store.close();
  });

  it('refuses a database written by a newer cutover', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path });
    await store.init();
    await store.close();
    const raw = new DatabaseSync(path);
    raw.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    raw.close();
    await assert.rejects(createSqliteStore({ path }).init(), (err) => isStoreError(err, /schema version 999, newer/));
  });

  it('lets two connections on one file write in turn (busy timeout)', async () => {
    const path = freshPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    await a.init();
    await b.init();
    await Promise.all([
      a.addComparisonCounts([{ minute: 0, route: 'r', endpoint: 'e', outcome: 'match', reason: '', count: 2 }]),
      b.addComparisonCounts([{ minute: 0, route: 'r', endpoint: 'e', outcome: 'match', reason: '', count: 3 }]),
    ]);
    assert.equal((await a.listComparisonCounts({}))[0].count, 5);
    await a.close();
    await b.close();
  });

  it('fails with a STORE error naming the file when it is not a database', async () => {
    const dir = join(root, `garbage-${++n}`);
    const path = join(dir, 'cutover.db');
    await createSqliteStore({ path: join(dir, 'probe.db') }).init(); // creates dir
    writeFileSync(path, 'this is not sqlite '.repeat(100));
    await assert.rejects(createSqliteStore({ path }).init(), (err) => isStoreError(err, new RegExp(`${path.replaceAll('/', '\\/')}`)));
  });

  it('loses no committed batch when the writer is killed with SIGKILL', async () => {
    const path = freshPath();
    const storeUrl = pathToFileURL(join(import.meta.dirname, '../../../src/storage/sqlite/sqlite-store.ts')).href;
    // The child acknowledges each batch only after recordDiffs resolved, i.e. after COMMIT.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createSqliteStore } = await import(${JSON.stringify(storeUrl)});
         const store = createSqliteStore({ path: ${JSON.stringify(path)} });
         await store.init();
         for (let b = 0; ; b++) {
           const batch = Array.from({ length: 500 }, (_, i) => ({ id: 'g' + (i % 50), route: 'r', method: 'GET', endpoint: 'e', path: '$', kind: 'value', time: b, count: 1, sample: { b, i } }));
           await store.recordDiffs(batch, 3);
           process.stdout.write(b + '\\n');
         }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let acked = -1;
    let buffered = '';
    await new Promise<void>((resolveKilled) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) acked = Number(l);
        if (acked >= 20 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolveKilled());
    });
    assert.ok(acked >= 20, `child acknowledged ${acked} batches`);

    const store = createSqliteStore({ path });
    await store.init();
    const groups = await store.listDiffGroups({});
    const total = groups.reduce((sum, g) => sum + g.count, 0);
    assert.ok(total >= (acked + 1) * 500, `found ${total} observations, ${(acked + 1) * 500} were acknowledged`);
    assert.equal(total % 500, 0, 'batches are all-or-nothing');
    await store.close();
  });

  it('rejects use before init with a STORE error', async () => {
    await assert.rejects(createSqliteStore({ path: ':memory:' }).listRollouts(), (err) => isStoreError(err, /not open/));
  });
});

describe('openStore', () => {
  it('opens <dataDir>/cutover.db for sqlite, ready to use', async () => {
    const dataDir = join(root, `data-${++n}`);
    const store = await openStore({ kind: 'sqlite', dataDir });
    await store.setMeta('x', 'y');
    await store.close();
    assert.ok(existsSync(sqlitePath(dataDir)));
  });

  it('explains an unusable dataDir', async () => {
    const file = join(root, `plain-file-${++n}`);
    writeFileSync(file, '');
    await assert.rejects(openStore({ kind: 'sqlite', dataDir: file }), (err) => isStoreError(err, /cutover\.db/));
  });

  it('requires a url for postgres', async () => {
    await assert.rejects(openStore({ kind: 'postgres', dataDir: root }), (err) => isStoreError(err, /store\.url is not set/));
    await assert.rejects(openStore({ kind: 'postgres', url: 'mysql://x', dataDir: root }), (err) => isStoreError(err, /not a postgres/));
  });

  it('names the server and suggests sqlite when PostgreSQL is not reachable, without leaking the password', async () => {
    await assert.rejects(openStore({ kind: 'postgres', url: 'postgres://u:s3cret@127.0.0.1:1/db', dataDir: root }), (err) => {
      isStoreError(err, /postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
      assert.doesNotMatch(String((err as Error).message), /s3cret/);
      assert.match(String((err as { hint?: string }).hint), /is PostgreSQL running at 127\.0\.0\.1:1\?.*store\.kind: sqlite/);
      return true;
    });
  });
});
