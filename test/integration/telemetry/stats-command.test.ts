/**
 * GET /api/v1/stats and `cutover stats` against a running cutover: a slow
 * candidate in shadow next to legacy, read back side by side.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import pino from 'pino';
import { request } from 'undici';
import { createAdminClient } from '../../../src/cli/admin-client.ts';
import { registerStatsCommand } from '../../../src/cli/commands/stats.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetry, type StatsBody } from '../../../src/controlplane/telemetry/index.ts';
import { channels, type ExchangeEvent } from '../../../src/dataplane/events.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';

const TOKEN = 'stats-test-token-0123456789';
const N = 40;

const after_ = (ms: number) => (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  setTimeout(() => res.writeHead(req.url?.endsWith('/13') ? 500 : 200).end('{"ok":true}'), ms);
};

describe('stats API and cutover stats', () => {
  let legacy: Backend;
  let candidate: Backend;
  let store: Store;
  let runtime: CutoverRuntime;
  let adminUrl: string;

  before(async () => {
    legacy = await startBackend('legacy', { handler: after_(5) });
    candidate = await startBackend('candidate', { handler: after_(20) });
    store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0', token: TOKEN },
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [
        { id: 'users', match: { path: '/users/:id' }, mode: 'shadow', shadow: { noiseSample: 0 } },
        { id: 'idle', match: { path: '/idle' }, mode: 'legacy' },
      ],
    });
    runtime = await startCutover({ config, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    adminUrl = `http://127.0.0.1:${runtime.adminAddress.port}`;
    let shadows = 0;
    const count = (e: unknown) => {
      if ((e as ExchangeEvent).role === 'shadow') shadows++;
    };
    channels.exchange.subscribe(count);
    for (let i = 0; i < N; i++) await (await request(`http://127.0.0.1:${runtime.proxyAddress.port}/users/${i}`)).body.text();
    const deadline = Date.now() + 10_000;
    while (shadows < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    channels.exchange.unsubscribe(count);
  });

  after(async () => {
    await runtime?.close();
    await store?.close();
    await legacy?.close();
    await candidate?.close();
  });

  const call = <T>(path: string) => createAdminClient({ url: adminUrl, token: TOKEN })<T>('GET', path);

  const getRaw = async (path: string) => {
    const res = await request(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.statusCode, body: (await res.body.json()) as { error?: { code: string; message: string; hint?: string } } & StatsBody };
  };

  for (const [window, message] of [
    ['soon', /"soon" is not a duration/],
    ['10', /"10" is not between 1m and 1h/],
    ['2h', /"2h" is not between 1m and 1h/],
  ] as const) {
    it(`answers window=${window} with a 400 that says why and how to fix it`, async () => {
      const res = await getRaw(`/api/v1/stats?route=users&window=${window}`);
      assert.equal(res.status, 400);
      assert.equal(res.body.error?.code, 'CUTOVER_ERR_BAD_REQUEST');
      assert.match(res.body.error!.message, message);
      assert.match(res.body.error!.hint!, /window=10m/);
    });
  }

  it('answers an unknown route with a 404 naming the known ones', async () => {
    const res = await getRaw('/api/v1/stats?route=nope');
    assert.equal(res.status, 404);
    assert.match(res.body.error!.hint!, /users/);
  });

  it('returns per-backend counts, error rates and quantiles with sample sizes', async () => {
    const body = await call<StatsBody>('/api/v1/stats?route=users&window=10m');
    assert.equal(body.window, '10m');
    assert.equal(body.windowMs, 600_000);
    assert.equal(body.routes.length, 1);
    const r = body.routes[0]!;
    const legacyStats = r.backends.find((s) => s.backend === 'legacy')!;
    const candidateStats = r.backends.find((s) => s.backend === 'candidate')!;
    assert.deepEqual([legacyStats.requests, legacyStats.errors, legacyStats.total.count], [N, 1, N]);
    assert.deepEqual([candidateStats.requests, candidateStats.errors, candidateStats.total.count], [N, 1, N]);
    assert.equal(candidateStats.errorRate, 1 / N);
    assert.ok(candidateStats.total.p50! >= 19 && legacyStats.total.p50! >= 4, JSON.stringify([legacyStats.total, candidateStats.total]));
    assert.ok(candidateStats.total.p50! > legacyStats.total.p50!);
    assert.deepEqual(
      r.roles.map((s) => [s.backend, s.role, s.requests]),
      [
        ['legacy', 'primary', N],
        ['candidate', 'shadow', N],
      ],
    );
    const all = await call<StatsBody>('/api/v1/stats');
    assert.deepEqual(
      all.routes.map((x) => x.route),
      ['users'],
      'routes without traffic are left out',
    );
    const idle = await call<StatsBody>('/api/v1/stats?route=idle');
    assert.deepEqual(idle.routes.map((x) => [x.route, x.backends.length]), [['idle', 0]], 'a known route without traffic is empty, not an error');
  });

  const run = async (...args: string[]): Promise<string> => {
    let out = '';
    const program = new Command().exitOverride();
    registerStatsCommand(program, () => createAdminClient({ url: adminUrl, token: TOKEN }), (text) => {
      out += text;
    });
    await program.parseAsync(['stats', ...args], { from: 'user' });
    return out;
  };

  it('cutover stats puts legacy and candidate side by side with the ratio', async () => {
    const out = await run('users', '--window', '10m');
    const lines = out.split('\n');
    assert.match(lines[0]!, /^route users — last 10m/);
    assert.match(out, /traffic: legacy primary 40; candidate shadow 40/);
    const header = lines.find((l) => l.includes('LEGACY'))!;
    assert.match(header, /LEGACY\s+CANDIDATE\s+CANDIDATE\/LEGACY/);
    const cells = (label: string) => lines.find((l) => l.startsWith(label))!.slice(label.length).trim().split(/\s{2,}/);
    assert.deepEqual(cells('requests'), ['40', '40', '1.00x']);
    assert.deepEqual(cells('error rate'), ['2.50%', '2.50%', '1.00x']);
    assert.deepEqual(cells('latency samples'), ['40', '40', '-']);
    const [l50, c50, ratio] = cells('p50');
    const expected = Number.parseFloat(c50!) / Number.parseFloat(l50!);
    assert.ok(Math.abs(Number.parseFloat(ratio!) - expected) < 0.02 * expected + 0.01, `${l50} ${c50} ${ratio}`);
    assert.ok(Number.parseFloat(ratio!) > 1.5, `candidate waits 20 ms, legacy 5 ms: ${ratio}`);
  });

  it('cutover stats --json prints what the API answered', async () => {
    const out = JSON.parse(await run('users', '--json')) as StatsBody;
    assert.equal(out.window, '10m');
    assert.equal(out.routes[0]!.backends.length, 2);
  });

  it('cutover stats surfaces a bad window as the API error', async () => {
    await assert.rejects(run('users', '--window', 'forever'), (err: unknown) => /"forever" is not a duration/.test((err as Error).message));
  });

  it('requires the token like every admin call', async () => {
    await assert.rejects(createAdminClient({ url: adminUrl, token: undefined })('GET', '/api/v1/stats'), /bearer token/);
  });
});
