/**
 * Record → replay end to end, the way a user does it: a running cutover
 * (legacy mode) records its routes with `cutover record`, the files are
 * replayed with `cutover replay` against a legacy/candidate pair with
 * planted differences, and `cutover diffs --json` on a cutover reading that
 * store names exactly the planted endpoints with the right counts. Also the
 * importers (HAR, nginx) round-tripped through a replay, and a scenario file
 * with one failing expectation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startBackend, type Backend, type Handler } from '../../helpers/backends.ts';
import { runCli, startCutoverProcess, tempDir, type CutoverProcess, type TempDir } from '../../helpers/cutover-process.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** One app, two behaviours: the candidate has three planted differences. */
function app(candidate: boolean): Handler {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      let status = 200;
      let doc: unknown;
      const user = /^\/users\/(\d+)$/.exec(path);
      if (path === '/products') doc = { data: [{ id: 1, price: 10 }, { id: 2, price: candidate ? 21 : 20 }] };
      else if (user) doc = candidate ? { id: Number(user[1]) } : { id: Number(user[1]), email: `u${user[1]}@example.test` };
      else if (path === '/orders' && req.method === 'POST') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { qty?: number };
        doc = { ok: true, total: (body.qty ?? 0) * 5 };
      } else if (path === '/inventory') {
        status = candidate ? 503 : 200;
        doc = { items: 3 };
      } else doc = { ok: true, path };
      const text = JSON.stringify(doc);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  };
}

const ROUTES = [
  { id: 'products', match: { path: '/products' } },
  { id: 'users', match: { path: '/users/:id' } },
  { id: 'orders', match: { path: '/orders', methods: ['POST'] } },
];

interface GroupJson {
  route: string;
  method: string;
  endpoint: string;
  path: string;
  kind: string;
  count: number;
  compared: number;
}

