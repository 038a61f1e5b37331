/**
 * Runs the store contract on a real PostgreSQL (test/setup/services.ts makes
 * sure one is up). Every store gets its own schema, so runs never see each
 * other's rows; all schemas of this run are dropped at the end.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore, jsonbText, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from '../../../src/storage/postgres/postgres-store.ts';
import { openStore } from '../../../src/storage/index.ts';
import { runStoreContract } from '../../helpers/store-contract.ts';

const url = process.env.CUTOVER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runId = `cutover_test_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
let n = 0;

function freshSchema(): string {
  const schema = `${runId}_${++n}`;
  schemas.push(schema);
  return schema;
}

async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

after(dropSchemas);

runStoreContract('postgres', async () => createPostgresStore({ url, schema: freshSchema() }), dropSchemas);

describe('postgres store specifics', () => {
  it('creates its schema, keeps data across reopen, and records the schema version', async () => {
    const schema = freshSchema();
    const first = createPostgresStore({ url, schema });
    await first.init();
    await first.putRollout('checkout', { step: 3 });
    const id = await first.appendAudit({ time: 1, subject: 'checkout', action: 'a', actor: 'cli' });
    await first.close();

    const second = createPostgresStore({ url, schema });
    await second.init();
    assert.deepEqual(await second.getRollout('checkout'), { step: 3 });
    assert.equal(await second.getMeta('schema_version'), String(POSTGRES_SCHEMA_VERSION));
    assert.ok((await second.appendAudit({ time: 2, subject: 'checkout', action: 'b', actor: 'cli' })) > id);
    await second.close();
  });

  it('upgrades a version 2 schema: telemetry rows keep their data under instance ""', async () => {
    const schema = freshSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const q = (sql: string) => sql.replaceAll('{s}', `"${schema}".`);
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(q('CREATE TABLE {s}meta (key text PRIMARY KEY, value text NOT NULL)'));
      for (const m of POSTGRES_MIGRATIONS.slice(0, 2)) await client.query(q(m));
      await client.query(q("INSERT INTO {s}meta (key, value) VALUES ('schema_version', '2')"));
      await client.query(q(`INSERT INTO {s}telemetry_buckets (minute, route, endpoint, backend, role, data) VALUES (60000, 'r', 'GET /x', 'legacy', 'primary', '{"v":1}')`));
    } finally {
      await client.end();
    }
    const store = createPostgresStore({ url, schema });
    await store.init();
    try {
      assert.equal(await store.getMeta('schema_version'), String(POSTGRES_SCHEMA_VERSION));
      const row = { minute: 60_000, route: 'r', endpoint: 'GET /x', backend: 'legacy', role: 'primary' };
      assert.deepEqual(await store.listTelemetryBuckets({}), [{ ...row, instance: '', data: { v: 1 } }]);
      await store.putTelemetryBuckets([{ ...row, instance: 'host-a_1', data: { v: 2 } }]);
      assert.equal((await store.listTelemetryBuckets({ route: 'r' })).length, 2, 'the old row and the new instance row side by side');
    } finally {
      await store.close();
    }
  });

  it('migrates once when several instances start together', async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 4 }, () => createPostgresStore({ url, schema }));
    await Promise.all(stores.map((s) => s.init()));
    await Promise.all(stores.map((s, i) => s.setMeta(`instance-${i}`, 'up')));
    assert.equal(await stores[0].getMeta('instance-3'), 'up');
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a schema written by a newer cutover', async () => {
    const schema = freshSchema();
    const store = createPostgresStore({ url, schema });
    await store.init();
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`UPDATE "${schema}".meta SET value = '999' WHERE key = 'schema_version'`);
    await client.end();
    await assert.rejects(createPostgresStore({ url, schema }).init(), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'CUTOVER_ERR_STORE');
      assert.match((err as Error).message, /schema version 999, newer/);
      return true;
    });
  });

  it('keeps a batch whose samples contain U+0000 or lone surrogates, replacing them with U+FFFD', async () => {
    const store = createPostgresStore({ url, schema: freshSchema() });
    await store.init();
    const sample = { body: 'a\u0000b', broken: 'x\ud800y', pair: '🚀', literal: '\\u0000 stays text' };
    await store.recordDiffs([{ id: 'g', route: 'r', method: 'GET', endpoint: 'e', path: '$', kind: 'value', time: 1, count: 1, sample }], 5);
    const [row] = await store.listDiffSamples('g', 1);
    assert.deepEqual(row.sample, { body: 'a\ufffdb', broken: 'x\ufffdy', pair: '🚀', literal: '\\u0000 stays text' });
    await store.close();
  });

  it('opens through openStore with a schema', async () => {
    const store = await openStore({ kind: 'postgres', url, dataDir: '/nonexistent', schema: freshSchema() });
    await store.setMeta('via', 'openStore');
    assert.equal(await store.getMeta('via'), 'openStore');
    await store.close();
  });
});

describe('jsonbText', () => {
  it('only touches real escapes of U+0000 and lone surrogates', () => {
    assert.equal(jsonbText('plain'), '"plain"');
    assert.equal(jsonbText('\u0000'), '"\\ufffd"');
    assert.equal(jsonbText('\\u0000'), '"\\\\u0000"');
    assert.equal(jsonbText('\\\u0000'), '"\\\\\\ufffd"');
    assert.equal(jsonbText('\udc00'), '"\\ufffd"');
    assert.equal(jsonbText('\u0001'), '"\\u0001"');
    assert.equal(jsonbText('😀'), '"😀"');
    assert.equal(jsonbText(undefined), 'null');
  });
});
