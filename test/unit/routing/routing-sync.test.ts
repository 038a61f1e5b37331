import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../src/config/load.ts';
import { isCutoverError } from '../../../src/core/errors.ts';
import { createRoutingControl, loadPersistedRouting, type RoutingChangeEvent } from '../../../src/controlplane/routing-control.ts';
import { createDataPlane } from '../../../src/dataplane/server.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';

const config = validateConfig({
  backends: { legacy: { url: 'http://127.0.0.1:9' }, candidate: { url: 'http://127.0.0.1:9' } },
  routes: [
    { id: 'orders', match: { path: '/orders/*' }, mode: 'legacy' },
    { id: 'users', match: { path: '/users/*' }, mode: 'legacy' },
  ],
});

/** One instance: its own data plane (never listening) and routing control over a shared store. */
async function instance(store: Store) {
  const persisted = await loadPersistedRouting(store);
  const dp = createDataPlane({ config, overrides: persisted.overrides, killSwitch: persisted.killSwitch });
  const events: RoutingChangeEvent[] = [];
  const routing = createRoutingControl({
    store,
    apply: async (change) => dp.update(change),
    initialSnapshot: dp.snapshot(),
    initialOverrides: persisted.overrides,
    externalKillSwitch: () => undefined,
  });
  routing.onChange((e) => events.push(e));
  const mode = (id: string) => routing.describe().find((r) => r.id === id)!.mode;
  return { routing, events, mode, close: () => dp.close(0) };
}

describe('routing sync between instances sharing a store', () => {
  it('takes the other instance’s changes, tells its listeners who made them, and reports nothing when nothing changed', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const a = await instance(store);
    const b = await instance(store);
    try {
      await a.routing.set('orders', 'canary', 25, 'alice');
      assert.equal(b.mode('orders'), 'legacy');
      assert.deepEqual(await b.routing.sync(), { routes: ['orders'], killSwitch: undefined });
      assert.equal(b.mode('orders'), 'canary');
      assert.deepEqual(
        b.events.map((e) => [e.action, e.routes, e.actor, e.remote]),
        [['set', ['orders'], 'alice', true]],
      );
      assert.equal(await b.routing.sync(), undefined, 'nothing new');
      await a.routing.reset('orders', 'alice');
      await a.routing.setKillSwitch(true, 'bob');
      assert.deepEqual(await b.routing.sync(), { routes: ['orders'], killSwitch: true });
      assert.deepEqual(b.events.slice(1).map((e) => [e.action, e.remote]), [['reset', true], ['kill-switch', true]]);
      assert.equal(b.routing.killSwitch().on, true);
    } finally {
      await a.close();
      await b.close();
      await store.close();
    }
  });

  it('a rollback the store did not take stays, is reported as such, and is written at the next sync instead of being undone', async () => {
    const real = createSqliteStore({ path: ':memory:' });
    await real.init();
    let storeDown = false;
    const flaky: Store = Object.create(real, {
      putRouteOverride: { value: (o: Parameters<Store['putRouteOverride']>[0]) => (storeDown ? Promise.reject(new Error('disk I/O error')) : real.putRouteOverride(o)) },
    });
    const a = await instance(flaky);
    const b = await instance(real);
    try {
      await a.routing.set('users', 'candidate', undefined, 'alice');
      await b.routing.sync();
      assert.equal(b.mode('users'), 'candidate');

      storeDown = true;
      const err = await a.routing.rollback('users', 'carol').then(
        () => assert.fail('the caller must hear that it was not stored'),
        (e: unknown) => e,
      );
      assert.ok(isCutoverError(err));
      assert.equal(err.code, 'CUTOVER_ERR_STORE');
      assert.match(err.message, /^rolled back users on this instance, but the store did not take it: disk I\/O error/);
      assert.equal(a.mode('users'), 'legacy', 'the rollback took effect here');
      assert.deepEqual(a.events.at(-1)?.action, 'rollback', 'and was announced (audited) as one');

      await assert.rejects(a.routing.sync(), /disk I\/O error/);
      assert.equal(a.mode('users'), 'legacy', 'a failed sync does not undo it with the stored candidate');

      storeDown = false;
      assert.equal(await a.routing.sync(), undefined, 'written, and nothing else to take');
      assert.equal(a.mode('users'), 'legacy');
      await b.routing.sync();
      assert.equal(b.mode('users'), 'legacy', 'the other instance follows the late write');
    } finally {
      await a.close();
      await b.close();
      await real.close();
    }
  });

  it('a slow store read never holds a rollback back, and what it read is dropped when a local change ran meanwhile', { timeout: 5_000 }, async () => {
    const real = createSqliteStore({ path: ':memory:' });
    await real.init();
    let release: () => void = () => {};
    let slow = false;
    const sluggish: Store = Object.create(real, {
      listRouteOverrides: {
        value: async () => {
          const rows = await real.listRouteOverrides(); // read before the local change lands
          if (slow) await new Promise<void>((r) => (release = r));
          return rows;
        },
      },
    });
    const a = await instance(sluggish);
    try {
      await a.routing.set('orders', 'candidate', undefined, 'alice');
      slow = true;
      const syncing = a.routing.sync();
      await new Promise((r) => setImmediate(r));
      const t0 = performance.now();
      await a.routing.rollback('orders', 'carol');
      assert.ok(performance.now() - t0 < 1_000, 'the rollback did not wait for the read');
      assert.equal(a.mode('orders'), 'legacy');
      release();
      assert.equal(await syncing, undefined, 'the stale read (orders on the candidate) is dropped');
      assert.equal(a.mode('orders'), 'legacy');
    } finally {
      await a.close();
      await real.close();
    }
  });
});
