/**
 * Two cutover processes sharing one store (here one SQLite file in WAL mode;
 * in production usually PostgreSQL) each write the minutes they counted under
 * an instance id of their own, so neither overwrites the other, and a later
 * start counts both.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import { startCutover } from '../../../src/controlplane/runtime.ts';
import { createExchangeStats, recordExchange, serializeExchangeStats } from '../../../src/controlplane/telemetry/exchange-stats.ts';
import { createTelemetry, type TelemetryApi } from '../../../src/controlplane/telemetry/index.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';

describe('telemetry from several instances sharing one store', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;
  const running: CutoverProcess[] = [];

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir('cutover-shared-store-');
  });

  after(async () => {
    for (const p of running.splice(0)) await p.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  /** Instances of one legacy-mode route sharing the data dir `name`; each start is stopped after the suite. */
  const sharedStore = (name: string) => {
    const config = {
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'users', match: { path: '/users/:id' }, mode: 'legacy' }],
    };
    const dataDir = join(dir.path, name);
    const start = async (): Promise<CutoverProcess> => {
      const p = await startCutoverProcess({ config, dir, dataDir });
      running.push(p);
      return p;
    };
    return { config, dataDir, start };
  };

  it('adds up both instances instead of keeping the last writer', async () => {
    const { config, dataDir, start } = sharedStore('data');
    const a = await start();
    const b = await start();
    const send = async (p: CutoverProcess, n: number) => {
      for (let i = 0; i < n; i++) {
        const res = await request(`${p.proxyUrl}/users/${i}`);
        assert.equal(res.statusCode, 200);
        await res.body.text();
      }
    };
    await send(a, 7);
    await send(b, 5);
    // SIGTERM writes each one's partial minute, the same minute for both.
    assert.equal((await a.stop()).code, 0);
    assert.equal((await b.stop()).code, 0);

    const store = createSqliteStore({ path: join(dataDir, 'cutover.db') });
    await store.init();
    try {
      const rows = (await store.listTelemetryBuckets({ route: 'users' })).filter((r) => r.backend === 'legacy' && r.role === 'primary');
      const byInstance = new Map<string, number>();
      for (const r of rows) byInstance.set(r.instance, (byInstance.get(r.instance) ?? 0) + (r.data as { requests: number }).requests);
      assert.deepEqual([...byInstance.values()].sort(), [5, 7], `one set of rows per instance: ${JSON.stringify([...byInstance])}`);

      const config3 = validateConfig({ listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0' }, dataDir, ...config });
      const third = await startCutover({ config: config3, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
      try {
        const q = third.feature<TelemetryApi>('telemetry')!.query({ route: 'users', windowMs: 60 * 60_000 });
        const served = q.totals.find((s) => s.backend === 'legacy' && s.role === 'primary');
        assert.equal(served?.requests, 12, 'a later start counts both instances');
        assert.equal(served?.total.count, 12);
      } finally {
        await third.close();
      }
      const after = (await store.listTelemetryBuckets({ route: 'users' })).filter((r) => r.backend === 'legacy');
      assert.equal(after.length, rows.length, 'a start that served nothing writes nothing, and never rewrites the others');
    } finally {
      await store.close();
    }
  });

  it('shows one instance\'s open minute to another within seconds, and keeps it through a kill -9', async () => {
    const { start } = sharedStore('open-minute');
    const a = await start();
    const b = await start();
    const servedBy = async (p: CutoverProcess): Promise<number> => {
      const res = await request(`${p.adminUrl}/api/v1/stats?route=users&window=10m`);
      const body = (await res.body.json()) as { routes: Array<{ roles: Array<{ backend: string; role: string; requests: number }> }> };
      return body.routes[0]?.roles.find((t) => t.backend === 'legacy' && t.role === 'primary')?.requests ?? 0;
    };
    for (let i = 0; i < 6; i++) await (await request(`${a.proxyUrl}/users/${i}`)).body.text();
    // a writes its open minute at its next flush (5 s), b reads it at its own next one: two intervals.
    // Before, a minute reached the store only once it was over, up to a minute later.
    const deadline = Date.now() + 15_000;
    let seen = 0;
    while ((seen = await servedBy(b)) < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen, 6, "the other instance counts a's requests without waiting for the minute to end");
    assert.equal(await servedBy(a), 6);

    a.child.kill('SIGKILL');
    await a.exited;
    const again = await start();
    assert.equal(await servedBy(again), 6, 'what was flushed before the kill -9 is read back on start');
  });

  it("picks up what another instance writes while it runs, replacing that instance's earlier copy of a minute", async () => {
    const dataDir = join(dir.path, 'live');
    const store = createSqliteStore({ path: join(dataDir, 'cutover.db') });
    await store.init();
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      dataDir,
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'users', match: { path: '/users/:id' }, mode: 'legacy' }],
    });
    const runtime = await startCutover({ config, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx, { instance: 'here_1', flushIntervalMs: 3_600_000 })] });
    try {
      const api = runtime.feature<TelemetryApi>('telemetry')!;
      for (let i = 0; i < 3; i++) await (await request(`http://127.0.0.1:${runtime.proxyAddress.port}/users/${i}`)).body.text();
      // What another cutover on the same store wrote for the last finished minute: its whole minute, as it writes it.
      const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
      const theirMinute = (requests: number) => {
        const stats = createExchangeStats();
        for (let i = 0; i < requests; i++) {
          recordExchange(stats, { requestId: `o${i}`, route: 'users', endpoint: '/users/{id}', method: 'GET', backend: 'legacy', role: 'primary', status: 200, startedAt: minute, ttfbMs: 2, totalMs: 3, requestBytes: 0, responseBytes: 10 });
        }
        return [{ minute, route: 'users', endpoint: '/users/{id}', backend: 'legacy', role: 'primary', instance: 'there_1', data: serializeExchangeStats(stats) }];
      };
      const served = () => api.query({ route: 'users', windowMs: 10 * 60_000 }).totals.find((t) => t.backend === 'legacy' && t.role === 'primary')?.requests;
      assert.equal(served(), 3);
      await store.putTelemetryBuckets(theirMinute(20));
      assert.equal(served(), 3, 'not read until the next flush');
      await api.flush();
      assert.equal(served(), 23);
      await store.putTelemetryBuckets(theirMinute(25)); // a late event: they wrote the minute again, whole
      await api.flush();
      assert.equal(served(), 28, 'the new copy replaced the old one, not added to it');
    } finally {
      await runtime.close();
    }
    const mine = (await store.listTelemetryBuckets({ route: 'users' })).filter((r) => r.instance === 'here_1');
    assert.equal(
      mine.reduce((n, r) => n + (r.backend === 'legacy' && r.role === 'primary' ? (r.data as { requests: number }).requests : 0), 0),
      3,
      "its own rows hold only its own requests, never the other instance's",
    );
    await store.close();
  });
});
