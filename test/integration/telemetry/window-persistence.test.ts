/**
 * Windows over a real SQLite file: every minute that changed is written at
 * each flush and on shutdown, the open one included, and a restarted cutover answers the
 * same window query with the same numbers, then keeps counting without
 * counting anything twice.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfig } from '../../../src/config/schema.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetry, type TelemetryApi, type TelemetryQueryResult } from '../../../src/controlplane/telemetry/index.ts';
import { channels, type ExchangeEvent } from '../../../src/dataplane/events.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { tempDir, type TempDir } from '../../helpers/cutover-process.ts';

const MINUTE = 60_000;
const minuteOf = (t: number) => Math.floor(t / MINUTE) * MINUTE;

describe('telemetry windows persist across restarts (sqlite)', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;
  let config: CutoverConfig;
  let file: string;
  const open: Array<{ runtime: CutoverRuntime; store: Store }> = [];

  const start = async () => {
    const store = createSqliteStore({ path: file });
    await store.init();
    const runtime = await startCutover({ config, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    const entry = { runtime, store };
    open.push(entry);
    return {
      ...entry,
      api: runtime.feature<TelemetryApi>('telemetry')!,
      stop: async () => {
        await runtime.close();
        await store.close();
        open.splice(open.indexOf(entry), 1);
      },
    };
  };

  /** Sends `n` requests and waits until their shadow exchanges have been published too. */
  const traffic = async (runtime: CutoverRuntime, n: number) => {
    let shadows = 0;
    const count = (e: unknown) => {
      if ((e as ExchangeEvent).role === 'shadow') shadows++;
    };
    channels.exchange.subscribe(count);
    try {
      for (let i = 0; i < n; i++) await (await request(`http://127.0.0.1:${runtime.proxyAddress.port}/users/${i}`)).body.text();
      const deadline = Date.now() + 10_000;
      while (shadows < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    } finally {
      channels.exchange.unsubscribe(count);
    }
  };

  const old = (backend: 'legacy' | 'candidate', role: 'primary' | 'shadow', status: number, at: number): ExchangeEvent => ({
    requestId: 'old',
    route: 'users',
    endpoint: '/users/{id}',
    method: 'GET',
    backend,
    role,
    status,
    startedAt: at,
    ttfbMs: 40,
    totalMs: 45,
    requestBytes: 0,
    responseBytes: 20,
  });

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir('cutover-telemetry-');
    file = join(dir.path, 'cutover.db');
    config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      dataDir: dir.path,
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'users', match: { path: '/users/:id' }, mode: 'shadow', shadow: { noiseSample: 0 } }],
    });
  });

  after(async () => {
    for (const { runtime, store } of open.splice(0)) {
      await runtime.close();
      await store.close();
    }
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  it('answers the same window after a restart, and excludes older minutes from a 10m window', async () => {
    // Phase one must not straddle a minute boundary, or "the current minute" would change under the assertions.
    const left = MINUTE - (Date.now() % MINUTE);
    if (left < 8_000) await new Promise((r) => setTimeout(r, left + 100));
    const a = await start();
    const T = Date.now();
    const twentyAgo = T - 20 * MINUTE;
    await traffic(a.runtime, 30);
    for (let i = 0; i < 5; i++) channels.exchange.publish(old('legacy', 'primary', 200, twentyAgo));
    for (let i = 0; i < 10; i++) channels.exchange.publish(old('candidate', 'shadow', 500, twentyAgo));
    for (let i = 0; i < 4; i++) a.api.recordComparison('users', '/users/{id}', 'match');
    for (let i = 0; i < 2; i++) a.api.recordComparison('users', '/users/{id}', 'mismatch', undefined, { time: twentyAgo });
    for (let i = 0; i < 3; i++) channels.comparisonSkipped.publish({ route: 'users', endpoint: '/users/{id}', method: 'GET', reason: 'queue_full', time: T });

    const q10a = a.api.query({ route: 'users', windowMs: 10 * MINUTE, now: T });
    const q60a = a.api.query({ route: 'users', windowMs: 60 * MINUTE, now: T });
    const cand10 = q10a.totals.find((s) => s.backend === 'candidate' && s.role === 'shadow')!;
    const cand60 = q60a.totals.find((s) => s.backend === 'candidate' && s.role === 'shadow')!;
    assert.deepEqual([cand10.requests, cand10.errors, cand10.total.count], [30, 0, 30], '10m: only the recent traffic');
    assert.deepEqual([cand60.requests, cand60.errors, cand60.total.count], [40, 10, 40], '1h: the older minute too');
    assert.deepEqual([q10a.comparisonTotals[0]!.match, q10a.comparisonTotals[0]!.mismatch, q10a.comparisonTotals[0]!.skipped], [4, 0, 3]);
    assert.equal(q60a.comparisonTotals[0]!.mismatch, 2);

    // A flush writes every minute that changed, the open one as it stands (a kill -9 then loses one flush interval at most).
    await a.api.flush();
    const written = await a.store.listTelemetryBuckets({ route: 'users' });
    const requestsIn = (minute: number) =>
      written.filter((r) => r.minute === minute && r.backend === 'candidate' && r.role === 'shadow').reduce((n, r) => n + (r.data as { requests: number }).requests, 0);
    assert.equal(requestsIn(minuteOf(twentyAgo)), 10);
    assert.equal(requestsIn(minuteOf(T)), 30, 'the open minute is in the store too');
    // The shutdown writes the open minute again, whole: the restart below must count it once.
    await a.stop();

    const b = await start();
    const q10b = b.api.query({ route: 'users', windowMs: 10 * MINUTE, now: T });
    const q60b = b.api.query({ route: 'users', windowMs: 60 * MINUTE, now: T });
    const comparable = (r: TelemetryQueryResult) => JSON.parse(JSON.stringify(r)) as unknown;
    assert.deepEqual(comparable(q10b), comparable(q10a), 'same 10m answer after a restart');
    assert.deepEqual(comparable(q60b), comparable(q60a), 'same 1h answer after a restart');

    await traffic(b.runtime, 10);
    b.api.recordComparison('users', '/users/{id}', 'match');
    await b.stop();

    // A second restart: the partial minute written at the first shutdown was reloaded and carried on, not added twice.
    const c = await start();
    const now = Date.now();
    const q = c.api.query({ route: 'users', windowMs: 60 * MINUTE, now });
    const get = (backend: string, role: string) => q.totals.find((s) => s.backend === backend && s.role === role)!;
    assert.equal(get('legacy', 'primary').requests, 5 + 30 + 10);
    assert.equal(get('candidate', 'shadow').requests, 10 + 30 + 10);
    assert.equal(get('candidate', 'shadow').total.count, 50);
    assert.deepEqual(
      [q.comparisonTotals[0]!.match, q.comparisonTotals[0]!.mismatch, q.comparisonTotals[0]!.skippedByReason],
      [5, 2, { queue_full: 3 }],
    );
    const counts = await c.store.listComparisonCounts({ route: 'users' });
    assert.equal(
      counts.filter((r) => r.outcome === 'match').reduce((n, r) => n + r.count, 0),
      5,
      'comparison counts are written as deltas',
    );
    await c.stop();
  });

  it('starts with an empty window when the store is empty', async () => {
    const fresh = createSqliteStore({ path: ':memory:' });
    await fresh.init();
    const runtime = await startCutover({ config, store: fresh, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    try {
      const r = runtime.feature<TelemetryApi>('telemetry')!.query({ windowMs: 60 * MINUTE });
      assert.deepEqual([r.series.length, r.comparisons.length], [0, 0]);
    } finally {
      await runtime.close();
      await fresh.close();
    }
  });
});
