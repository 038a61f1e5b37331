/**
 * Two `cutover run` processes sharing one store follow each other's routing
 * changes: a set on one, a rollback on the other, the kill switch, each
 * reaching the other instance's traffic within about a second, audited once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';

describe('instances sharing a store follow each other’s routing', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;
  let a: CutoverProcess;
  let b: CutoverProcess;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir('cutover-shared-routing-');
    const config = {
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [
        { id: 'orders', match: { path: '/orders/*' }, mode: 'legacy' },
        { id: 'users', match: { path: '/users/*' }, mode: 'legacy' },
      ],
    };
    const dataDir = join(dir.path, 'data');
    a = await startCutoverProcess({ config, dir, dataDir });
    b = await startCutoverProcess({ config, dir, dataDir });
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const servedBy = async (p: CutoverProcess, path: string): Promise<string> => {
    const res = await request(`${p.proxyUrl}${path}`);
    return ((await res.body.json()) as { backend: string }).backend;
  };
  const admin = async (p: CutoverProcess, method: 'PUT' | 'POST', path: string, body: unknown) => {
    const res = await request(`${p.adminUrl}${path}`, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await res.body.text();
    assert.equal(res.statusCode, 200, text);
  };
  /** Milliseconds until `p` serves `path` from `backend` (fails after 5 s). */
  const until = async (p: CutoverProcess, path: string, backend: string): Promise<number> => {
    const t0 = Date.now();
    while ((await servedBy(p, path)) !== backend) {
      if (Date.now() - t0 > 5_000) assert.fail(`${path} still not served by ${backend} after 5 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return Date.now() - t0;
  };

  it('a set on one instance reaches the other; a rollback there comes back', async () => {
    await admin(a, 'PUT', '/api/v1/routes/orders', { mode: 'candidate' });
    assert.equal(await servedBy(a, '/orders/1'), 'candidate', 'at once where it was made');
    const tookMs = await until(b, '/orders/1', 'candidate');
    assert.ok(tookMs < 2_500, `the other instance followed in ${tookMs} ms`);
    assert.equal(await servedBy(b, '/users/1'), 'legacy', 'other routes untouched');

    await admin(b, 'POST', '/api/v1/rollback', { route: 'orders' });
    assert.equal(await servedBy(b, '/orders/1'), 'legacy');
    await until(a, '/orders/1', 'legacy');

    const audit = await request(`${a.adminUrl}/api/v1/audit?subject=orders`);
    const entries = ((await audit.body.json()) as { entries: Array<{ action: string }> }).entries.map((e) => e.action);
    assert.deepEqual(entries, ['route-rollback', 'route-set'], 'each change recorded once, by the instance that made it');
  });

  it('the kill switch turned on at one instance holds every route at legacy on the other', async () => {
    await admin(b, 'PUT', '/api/v1/routes/users', { mode: 'candidate' });
    await until(a, '/users/1', 'candidate');
    await admin(a, 'PUT', '/api/v1/kill-switch', { on: true });
    await until(b, '/users/1', 'legacy');
    const status = await request(`${b.adminUrl}/api/v1/status`);
    const body = (await status.body.json()) as { killSwitch: { on: boolean } };
    assert.equal(body.killSwitch.on, true);
    await admin(a, 'PUT', '/api/v1/kill-switch', { on: false });
    await until(b, '/users/1', 'candidate');
  });
});
