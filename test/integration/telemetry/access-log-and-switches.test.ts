/**
 * The access log through a real data plane, and the switches that keep
 * telemetry off the request path: accessLog off, telemetry.enabled false, and
 * a config reload that turns the access log on.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { stringify } from 'yaml';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfigInput } from '../../../src/config/schema.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetry, type TelemetryApi } from '../../../src/controlplane/telemetry/index.ts';
import { channels } from '../../../src/dataplane/events.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { tempDir, type TempDir } from '../../helpers/cutover-process.ts';
import { parsePromText } from '../../helpers/prom-text.ts';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('access log and telemetry switches', () => {
  let legacy: Backend;
  let candidate: Backend;
  let dir: TempDir;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir('cutover-access-');
  });

  after(async () => {
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const input = (telemetry: Record<string, unknown>): CutoverConfigInput => ({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
    routes: [{ id: 'users', match: { path: '/users/:id' }, mode: 'legacy' }],
    telemetry,
  });

  const start = async (telemetry: Record<string, unknown>, configPath?: string) => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const runtime = await startCutover({ config: validateConfig(input(telemetry)), configPath, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    return {
      runtime,
      send: async (path: string, headers: Record<string, string> = {}) => (await request(`http://127.0.0.1:${runtime.proxyAddress.port}${path}`, { headers })).body.text(),
      stop: async () => {
        await runtime.close();
        await store.close();
      },
    };
  };

  it('writes one line per request with id, route, backend, status, durations and trace id', async () => {
    const file = join(dir.path, 'logs', 'access.log');
    const c = await start({ accessLog: 'full', accessLogFile: file });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    for (let i = 0; i < 20; i++) await c.send(`/users/${i}?secret=1`, { traceparent });
    await c.stop();
    const got = lines(file);
    assert.equal(got.length, 20);
    const first = got[0]!;
    assert.deepEqual(Object.keys(first).sort(), ['backend', 'endpoint', 'method', 'path', 'remoteAddress', 'requestId', 'route', 'status', 'time', 'totalMs', 'traceId', 'ttfbMs']);
    assert.equal(first.route, 'users');
    assert.equal(first.endpoint, '/users/{id}');
    assert.equal(first.path, '/users/0', 'the query string is not logged');
    assert.equal(first.backend, 'legacy');
    assert.equal(first.status, 200);
    assert.equal(first.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.ok(typeof first.totalMs === 'number' && first.totalMs >= (first.ttfbMs as number));
    assert.ok(Math.abs((first.time as number) - Date.now()) < 60_000);
    assert.equal(new Set(got.map((l) => l.requestId)).size, 20, 'request ids are distinct');
  });

  it('samples', async () => {
    const file = join(dir.path, 'sampled.log');
    const c = await start({ accessLog: 'sampled', accessLogSample: 0, accessLogFile: file });
    for (let i = 0; i < 10; i++) await c.send(`/users/${i}`);
    await c.stop();
    assert.equal(readFileSync(file, 'utf8'), '');
  });

  it('does not listen to request events when the access log is off', async () => {
    const c = await start({ accessLog: 'off' });
    try {
      assert.equal(channels.request.hasSubscribers, false);
    } finally {
      await c.stop();
    }
  });

  it('is entirely off the request path when telemetry.enabled is false', async () => {
    const c = await start({ enabled: false, accessLog: 'full', accessLogFile: join(dir.path, 'never.log') });
    try {
      // Other parts of the runtime (backend health) may listen to exchanges; telemetry must not.
      assert.equal(channels.comparisonSkipped.hasSubscribers, false);
      assert.equal(channels.request.hasSubscribers, false);
      await c.send('/users/1');
      channels.comparisonSkipped.publish({ route: 'users', endpoint: '/users/{id}', method: 'GET', reason: 'timeout', time: Date.now() });
      const r = c.runtime.feature<TelemetryApi>('telemetry')!.query({ windowMs: 600_000 });
      assert.deepEqual([r.series.length, r.comparisons.length], [0, 0]);
      const metrics = await (await request(`http://127.0.0.1:${c.runtime.adminAddress.port}/metrics`)).body.text();
      const families = parsePromText(metrics);
      assert.ok(families.has('process_resident_memory_bytes'), 'process metrics are still there');
      assert.equal(families.get('cutover_upstream_requests_total')!.samples.length, 0);
    } finally {
      await c.stop();
    }
  });

  it('turns the access log on at a config reload', async () => {
    const file = join(dir.path, 'reloaded.log');
    const configPath = join(dir.path, 'cutover.yaml');
    writeFileSync(configPath, stringify(input({ accessLog: 'off' })));
    const c = await start({ accessLog: 'off' }, configPath);
    try {
      await c.send('/users/before');
      assert.equal(channels.request.hasSubscribers, false);
      writeFileSync(configPath, stringify(input({ accessLog: 'full', accessLogFile: file })));
      assert.equal(await c.runtime.reload(), true);
      assert.equal(channels.request.hasSubscribers, true);
      await c.send('/users/after');
    } finally {
      await c.stop();
    }
    assert.deepEqual(
      lines(file).map((l) => l.path),
      ['/users/after'],
    );
  });
});
