/**
 * Issue 2, item 8: switching backends at once through the real CLI against a
 * running `cutover run` process, persistence across a restart, status
 * output, and the admin API's guard rails (token, loopback, 400s, OpenAPI).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { runCli, startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';
import { createClient, type Client } from '../../helpers/http.ts';

interface StatusRoute {
  id: string;
  mode: string;
  percent: number;
  overridden: boolean;
}

describe('switching backends through the CLI', () => {
  let legacy: Backend | undefined;
  let candidate: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;
  let config: Record<string, unknown>;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate');
    dir = tempDir();
    config = {
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [
        { id: 'checkout', match: { path: '/checkout/*' }, mode: 'legacy' },
        { id: 'search', match: { path: '/search/*' }, mode: 'candidate' },
      ],
    };
    cutover = await startCutoverProcess({ dir, config });
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    await candidate?.close();
    dir?.remove();
  });

  const cli = async (...args: string[]) => {
    const r = await runCli(['--admin-url', cutover!.adminUrl, ...args]);
    assert.equal(r.code, 0, `cutover ${args.join(' ')} failed:\n${r.stderr}`);
    return r;
  };
  const backendFor = async (path: string) => {
    const res = await client!.send(cutover!.proxyUrl + path);
    assert.equal(res.status, 200, res.text);
    return res.json<{ backend: string }>().backend;
  };

  it('starts with the configured modes', async () => {
    assert.equal(await backendFor('/checkout/cart'), 'legacy');
    assert.equal(await backendFor('/search/q'), 'candidate');
  });

  it('cutover set: the very next request after the CLI exits goes to the new backend', async () => {
    const r = await cli('set', 'checkout', 'candidate');
    assert.match(r.stdout, /checkout: candidate/);
    assert.equal(await backendFor('/checkout/cart'), 'candidate');
    console.log(`# cutover set took ${Math.round(r.ms)} ms end to end (process start included)`);
  });

  it('cutover rollback ROUTE: only that route goes back to legacy, at once', async () => {
    const r = await cli('rollback', 'search');
    assert.match(r.stdout, /rolled back to legacy: search/);
    assert.equal(await backendFor('/search/q'), 'legacy');
    assert.equal(await backendFor('/checkout/cart'), 'candidate');
  });

  it('cutover rollback --all: every route goes back to legacy, at once', async () => {
    await cli('set', 'search', 'canary', '100');
    assert.equal(await backendFor('/search/q'), 'candidate');
    await cli('rollback', '--all');
    assert.equal(await backendFor('/search/q'), 'legacy');
    assert.equal(await backendFor('/checkout/cart'), 'legacy');
    assert.equal(await backendFor('/other'), 'legacy');
  });

  it('cutover status --json describes routes, modes, sources, backends and the kill switch', async () => {
    await cli('set', 'checkout', 'canary', '12.5');
    const r = await cli('status', '--json');
    const status = JSON.parse(r.stdout) as { version: string; killSwitch: { on: boolean }; backends: Record<string, { url: string }>; routes: StatusRoute[] };
    assert.equal(status.killSwitch.on, false);
    assert.equal(status.backends.legacy!.url, legacy!.url);
    assert.equal(status.backends.candidate!.url, candidate!.url);
    const byId = new Map(status.routes.map((x) => [x.id, x]));
    assert.deepEqual([...byId.keys()], ['checkout', 'search', 'default']);
    assert.equal(byId.get('checkout')!.mode, 'canary');
    assert.equal(byId.get('checkout')!.percent, 12.5);
    assert.equal(byId.get('checkout')!.overridden, true);
    assert.equal(byId.get('search')!.mode, 'legacy');
    const text = await cli('status');
    assert.match(text.stdout, /checkout\s+\/checkout\/\*\s+canary 12\.5%/);
  });

  it('the change survives a restart with the same --data-dir', async () => {
    await cli('set', 'checkout', 'candidate');
    const result = await cutover!.stop();
    assert.equal(result.code, 0);
    cutover = await startCutoverProcess({ dir: dir!, config });
    assert.equal(await backendFor('/checkout/cart'), 'candidate');
    assert.equal(await backendFor('/search/q'), 'legacy', 'the rollback of search persisted too');
  });

  it('CLI errors: an unknown route exits 1 with the known routes; an unreachable admin API exits 3', async () => {
    const unknown = await runCli(['--admin-url', cutover!.adminUrl, 'set', 'nope', 'candidate']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /route "nope" does not exist/);
    assert.match(unknown.stderr, /checkout, search, default/);
    const down = await runCli(['--admin-url', 'http://127.0.0.1:1', 'status']);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach the admin API/);
  });
});

describe('admin API guard rails', () => {
  const TOKEN = 'admin-token-0123456789';
  let legacy: Backend | undefined;
  let dir: TempDir | undefined;
  let cutover: CutoverProcess | undefined;
  let client: Client | undefined;

  before(async () => {
    legacy = await startBackend('legacy');
    dir = tempDir();
    cutover = await startCutoverProcess({
      dir,
      config: {
        admin: { token: TOKEN },
        backends: { legacy: { url: legacy.url }, candidate: { url: legacy.url } },
        routes: [{ id: 'checkout', match: { path: '/checkout/*' } }],
      },
    });
    client = createClient();
  });

  after(async () => {
    await client?.close();
    await cutover?.stop();
    await legacy?.close();
    dir?.remove();
  });

  /** `token: null` sends no Authorization header. */
  const admin = (method: 'GET' | 'PUT' | 'POST', path: string, body?: string, token: string | null = TOKEN) =>
    client!.send(cutover!.adminUrl + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body,
    });

  it('refuses to serve the admin API on a non-loopback address without a token', async () => {
    const d = tempDir();
    try {
      const file = d.file('cutover.yaml', `listen: 127.0.0.1:0\nbackends:\n  legacy: { url: ${legacy!.url} }\n  candidate: { url: ${legacy!.url} }\n`);
      const env: Record<string, string> = { CUTOVER_TOKEN: '' };
      const r = await runCli(['run', '-c', file, '--data-dir', `${d.path}/data`, '--admin', '0.0.0.0:0'], env);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /refusing to serve the admin API on 0\.0\.0\.0:0 without a token/);
    } finally {
      d.remove();
    }
  });

  it('token auth: 401 without or with a wrong token, 200 with it; health and OpenAPI stay open', async () => {
    const none = await admin('GET', '/api/v1/status', undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.json<{ error: { code: string } }>().error.code, 'CUTOVER_ERR_UNAUTHORIZED');
    assert.equal((await admin('GET', '/api/v1/status', undefined, 'wrong-token-0123456789')).status, 401);
    assert.equal((await admin('PUT', '/api/v1/routes/checkout', '{"mode":"candidate"}', null)).status, 401);
    assert.equal((await admin('GET', '/api/v1/status')).status, 200);
    assert.equal((await admin('GET', '/healthz', undefined, null)).status, 200);
  });

  it('the CLI uses CUTOVER_TOKEN (exit 4 without it)', async () => {
    const without = await runCli(['--admin-url', cutover!.adminUrl, 'status'], { CUTOVER_TOKEN: '' });
    assert.equal(without.code, 4, without.stderr);
    const withToken = await runCli(['--admin-url', cutover!.adminUrl, 'status', '--json'], { CUTOVER_TOKEN: TOKEN });
    assert.equal(withToken.code, 0, withToken.stderr);
    assert.equal((JSON.parse(withToken.stdout) as { routes: StatusRoute[] }).routes[0]!.id, 'checkout');
  });

  it('bad request bodies give 400 with a clear message', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['/api/v1/routes/checkout', '{"mode":"sideways"}', /mode/],
      ['/api/v1/routes/checkout', '{"mode":"canary"}', /canary mode needs a percent/],
      ['/api/v1/routes/checkout', '{"mode":"canary","percent":150}', /percent/],
      ['/api/v1/routes/checkout', '{"mode":"candidate","extra":true}', /extra/],
      ['/api/v1/routes/checkout', '{"mode":', /not JSON/],
    ];
    for (const [path, body, message] of cases) {
      const res = await admin('PUT', path, body);
      assert.equal(res.status, 400, `${body}: ${res.text}`);
      const err = res.json<{ error: { code: string; message: string } }>().error;
      assert.match(err.message, message, body);
    }
    const both = await admin('POST', '/api/v1/rollback', '{"route":"checkout","all":true}');
    assert.equal(both.status, 400);
    assert.match(both.text, /not both/);
    const missing = await admin('PUT', '/api/v1/routes/nope', '{"mode":"candidate"}');
    assert.equal(missing.status, 404);
  });

  it('serves its OpenAPI document at /api/v1/openapi.json', async () => {
    const res = await admin('GET', '/api/v1/openapi.json', undefined, null);
    assert.equal(res.status, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/v1/status', '/api/v1/routes/{id}', '/api/v1/rollback', '/api/v1/kill-switch', '/api/v1/openapi.json']) assert.ok(doc.paths[p], `${p} is documented`);
    assert.ok(doc.paths['/api/v1/routes/{id}']!.put!.requestBody, 'the PUT body schema is documented');
  });
});
