/**
 * Shadow comparison end to end: real legacy / replica / candidate servers
 * with planted differences and noisy fields behind a real cutover (sqlite
 * store, default features), read back through the admin API and the CLI.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import type { CutoverConfigInput } from '../../../src/config/schema.ts';
import type { ComparisonApi } from '../../../src/controlplane/comparison/comparison-feature.ts';
import { defaultFeatures } from '../../../src/controlplane/features.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetryFeature, type TelemetryApi } from '../../../src/controlplane/telemetry/index.ts';

const root = mkdtempSync(join(tmpdir(), 'cutover-shadow-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `run-${++dirs}`);

type Role = 'legacy' | 'replica' | 'candidate';

interface Backend {
  url: string;
  role: Role;
  /** Requests received: method, path and body. */
  hits: Array<{ method: string; url: string; body: string }>;
  /** Exact bytes sent, by the client's x-test-seq header. */
  sent: Map<string, Buffer>;
  close(): Promise<void>;
}

const PRODUCTS = [
  { id: 1, name: 'kettle', price: 24.5 },
  { id: 2, name: 'teapot', price: 31 },
  { id: 3, name: 'mug', price: 7.25 },
];

/** Fields and headers that differ on every answer, from any backend: noise. */
function noisy(): { generated_at: string; request_id: string } {
  // Jittered so two answers in the same millisecond still differ, like two hosts' clocks.
  return { generated_at: new Date(Date.now() - Math.floor(Math.random() * 5000)).toISOString(), request_id: randomUUID() };
}

async function startBackend(role: Role, options: { hang?: boolean } = {}): Promise<Backend> {
  const hits: Backend['hits'] = [];
  const sent = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (options.hang) return; // reads the request, never answers
      const candidate = role === 'candidate';
      const path = (req.url ?? '/').split('?')[0]!;
      let status = 200;
      const headers: Record<string, string | string[]> = { 'content-type': 'application/json', 'x-backend-instance': randomBytes(4).toString('hex') };
      let doc: unknown;
      const users = /^\/users\/(\d+)$/.exec(path);
      if (path === '/products' && req.method === 'GET') {
        // Planted: the rewrite charges 10% more.
        doc = { data: PRODUCTS.map((p) => ({ ...p, price: candidate ? Math.round(p.price * 110) / 100 : p.price })), ...noisy() };
      } else if (users && req.method === 'GET') {
        const id = Number(users[1]);
        // Planted: the rewrite forgets the email.
        doc = candidate ? { id, name: `user ${id}`, ...noisy() } : { id, name: `user ${id}`, email: `u${id}@example.test`, ...noisy() };
      } else if (path === '/inventory') {
        // Planted: same body, other status.
        status = candidate ? 503 : 200;
        doc = { items: 3, ...noisy() };
      } else if (path === '/same') {
        doc = { ok: true, ...noisy() };
      } else if (path === '/secret') {
        headers['set-cookie'] = `session=legacy-session-${role}; Path=/; HttpOnly`;
        doc = { token: 'tok-SECRET-123', owner: candidate ? 'bob' : 'alice' };
      } else if (path === '/big') {
        doc = { blob: 'x'.repeat(8192) };
      } else if (path === '/orders' || path === '/orders-mirrored') {
        status = 201;
        doc = { created: true };
      } else {
        status = 404;
        doc = { error: 'not found' };
      }
      const bytes = Buffer.from(JSON.stringify(doc));
      const seq = req.headers['x-test-seq'];
      if (typeof seq === 'string') sent.set(seq, bytes);
      res.writeHead(status, { ...headers, 'content-length': bytes.byteLength });
      res.end(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    role,
    hits,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Harness {
  runtime: CutoverRuntime;
  proxy: string;
  admin: string;
  dataDir: string;
  comparison: ComparisonApi;
}

async function startProxy(dataDir: string, backends: { legacy: Backend; candidate: Backend; replica?: Backend }, extra: Partial<CutoverConfigInput> = {}): Promise<Harness> {
  const config = validateConfig({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    dataDir,
    shutdownTimeout: 1000,
    backends: {
      legacy: { url: backends.legacy.url },
      candidate: { url: backends.candidate.url },
      ...(backends.replica ? { replica: { url: backends.replica.url } } : {}),
    },
    routes: [{ id: 'api', match: { path: '/', pathType: 'prefix' }, mode: 'shadow' }],
    results: { redactHeaders: ['x-api-key'], redactPaths: ['$.token'] },
    ...extra,
  } as CutoverConfigInput);
  // Telemetry receives the comparer's outcomes; added here until it is a default feature.
  const features = defaultFeatures.includes(createTelemetryFeature) ? defaultFeatures : [createTelemetryFeature, ...defaultFeatures];
  const runtime = await startCutover({ config, features, logger: pino({ level: process.env.TEST_LOG ?? 'silent' }) });
  const comparison = runtime.feature<ComparisonApi>('comparison');
  assert.ok(comparison, 'the comparison feature is registered in defaultFeatures');
  return {
    runtime,
    proxy: `http://127.0.0.1:${runtime.proxyAddress.port}`,
    admin: `http://127.0.0.1:${runtime.adminAddress.port}`,
    dataDir,
    comparison,
  };
}

let seq = 0;
async function get(h: Harness, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; seq: string }> {
  const s = String(++seq);
  const res = await request(`${h.proxy}${path}`, { headers: { 'x-test-seq': s, ...headers } });
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()), seq: s };
}