describe('record, replay, diffs', () => {
  let dir: TempDir;
  let live: Backend;
  let legacy: Backend;
  let candidate: Backend;
  let proxy: CutoverProcess | undefined;
  let reader: CutoverProcess | undefined;

  before(async () => {
    dir = tempDir('cutover-record-replay-');
    live = await startBackend('live', { handler: app(false) });
    legacy = await startBackend('legacy', { handler: app(false) });
    candidate = await startBackend('candidate', { handler: app(true) });
  });
  after(async () => {
    await proxy?.stop();
    await reader?.stop();
    await Promise.all([live.close(), legacy.close(), candidate.close()]);
    dir.remove();
  });

  it('records live traffic per route, replays it, and diffs names exactly the planted endpoints', { timeout: 60_000 }, async () => {
    proxy = await startCutoverProcess({
      dir,
      dataDir: join(dir.path, 'live-data'),
      config: { backends: { legacy: { url: live.url }, candidate: { url: live.url } }, defaults: { mode: 'legacy' }, routes: ROUTES },
    });
    const admin = ['--admin-url', proxy.adminUrl];
    for (const route of ['products', 'users', 'orders', 'default']) {
      const r = await runCli([...admin, 'record', '--route', route, '--rate', '100%', '--out', join(dir.path, `${route}.ndjson`), '--with-response']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`recording ${route} at 100%`));
    }
    const again = await runCli([...admin, 'record', '--route', 'users', '--out', join(dir.path, 'x.ndjson')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already being recorded/);

    const send = async (method: string, path: string, body?: unknown) => {
      const res = await request(`${proxy!.proxyUrl}${path}`, {
        method: method as 'GET',
        headers: { authorization: 'Bearer live-secret', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      await res.body.text();
      assert.equal(res.statusCode, 200);
    };
    for (let i = 0; i < 10; i++) await send('GET', `/products?page=${i}`);
    for (let i = 0; i < 6; i++) await send('GET', `/users/${i}`);
    for (let i = 0; i < 5; i++) await send('POST', '/orders', { qty: i });
    for (let i = 0; i < 4; i++) await send('GET', '/inventory');
    for (let i = 0; i < 3; i++) await send('GET', '/health');

    const status = await runCli([...admin, 'record', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const counts = Object.fromEntries((JSON.parse(status.stdout) as Array<{ route: string; requests: number }>).map((r) => [r.route, r.requests]));
    assert.deepEqual(counts, { products: 10, users: 6, orders: 5, default: 7 });
    for (const route of ['products', 'users', 'orders', 'default']) {
      const stop = await runCli([...admin, 'record', 'stop', route, '--json']);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal((JSON.parse(stop.stdout) as { state: string }).state, 'stopped');
    }
    const auditRes = await request(`${proxy.adminUrl}/api/v1/audit?subject=orders`);
    const audit = (await auditRes.body.json()) as { entries: Array<{ action: string; actor: string; to: { requests?: number } }> };
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor, e.to.requests]),
      [
        ['record-stop', 'cli', 5],
        ['record-start', 'cli', undefined],
      ],
    );
    await proxy.stop();

    const orders = readFileSync(join(dir.path, 'orders.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(orders.length, 5);
    assert.equal(orders[3]!.body, '{"qty":3}');
    assert.equal(orders[3]!.response.body, '{"ok":true,"total":15}');
    // The same redaction as diff samples: the secret never reaches the file.
    assert.match(orders[0]!.headers.authorization, /^Bearer redacted:hmac:[0-9a-f]{16}$/);
    assert.ok(!readFileSync(join(dir.path, 'users.ndjson'), 'utf8').includes('live-secret'));

    const replayDir = join(dir.path, 'replay-data');
    const configPath = dir.file('replay.yaml', JSON.stringify({ backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } }, routes: ROUTES }));
    const files = ['products', 'users', 'orders', 'default'].map((r) => join(dir.path, `${r}.ndjson`));
    const replay = await runCli(['replay', ...files, '--config', configPath, '--legacy', legacy.url, '--candidate', candidate.url, '--data-dir', replayDir, '--concurrency', '4']);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /replayed 28 requests .* 8 match, 20 mismatch, 0 skipped/);
    // Not a TTY: plain progress lines, no carriage returns.
    assert.match(replay.stderr, /^replay 28\/28 \(100\.0%\)/m);
    assert.ok(!replay.stderr.includes('\r'));
    assert.equal(candidate.seen.length, 28);
    assert.deepEqual(candidate.seen.filter((s) => s.method === 'POST').map((s) => [s.url, s.bodyBytes]), Array(5).fill(['/orders', '{"qty":0}'.length]));

    reader = await startCutoverProcess({ dir, dataDir: replayDir, configPath });
    const diffs = await runCli(['--admin-url', reader.adminUrl, 'diffs', '--json']);
    assert.equal(diffs.code, 0, diffs.stderr);
    const groups = (JSON.parse(diffs.stdout) as GroupJson[]).map((g) => [g.route, `${g.method} ${g.endpoint}`, g.path, g.kind, g.count, g.compared]).sort();
    assert.deepEqual(groups, [
      ['default', 'GET /inventory', 'status', 'status', 4, 4],
      ['products', 'GET /products', '$.data[*].price', 'value', 10, 10],
      ['users', 'GET /users/{id}', '$.email', 'missing', 6, 6],
    ]);
  });

  it('records through --workers 2: every worker gets the change and the primary writes one file', { timeout: 60_000 }, async () => {
    const workersDir = tempDir('cutover-record-workers-');
    const cut = await startCutoverProcess({
      dir: workersDir,
      args: ['--workers', '2'],
      config: { backends: { legacy: { url: live.url }, candidate: { url: live.url } }, routes: ROUTES },
    });
    try {
      const out = join(workersDir.path, 'users.ndjson');
      const start = await runCli(['--admin-url', cut.adminUrl, 'record', '--route', 'users', '--out', out, '--duration', '1m']);
      assert.equal(start.code, 0, start.stderr);
      // The primary never serves: every recorded line came from a worker through the event forwarding.
      for (let i = 0; i < 20; i++) {
        const res = await request(`${cut.proxyUrl}/users/${i}`, { reset: true });
        await res.body.text();
      }
      await (await request(`${cut.proxyUrl}/products`, { reset: true })).body.text();
      // A body crosses from the worker to the primary as bytes and is written as sent.
      await (await request(`${cut.proxyUrl}/users/99`, { method: 'PUT', body: Buffer.from([0, 1, 2, 255]), reset: true })).body.text();
      const stop = await runCli(['--admin-url', cut.adminUrl, 'record', 'stop', 'users', '--json']);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal((JSON.parse(stop.stdout) as { requests: number }).requests, 21);
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string; url: string; body?: string; bodyEncoding: string });
      assert.deepEqual(lines.filter((l) => l.method === 'GET').map((l) => l.url).sort(), Array.from({ length: 20 }, (_, i) => `/users/${i}`).sort());
      const put = lines.find((l) => l.method === 'PUT');
      assert.deepEqual([put?.url, put?.bodyEncoding, put?.body], ['/users/99', 'base64', Buffer.from([0, 1, 2, 255]).toString('base64')]);

      // --duration stops by itself, and says so in the audit ledger.
      const timed = await runCli(['--admin-url', cut.adminUrl, 'record', '--route', 'products', '--out', join(workersDir.path, 'p.ndjson'), '--duration', '300ms']);
      assert.equal(timed.code, 0, timed.stderr);
      await new Promise((r) => setTimeout(r, 800));
      const status = await runCli(['--admin-url', cut.adminUrl, 'record', 'status', '--json']);
      const products = (JSON.parse(status.stdout) as Array<{ route: string; state: string }>).find((r) => r.route === 'products');
      assert.equal(products?.state, 'stopped');
      const audit = (await (await request(`${cut.adminUrl}/api/v1/audit?subject=products`)).body.json()) as { entries: Array<{ action: string; actor: string }> };
      assert.deepEqual(audit.entries[0] && [audit.entries[0].action, audit.entries[0].actor], ['record-stop', 'record:duration']);
    } finally {
      await cut.stop();
      workersDir.remove();
    }
  });

  it('reports bad lines with their number and carries on; an unreadable file is an error', async () => {
    const file = dir.file(
      'mixed.ndjson',
      [
        JSON.stringify({ time: 1, route: '', method: 'GET', url: '/products', headers: {}, bodyEncoding: 'utf8' }),
        '{"method": "GET", "url": "no-slash"}',
        'not json at all',
        JSON.stringify({ time: 1, route: '', method: 'GET', url: '/health', headers: {}, bodyEncoding: 'utf8' }),
      ].join('\n'),
    );
    const r = await runCli(['replay', file, '--legacy', legacy.url, '--candidate', candidate.url, '--data-dir', join(dir.path, 'bad-lines')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mixed\.ndjson:2: "url" must be a path starting with \/, got "no-slash" \(skipped\)/);
    assert.match(r.stderr, /mixed\.ndjson:3: not JSON/);
    assert.match(r.stdout, /replayed 2 requests .*2 bad lines skipped/);

    const missing = await runCli(['replay', join(dir.path, 'nope.ndjson'), '--legacy', legacy.url, '--candidate', candidate.url, '--data-dir', join(dir.path, 'bad-lines')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.ndjson: ENOENT/);
  });

  it('imports a HAR and an nginx log whose requests reach the backends as recorded', async () => {
    const har = join(dir.path, 'har.ndjson');
    const h = await runCli(['import', 'har', join(FIXTURES, 'session.har'), '--out', har]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /imported 3 requests .* 1 entries skipped/);
    assert.match(h.stderr, /entry 3: url "\/relative\/only" is not absolute/);

    const nginx = join(dir.path, 'nginx.ndjson');
    const n = await runCli(['import', 'nginx', join(FIXTURES, 'nginx-access-combined.txt'), '--out', nginx, '--host', 'shop.example']);
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stdout, /imported 3 requests .*skipped \(no body in a log\): POST 1, DELETE 1; 3 bad lines skipped/);
    assert.match(n.stderr, /line 4: not in the nginx combined format/);

    const sink = await startBackend('sink');
    const twin = await startBackend('twin');
    try {
      const r = await runCli(['replay', har, nginx, '--legacy', sink.url, '--candidate', twin.url, '--data-dir', join(dir.path, 'imports'), '--concurrency', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        sink.seen.map((s) => [s.method, s.url, s.bodyBytes]),
        [
          ['GET', '/products?page=2', 0],
          ['POST', '/cart/items', '{"sku":"kettle","qty":2}'.length],
          ['PUT', '/avatar', 4],
          ['GET', '/products?page=2', 0],
          ['HEAD', '/health', 0],
          ['GET', '/users/42?x="y"', 0],
        ],
      );
      assert.equal(sink.seen[1]!.headers['x-tag'], 'a, b');
      assert.equal(sink.seen[4]!.headers['user-agent'], 'kube-probe/1.29');
    } finally {
      await Promise.all([sink.close(), twin.close()]);
    }
  });

  it('checks a scenario file against both backends and exits 1 when an expectation fails', async () => {
    const file = dir.file(
      'scenarios.yaml',
      [
        '- name: big-order',
        '  request: { method: POST, path: /orders, json: { qty: 4 } }',
        '  expect: { status: 200, json: { "$.total": 20, "$.ok": true } }',
        '- name: inventory-up',
        '  request: { method: GET, path: /inventory }',
        '  expect: { status: 200 }',
      ].join('\n'),
    );
    const r = await runCli(['replay', file, '--legacy', legacy.url, '--candidate', candidate.url]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /big-order\s+pass \(200\)\s+pass \(200\)\s+same/);
    assert.match(r.stdout, /inventory-up\s+pass \(200\)\s+FAIL \(503\)\s+DIFFERENT/);
    assert.match(r.stdout, /inventory-up: candidate: status 503, expected 200/);
    assert.match(r.stderr, /1 of 2 scenarios failed/);

    const ok = dir.file('ok.yaml', '- name: big-order\n  request: { method: POST, path: /orders, json: { qty: 4 } }\n  expect: { json: { "$.total": 20 } }\n');
    const passed = await runCli(['replay', ok, '--legacy', legacy.url, '--candidate', candidate.url]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /all 1 scenarios passed on both backends/);
  });
});
