/**
 * `npm start` as a user runs it: the demo process on its own ports, traffic
 * through the proxy, the CLI against its admin API, then Ctrl-C.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START = join(ROOT, 'examples/demo/start.ts');
const CLI = join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

/** The demo's port layout for a base; must agree with examples/demo/start.ts. */
const portsOf = (base: number) => ({ legacy: base + 1, rewrite: base + 2, proxy: base + 80, admin: base + 1090 });

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

async function freeBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = Object.values(portsOf(base));
    const free = await Promise.all(ports.map(isFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port base found');
}

interface Demo {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function spawnDemo(base: number, dataDir: string): Demo {
  const child = spawn(process.execPath, [START], {
    cwd: ROOT,
    env: { ...process.env, CUTOVER_DEMO_PORT_BASE: String(base), CUTOVER_DEMO_DATA_DIR: dataDir, CUTOVER_KILL_SWITCH: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForReady(demo: Demo, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void demo.exited.then((c) => (exitCode = c));
  while (!/^ready: /m.test(demo.stdout())) {
    if (exitCode !== undefined) throw new Error(`demo exited with ${exitCode} before it was ready:\n${demo.stdout()}\n${demo.stderr()}`);
    if (Date.now() > deadline) throw new Error(`demo not ready after ${timeoutMs} ms:\n${demo.stdout()}\n${demo.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(adminUrl: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, '--admin-url', adminUrl, ...args], { cwd: ROOT, timeout: 30_000 });
  return stdout;
}

describe('npm start (examples/demo/start.ts)', () => {
  let base: number;
  let demo: Demo;
  let dataDir: string;
  let proxy: string;
  let adminUrl: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cutover-demo-'));
    base = await freeBase();
    proxy = `http://127.0.0.1:${portsOf(base).proxy}`;
    adminUrl = `http://127.0.0.1:${portsOf(base).admin}`;
    demo = spawnDemo(base, dataDir);
    await waitForReady(demo);
  });

  after(async () => {
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints what to try, with the ports it chose', () => {
    const out = demo.stdout();
    assert.ok(out.includes(`curl -i ${proxy}/api/products/3`), out);
    assert.ok(out.includes(`CUTOVER_ADMIN_URL=${adminUrl} npx cutover status`), out);
    assert.ok(out.includes('set orders canary 50'), out);
    assert.ok(out.includes('rollback --all'), out);
    assert.ok(out.includes(`${adminUrl}/api/v1/openapi.json`), out);
    assert.ok(out.includes('examples/demo/traffic.ts'), out);
  });

  test('products are served by legacy (shadow), health by the rewrite (candidate), the rest by legacy', async () => {
    const product = await fetch(`${proxy}/api/products/3`);
    assert.equal(product.status, 200);
    assert.equal(product.headers.get('x-demo-backend'), 'legacy');
    assert.deepEqual(((await product.json()) as { price: number }).price, 3.03);

    const list = await fetch(`${proxy}/api/products`);
    assert.equal(list.headers.get('x-demo-backend'), 'legacy');
    assert.equal(((await list.json()) as { count: number }).count, 5);

    const health = await fetch(`${proxy}/api/health`);
    assert.equal(health.headers.get('x-demo-backend'), 'rewrite');
    assert.equal(((await health.json()) as { service: string }).service, 'shop-rewrite');

    const stream = new AbortController();
    const events = await fetch(`${proxy}/api/events`, { signal: stream.signal });
    assert.equal(events.headers.get('x-demo-backend'), 'legacy');
    assert.match(events.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = events.body!.getReader();
    let text = '';
    while (!text.includes('event: stock')) {
      const { value, done } = await reader.read();
      assert.equal(done, false, 'the event stream ended early');
      text += Buffer.from(value!).toString('utf8');
    }
    stream.abort();
    await reader.cancel().catch(() => {});
  });

  test('shadow comparison finds the rewrite\'s rounding bug and nothing the rules explain', async () => {
    // Product 3 is the one the rewrite rounds wrongly; 1 and 2 differ only in
    // ways the demo rules accept (121 vs 121.0, tag order, timestamp format).
    for (let round = 0; round < 60; round++) {
      await Promise.all(
        [1, 2, 3].map(async (id) => {
          const res = await fetch(`${proxy}/api/products/${id}`);
          await res.arrayBuffer();
        }),
      );
    }
    type Group = { route: string; path: string; kind: string; count: number };
    let groups: Group[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      groups = (JSON.parse(await cli(adminUrl, 'diffs', 'products', '--json')) as Group[]).filter((g) => g.route === 'products');
      if (groups.some((g) => g.path === '$.price')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const price = groups.find((g) => g.path === '$.price');
    assert.ok(price, `no $.price mismatch reported: ${JSON.stringify(groups)}`);
    assert.equal(price.kind, 'value');
    assert.ok(price.count >= 1);
    const explained = groups.filter((g) => /updated_at|tags|x-demo-backend/.test(g.path));
    assert.deepEqual(explained, [], 'differences the demo rules should absorb were reported');
  });

  test('orders: about 10% of users on the rewrite, each user always on the same side', async () => {
    const sideOf = async (user: string) => {
      const res = await fetch(`${proxy}/api/orders?user=${user}`, { headers: { 'x-user-id': user } });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      return res.headers.get('x-demo-backend');
    };
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const first = await Promise.all(users.map(sideOf));
    const again = await Promise.all(users.map(sideOf));
    assert.deepEqual(again, first, 'a user changed sides between two requests');
    const onRewrite = first.filter((s) => s === 'rewrite').length;
    assert.ok(first.every((s) => s === 'legacy' || s === 'rewrite'));
    // Binomial(300, 0.1): mean 30, sd ~5.2; these bounds are > 3.8 sd away.
    assert.ok(onRewrite >= 10 && onRewrite <= 50, `${onRewrite} of 300 users on the rewrite`);

    // Without the header, the client IP decides: one client, one side.
    const noKey = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${proxy}/api/orders`);
        await res.arrayBuffer();
        return res.headers.get('x-demo-backend');
      }),
    );
    assert.equal(new Set(noKey).size, 1, `requests without x-user-id went to ${noKey.join(', ')}`);
  });

  test('examples/demo/traffic.ts sends traffic through the proxy and reports where it went', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'examples/demo/traffic.ts'), '--proxy', proxy, '--rate', '50', '--duration', '2s'], { cwd: ROOT, timeout: 30_000 });
    const last = stdout.trim().split('\n').at(-1) ?? '';
    assert.match(last, /products:legacy=\d+/, stdout);
    assert.match(last, /health:rewrite=\d+/, stdout);
    assert.doesNotMatch(stdout, /:error=/, stdout);
  });

  test('`cutover status --json` describes the demo routes', async () => {
    const status = JSON.parse(await cli(adminUrl, 'status', '--json')) as {
      killSwitch: { on: boolean };
      routes: Array<{ id: string; mode: string; percent: number; stickiness: string }>;
    };
    assert.equal(status.killSwitch.on, false);
    const byId = Object.fromEntries(status.routes.map((r) => [r.id, r]));
    assert.deepEqual(Object.keys(byId), ['products', 'orders', 'health', 'default']);
    assert.equal(byId.products!.mode, 'shadow');
    assert.equal(byId.orders!.mode, 'canary');
    assert.equal(byId.orders!.percent, 10);
    assert.equal(byId.orders!.stickiness, 'header:x-user-id');
    assert.equal(byId.health!.mode, 'candidate');
    assert.equal(byId.default!.mode, 'legacy');
  });

  test('`cutover set` and `cutover rollback --all` change routing at once', async () => {
    assert.match(await cli(adminUrl, 'set', 'orders', 'canary', '100'), /orders: canary 100%/);
    for (const user of ['a', 'b', 'c', 'd', 'e']) {
      const res = await fetch(`${proxy}/api/orders?user=${user}`, { headers: { 'x-user-id': user } });
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-demo-backend'), 'rewrite');
    }
    assert.match(await cli(adminUrl, 'rollback', '--all'), /rolled back to legacy/);
    const health = await fetch(`${proxy}/api/health`);
    await health.arrayBuffer();
    assert.equal(health.headers.get('x-demo-backend'), 'legacy');
    const orders = await fetch(`${proxy}/api/orders`, { headers: { 'x-user-id': 'a' } });
    await orders.arrayBuffer();
    assert.equal(orders.headers.get('x-demo-backend'), 'legacy');
  });

  test('Ctrl-C stops everything and exits 0', async () => {
    demo.child.kill('SIGINT');
    const code = await demo.exited;
    assert.equal(code, 0, demo.stderr());
    assert.match(demo.stdout(), /demo stopped/);
    assert.equal(await isFree(portsOf(base).proxy), true);
    assert.equal(await isFree(portsOf(base).legacy), true);
  });
});

describe('npm start with a port in use', () => {
  let blocker: Server;
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cutover-demo-'));
  });
  after(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('fails with a message naming the port and how to move the demo', async () => {
    const base = await freeBase();
    const port = portsOf(base).proxy;
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const demo = spawnDemo(base, dataDir);
    const code = await demo.exited;
    assert.equal(code, 1);
    assert.match(demo.stderr(), new RegExp(`port ${port} \\(cutover proxy\\) is already in use`));
    assert.match(demo.stderr(), /CUTOVER_DEMO_PORT_BASE=\d+ npm start/);
    assert.equal(await isFree(portsOf(base).legacy), true, 'the demo left a backend listening');
  });
});