async function api<T>(h: Harness, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await request(`${h.admin}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

interface Totals {
  route: string;
  method: string;
  endpoint: string;
  match: number;
  mismatch: number;
  compared: number;
  skipped: Record<string, number>;
}

interface Group {
  id: string;
  route: string;
  method: string;
  endpoint: string;
  path: string;
  kind: string;
  count: number;
  total: number;
  compared: number;
  status: string;
  silenced: boolean;
  firstSeen: number;
  lastSeen: number;
}

const seenCount = (h: Harness): number => h.comparison.totals().reduce((n, t) => n + t.compared + Object.values(t.skipped).reduce((a, b) => a + b, 0), 0);

/** Waits until every request sent has been compared or skipped, then until results are written. */
async function settle(h: Harness, expected: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await h.comparison.flush();
    const seen = seenCount(h);
    if (seen >= expected) return;
    if (Date.now() > deadline) assert.fail(`only ${seen} of ${expected} requests were compared or skipped: ${JSON.stringify(h.comparison.totals())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function totalsOf(h: Harness, endpoint: string, method = 'GET'): Totals {
  const t = h.comparison.totals().find((x) => x.endpoint === endpoint && x.method === method);
  assert.ok(t, `totals for ${method} ${endpoint}`);
  return t as Totals;
}

const PLANTED = [
  'GET /inventory status status',
  'GET /products $.data[*].price value',
  'GET /users/{id} $.email missing',
];

const describeGroups = (groups: Group[]): string[] => groups.map((g) => `${g.method} ${g.endpoint} ${g.path} ${g.kind}`).sort();

/** Mixed traffic over the planted endpoints and a matching one; returns how many requests were sent. */
async function traffic(h: Harness, rounds: number, check?: (path: string, r: { status: number; body: Buffer; seq: string }) => void): Promise<number> {
  let sent = 0;
  for (let i = 0; i < rounds; i++) {
    const batch = ['/products', `/users/${100 + (i % 7)}`, '/inventory', '/same'];
    const results = await Promise.all(batch.map((p) => get(h, p)));
    results.forEach((r, j) => check?.(batch[j]!, r));
    sent += batch.length;
  }
  return sent;
}

const node = process.execPath;
const cliMain = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
async function cli(h: Harness, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(node, [cliMain, '--admin-url', h.admin, ...args], { env: { ...process.env, CUTOVER_TOKEN: '' } });
  return stdout;
}

describe('shadow comparison', { timeout: 120_000 }, () => {
  it('with a replica: reports exactly the planted differences, never the noise, and serves legacy bytes unchanged', async () => {
    const legacy = await startBackend('legacy');
    const replica = await startBackend('replica');
    const candidate = await startBackend('candidate');
    const dataDir = freshDir();
    let h = await startProxy(dataDir, { legacy, candidate, replica });
    try {
      let mismatchedBytes = 0;
      const sent = await traffic(h, 40, (path, r) => {
        const original = legacy.sent.get(r.seq);
        assert.ok(original, `legacy answered ${path}`);
        if (!original.equals(r.body)) mismatchedBytes += 1;
        assert.equal(r.status, path === '/inventory' ? 200 : 200);
      });
      assert.equal(mismatchedBytes, 0, 'the client gets exactly the bytes legacy sent');
      await settle(h, sent);

      const diffs = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs?route=api');
      assert.equal(diffs.status, 200);
      assert.deepEqual(describeGroups(diffs.body.groups), PLANTED);
      for (const g of diffs.body.groups) {
        assert.equal(g.count, 40, `${g.path} mismatched on every request`);
        assert.equal(g.compared, 40, `${g.endpoint} compared on every request`);
      }
      assert.equal(totalsOf(h, '/same').match, 40, 'the matching endpoint matches despite its noisy fields');
      const telemetry = h.runtime.feature<TelemetryApi>('telemetry')!;
      const counted = telemetry.query({ route: 'api', windowMs: 3_600_000 }).comparisons;
      assert.deepEqual(
        counted.map((c) => [c.endpoint, c.match, c.mismatch]).sort(),
        [['/inventory', 0, 40], ['/products', 0, 40], ['/same', 40, 0], ['/users/{id}', 0, 40]],
        'every outcome reached telemetry',
      );

      const cliGroups = JSON.parse(await cli(h, 'diffs', 'api', '--since', '1h', '--json')) as Group[];
      assert.deepEqual(describeGroups(cliGroups), PLANTED);
      for (const g of cliGroups) for (const field of ['route', 'method', 'endpoint', 'path', 'kind', 'count', 'compared', 'firstSeen', 'lastSeen']) assert.ok(field in g, `--json has ${field}`);
      // A window counts its own minutes: the last hour holds every occurrence, a window after now holds none.
      const lastHour = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs?route=api&since=1h');
      assert.deepEqual(
        lastHour.body.groups.map((g) => [g.path, g.count, g.total, g.compared]).sort(),
        diffs.body.groups.map((g) => [g.path, 40, 40, 40]).sort(),
      );
      const later = await api<{ groups: Group[] }>(h, 'GET', `/api/v1/diffs?route=api&since=${Date.now() + 120_000}`);
      assert.deepEqual(later.body.groups, []);
      const table = await cli(h, 'diffs', 'api');
      assert.match(table, /\$\.data\[\*\]\.price/);

      const noise = await api<{ noise: Array<{ endpoint: string; path: string; status: string }> }>(h, 'GET', '/api/v1/noise?route=api');
      const noisePaths = new Set(noise.body.noise.map((n) => `${n.endpoint} ${n.path}`));
      for (const p of ['/products $.generated_at', '/products $.request_id', '/products headers.x-backend-instance', '/same $.generated_at']) {
        assert.ok(noisePaths.has(p), `learned ${p} as noise (have ${[...noisePaths].join(', ')})`);
      }
      assert.match(await cli(h, 'noise', 'api'), /\/products\s+\$\.generated_at\s+value\s+\d+\/\d+\s+\d+\/\d+\s+learned/);

      // Triage: accepting the price change silences it in later comparisons.
      const price = diffs.body.groups.find((g) => g.path === '$.data[*].price')!;
      const bad = await api<{ error: { code: string; message: string } }>(h, 'POST', `/api/v1/diffs/${price.id}/triage`, { status: 'accepted' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /reason is required/);
      const badExpiry = await api<{ error: { code: string } }>(h, 'POST', `/api/v1/diffs/${price.id}/triage`, { status: 'accepted', reason: 'x', expiresIn: 'soon' });
      assert.equal(badExpiry.status, 400);
      const accepted = await cli(h, 'triage', price.id, 'accept', '--reason', 'v2 prices include tax', '--expires', '7d');
      assert.match(accepted, /accepted until/);
      const before = structuredClone(totalsOf(h, '/products'));
      const more = await traffic(h, 10);
      await settle(h, sent + more);
      const afterTriage = totalsOf(h, '/products');
      assert.equal(afterTriage.mismatch, before.mismatch, 'a silenced group no longer makes /products mismatch');
      assert.equal(afterTriage.match, before.match + 10);
      const open = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs?status=open');
      assert.deepEqual(describeGroups(open.body.groups), PLANTED.filter((p) => !p.includes('price')));
      const acceptedList = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs?status=accepted');
      assert.equal(acceptedList.body.groups.length, 1);
      assert.equal(acceptedList.body.groups[0]!.silenced, true);

      // Results survive a restart (same data dir, new process state).
      const beforeRestart = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs');
      await h.runtime.close();
      h = await startProxy(dataDir, { legacy, candidate, replica });
      const afterRestart = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs');
      assert.deepEqual(
        afterRestart.body.groups.map((g) => [g.id, g.count, g.compared, g.status]),
        beforeRestart.body.groups.map((g) => [g.id, g.count, g.compared, g.status]),
      );

      // Rejecting a learned noise path makes its differences count again.
      const badReject = await api<{ error: { message: string } }>(h, 'POST', '/api/v1/noise/reject', { route: 'api', path: '$.generated_at' });
      assert.equal(badReject.status, 400);
      assert.match(badReject.body.error.message, /endpoint/);
      const rejected = await api<{ noise: Array<{ status: string }> }>(h, 'POST', '/api/v1/noise/reject', { route: 'api', endpoint: '/same', path: '$.generated_at' });
      assert.equal(rejected.status, 200);
      assert.deepEqual(rejected.body.noise.map((n) => n.status), ['rejected']);
      const sameBefore = structuredClone(totalsOf(h, '/same'));
      await Promise.all(Array.from({ length: 5 }, () => get(h, '/same')));
      await settle(h, seenCount(h) + 5);
      assert.equal(totalsOf(h, '/same').mismatch, sameBefore.mismatch + 5);
      const withRejected = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs?route=api&status=open');
      assert.ok(describeGroups(withRejected.body.groups).includes('GET /same $.generated_at value'));
    } finally {
      await h.runtime.close();
      await Promise.all([legacy.close(), replica.close(), candidate.close()]);
    }
  });

  it('without a replica: learns noise from legacy asked twice and still reports only the planted differences', async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate');
    const h = await startProxy(freshDir(), { legacy, candidate }, { defaults: { shadow: { noiseSample: 0.5 } } });
    try {
      const sent = await traffic(h, 90);
      await settle(h, sent);
      const diffs = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs');
      assert.deepEqual(describeGroups(diffs.body.groups), PLANTED);
      for (const g of diffs.body.groups) assert.equal(g.count, 90);
      const secondLegacyAnswers = legacy.hits.length - sent;
      assert.ok(secondLegacyAnswers >= 20 * 4, `legacy was asked twice for some requests (${secondLegacyAnswers})`);
    } finally {
      await h.runtime.close();
      await Promise.all([legacy.close(), candidate.close()]);
    }
  });

  it('redacts secrets in stored samples and in the differences they carry', async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate');
    const h = await startProxy(freshDir(), { legacy, candidate }, { defaults: { shadow: { noiseSample: 0 } } });
    try {
      await get(h, '/secret', { authorization: 'Bearer super-secret-bearer', cookie: 'sid=cookie-secret-value', 'x-api-key': 'key-secret-value' });
      await settle(h, 1);
      const diffs = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs');
      const owner = diffs.body.groups.find((g) => g.path === '$.owner');
      assert.ok(owner, `the planted $.owner difference is reported (${describeGroups(diffs.body.groups).join('; ')})`);
      const samples = await api<{ samples: Array<{ sample: unknown }> }>(h, 'GET', `/api/v1/diffs/${owner.id}/samples?limit=5`);
      assert.equal(samples.body.samples.length, 1);
      const text = JSON.stringify(samples.body.samples);
      for (const secret of ['super-secret-bearer', 'cookie-secret-value', 'key-secret-value', 'tok-SECRET-123', 'legacy-session-']) {
        assert.ok(!text.includes(secret), `sample does not contain ${secret}`);
      }
      assert.match(text, /Bearer redacted:hmac:[0-9a-f]{16}/, 'the auth scheme is kept, the credential hashed');
      assert.match(text, /alice/, 'unredacted fields are kept');
      const viaCli = JSON.parse(await cli(h, 'diffs', 'samples', owner.id)) as { samples: unknown[] };
      assert.deepEqual(viaCli.samples, samples.body.samples, 'cutover diffs samples prints the same samples');
      assert.ok((await h.runtime.store.getMeta('redaction-key'))!.length >= 32, 'a per-installation key is kept in the store');
      const badLimit = await api<{ error: { message: string; hint: string } }>(h, 'GET', `/api/v1/diffs/${owner.id}/samples?limit=zero`);
      assert.equal(badLimit.status, 400);
      assert.ok(badLimit.body.error.hint);
      const missing = await api<{ error: { code: string } }>(h, 'GET', '/api/v1/diffs/nope/samples');
      assert.equal(missing.status, 404);
    } finally {
      await h.runtime.close();
      await Promise.all([legacy.close(), candidate.close()]);
    }
  });

  it('does not mirror unsafe methods unless mirrorUnsafe, samples, and skips bodies above the capture cap', async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate');
    const h = await startProxy(freshDir(), { legacy, candidate }, {
      defaults: { shadow: { noiseSample: 0 } },
      // Route-level shadow blocks are written out in full: the schema fills
      // omitted fields with its own defaults rather than with defaults.shadow.
      routes: [
        { id: 'orders', match: { path: '/orders' }, mode: 'shadow' },
        { id: 'orders-mirrored', match: { path: '/orders-mirrored' }, mode: 'shadow', shadow: { mirrorUnsafe: true, noiseSample: 0 } },
        { id: 'sampled', match: { path: '/same' }, mode: 'shadow', shadow: { sample: 0.5, noiseSample: 0 } },
        { id: 'big', match: { path: '/big' }, mode: 'shadow', shadow: { captureLimit: 1024, noiseSample: 0 } },
      ],
    });
    try {
      const post = async (path: string, body: string) => {
        const res = await request(`${h.proxy}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await res.body.dump();
        return res.statusCode;
      };
      for (let i = 0; i < 5; i++) assert.equal(await post('/orders', `{"n":${i}}`), 201);
      for (let i = 0; i < 5; i++) assert.equal(await post('/orders-mirrored', `{"mirrored":${i}}`), 201);
      const sampledRounds = 200;
      for (let i = 0; i < sampledRounds; i += 20) await Promise.all(Array.from({ length: 20 }, () => get(h, '/same')));
      const big = await get(h, '/big');
      assert.equal(big.status, 200);
      assert.ok(legacy.sent.get(big.seq)!.equals(big.body), 'the client gets the whole big body');
      await settle(h, 5 + 5 + sampledRounds + 1);

      assert.equal(candidate.hits.filter((x) => x.url === '/orders').length, 0, 'POST is not sent to the candidate');
      assert.equal(totalsOf(h, '/orders', 'POST').skipped.unsafe_method, 5);
      const mirroredBodies = candidate.hits.filter((x) => x.url === '/orders-mirrored').map((x) => x.body);
      assert.deepEqual(mirroredBodies.sort(), [0, 1, 2, 3, 4].map((i) => `{"mirrored":${i}}`));
      assert.equal(totalsOf(h, '/orders-mirrored', 'POST').compared, 5);

      const same = totalsOf(h, '/same');
      const sampledOut = same.skipped.sampled_out ?? 0;
      assert.equal(same.compared + sampledOut, sampledRounds);
      assert.equal(candidate.hits.filter((x) => x.url === '/same').length, same.compared);
      assert.ok(same.compared > 50 && same.compared < 150, `about half compared (${same.compared})`);

      assert.equal(totalsOf(h, '/big').skipped.body_too_large, 1);
      assert.equal(totalsOf(h, '/big').compared, 0);
    } finally {
      await h.runtime.close();
      await Promise.all([legacy.close(), candidate.close()]);
    }
  });

  it('keeps results written before a kill -9 (at most the last second is lost)', async () => {
    const legacy = await startBackend('legacy');
    const replica = await startBackend('replica');
    const candidate = await startBackend('candidate');
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'cutover.yaml');
    // JSON is YAML.
    writeFileSync(
      file,
      JSON.stringify({
        listen: '127.0.0.1:0',
        admin: { listen: '127.0.0.1:0' },
        dataDir,
        backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url }, replica: { url: replica.url } },
        routes: [{ id: 'api', match: { path: '/', pathType: 'prefix' }, mode: 'shadow' }],
      }),
    );
    const child = spawn(node, [cliMain, 'run', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let h: Harness | undefined;
    try {
      const listen = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const m = /"listen":"([^"]+)"/.exec(buffered);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`cutover exited with ${code}: ${buffered}`)));
      });
      const proxy = { proxy: `http://${listen}` } as Harness;
      for (let i = 0; i < 30; i++) await Promise.all(['/products', '/users/7', '/inventory'].map((p) => get(proxy, p)));
      // Comparison and the once-a-second write both have to happen before the kill.
      await new Promise((r) => setTimeout(r, 2500));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      h = await startProxy(dataDir, { legacy, candidate, replica });
      const diffs = await api<{ groups: Group[] }>(h, 'GET', '/api/v1/diffs');
      assert.deepEqual(describeGroups(diffs.body.groups), PLANTED);
      for (const g of diffs.body.groups) {
        assert.equal(g.count, 30);
        assert.equal(g.compared, 30);
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await h?.runtime.close();
      await Promise.all([legacy.close(), replica.close(), candidate.close()]);
    }
  });

  it('skips with queue_full when the candidate hangs and the shadow limits are tiny, without slowing clients', async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate', { hang: true });
    const h = await startProxy(freshDir(), { legacy, candidate }, {
      defaults: { shadow: { noiseSample: 0, maxConcurrency: 1, maxQueue: 1, timeout: 60_000 } },
    });
    try {
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 10 }, () => get(h, '/same')));
      const tookMs = Date.now() - started;
      assert.ok(results.every((r) => r.status === 200));
      assert.ok(tookMs < 2000, `clients were answered by legacy without waiting for the candidate (${tookMs} ms)`);
      await settle(h, 8);
      const same = totalsOf(h, '/same');
      assert.equal(same.skipped.queue_full, 8, 'one mirror running, one queued, the rest skipped');
      assert.equal(same.compared, 0);
    } finally {
      await candidate.close();
      await h.runtime.close();
      await legacy.close();
    }
  });

  it("honours a route's own mirror limits and timeout over the defaults", async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate', { hang: true });
    const h = await startProxy(freshDir(), { legacy, candidate }, {
      defaults: { shadow: { noiseSample: 0, timeout: 60_000 } },
      routes: [{ id: 'api', match: { path: '/', pathType: 'prefix' }, mode: 'shadow', shadow: { maxConcurrency: 1, maxQueue: 1, timeout: 200 } }],
    });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => get(h, '/same')));
      assert.ok(results.every((r) => r.status === 200));
      const started = Date.now();
      await settle(h, 10, 5_000);
      const same = totalsOf(h, '/same');
      assert.equal(same.skipped.queue_full, 8, `the route's limits (1 running, 1 queued) apply, not the defaults: ${JSON.stringify(same)}`);
      assert.equal(same.skipped.timeout, 2, "both mirrors that ran timed out after the route's 200 ms, not the default 60 s");
      assert.ok(Date.now() - started < 3_000);
    } finally {
      await candidate.close();
      await h.runtime.close();
      await legacy.close();
    }
  });

  it('pauses mirrors to a candidate that keeps timing out (circuit_open), and resumes once a trial mirror succeeds', async () => {
    const legacy = await startBackend('legacy');
    const behaviour = { hang: true };
    const candidate = await startBackend('candidate', behaviour);
    const h = await startProxy(freshDir(), { legacy, candidate }, {
      defaults: { shadow: { noiseSample: 0, timeout: 150, breaker: { failures: 3, cooldown: 400 } } },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(h, '/same')).status, 200);
      await settle(h, 3);
      assert.equal(totalsOf(h, '/same').skipped.timeout, 3, 'three mirrors timed out');
      const reached = candidate.hits.length;
      for (let i = 0; i < 5; i++) assert.equal((await get(h, '/same')).status, 200);
      await settle(h, 8);
      assert.equal(totalsOf(h, '/same').skipped.circuit_open, 5, 'mirrors skipped while the breaker is open');
      assert.equal(candidate.hits.length, reached, 'no mirror reached the candidate while the breaker was open');

      behaviour.hang = false;
      await new Promise((r) => setTimeout(r, 450));
      for (let i = 0; i < 4; i++) assert.equal((await get(h, '/same')).status, 200);
      await settle(h, 12);
      const same = totalsOf(h, '/same');
      assert.equal(same.compared, 4, `the trial and the mirrors after it were compared: ${JSON.stringify(same)}`);
      assert.equal(same.skipped.circuit_open, 5);
    } finally {
      await candidate.close();
      await h.runtime.close();
      await legacy.close();
    }
  });

  it('says how many mismatches are held for noise learning, and counts those still held at stop as skipped (held_at_stop)', async () => {
    const legacy = await startBackend('legacy');
    const candidate = await startBackend('candidate');
    const dataDir = freshDir();
    // Noise is learned (noiseSample > 0) but so rarely that no endpoint gets enough samples: every mismatch is held.
    const config = { defaults: { shadow: { noiseSample: 0.0001 } } };
    let h = await startProxy(dataDir, { legacy, candidate }, config);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(h, '/products')).status, 200);
      // The client's answer can come back before its mirror's: wait until the third pair has reached the comparer.
      let pending = await api<{ groups: Group[]; held: number }>(h, 'GET', '/api/v1/diffs?flush=1');
      for (const deadline = Date.now() + 5_000; pending.body.held < 3 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 20));
        pending = await api<{ groups: Group[]; held: number }>(h, 'GET', '/api/v1/diffs?flush=1');
      }
      assert.equal(seenCount(h), 0, `all three are held, none counted yet: ${JSON.stringify(h.comparison.totals())}`);
      assert.deepEqual([pending.body.groups.length, pending.body.held], [0, 3], 'the API says mismatches are waiting, not that there are none');
      const printed = await cli(h, 'diffs');
      assert.match(printed, /^no mismatches reported yet\n3 mismatched pair\(s\) not reported yet: held until their endpoint's noise is learned/);
      await h.runtime.close();
      h = await startProxy(dataDir, { legacy, candidate }, config);
      const products = totalsOf(h, '/products');
      assert.deepEqual(products.skipped, { held_at_stop: 3 });
      assert.equal(products.compared, 0);
      const diffs = await api<{ groups: Group[]; held: number }>(h, 'GET', '/api/v1/diffs');
      assert.deepEqual(diffs.body.groups, [], 'unjudged pairs are not reported: they may be noise');
      assert.equal(diffs.body.held, 0);
      assert.equal(await cli(h, 'diffs'), 'no mismatches\n');
    } finally {
      await h.runtime.close();
      await candidate.close();
      await legacy.close();
    }
  });
});
