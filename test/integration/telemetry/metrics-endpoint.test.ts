/**
 * /metrics on the admin listener (token required) and on admin.metricsListen
 * (no token), parsed with a strict text-format parser; label cardinality
 * under 10,000 distinct endpoints on a catch-all route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { OTHER_ENDPOINT, createTelemetry, type TelemetryApi, type TelemetryFeature } from '../../../src/controlplane/telemetry/index.ts';
import { channels, type ExchangeEvent } from '../../../src/dataplane/events.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';
import { parsePromText, seriesCount, type PromFamily } from '../../helpers/prom-text.ts';

const TOKEN = 'metrics-test-token-0123456789';
const CAP = 200;

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
}

describe('/metrics', () => {
  let legacy: Backend;
  let candidate: Backend;
  let store: Store;
  let runtime: CutoverRuntime;
  let feature: TelemetryFeature;
  let adminUrl: string;
  let proxyUrl: string;

  before(async () => {
    legacy = await startBackend('legacy');
    candidate = await startBackend('candidate', {
      handler: (req, res) => {
        // Route "down": the candidate drops the connection without answering, a failure by cause.
        if (req.url === '/down') {
          req.socket.destroy();
          return;
        }
        req.resume();
        req.on('end', () => res.writeHead(200).end('{}'));
      },
    });
    store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0', token: TOKEN, metricsListen: '127.0.0.1:0' },
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [
        { id: 'api', match: { path: '/api/:name' }, mode: 'canary', percent: 50 },
        { id: 'down', match: { path: '/down' }, mode: 'candidate' },
      ],
      telemetry: { maxEndpointsPerRoute: CAP },
    });
    runtime = await startCutover({
      config,
      store,
      logger: pino({ level: 'silent' }),
      features: [
        async (ctx) => {
          feature = await createTelemetry(ctx);
          return feature;
        },
      ],
    });
    adminUrl = `http://127.0.0.1:${runtime.adminAddress.port}`;
    proxyUrl = `http://127.0.0.1:${runtime.proxyAddress.port}`;
    for (let i = 0; i < 40; i++) await (await request(`${proxyUrl}/api/item${i % 4}`)).body.text();
    for (let i = 0; i < 3; i++) await (await request(`${proxyUrl}/down`)).body.text();
  });

  after(async () => {
    await runtime?.close();
    await store?.close();
    await legacy?.close();
    await candidate?.close();
  });

  const scrape = async (): Promise<Map<string, PromFamily>> => {
    const res = await get(`${adminUrl}/metrics`, { authorization: `Bearer ${TOKEN}` });
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    return parsePromText(res.text);
  };

  it('needs the admin token on the admin listener', async () => {
    const res = await get(`${adminUrl}/metrics`);
    assert.equal(res.status, 401);
  });

  it('parses strictly and has the upstream, comparison, process and load families', async () => {
    const f = await scrape();
    for (const [name, type] of [
      ['cutover_upstream_requests_total', 'counter'],
      ['cutover_upstream_responses_total', 'counter'],
      ['cutover_upstream_failures_total', 'counter'],
      ['cutover_upstream_request_bytes_total', 'counter'],
      ['cutover_upstream_response_bytes_total', 'counter'],
      ['cutover_upstream_ttfb_seconds', 'histogram'],
      ['cutover_upstream_duration_seconds', 'histogram'],
      ['cutover_comparisons_total', 'counter'],
      ['cutover_open_connections', 'gauge'],
      ['cutover_shadow_active', 'gauge'],
      ['cutover_shadow_queued', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
    ] as const) {
      assert.equal(f.get(name)?.type, type, `${name} should be a ${type}`);
    }
    const requests = f.get('cutover_upstream_requests_total')!.samples.filter((s) => s.labels.route === 'api');
    assert.deepEqual(Object.keys(requests[0]!.labels).sort(), ['backend', 'endpoint', 'role', 'route']);
    assert.equal(
      requests.reduce((n, s) => n + s.value, 0),
      40,
    );
    assert.ok(requests.every((s) => s.labels.endpoint === '/api/{name}'), 'the route template, never a raw path');
    const failures = f.get('cutover_upstream_failures_total')!.samples.filter((s) => s.labels.route === 'down');
    assert.deepEqual(
      failures.map((s) => [s.labels.backend, s.labels.cause, s.value]),
      [['candidate', 'reset', 3]],
    );
    const buckets = f.get('cutover_upstream_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket'));
    const bounds = [...new Set(buckets.map((s) => s.labels.le))];
    assert.equal(bounds[0], '0.0001', 'sub-millisecond resolution');
    assert.equal(bounds.at(-2), '10');
    const count = f.get('cutover_upstream_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count') && s.labels.route === 'api');
    assert.equal(
      count.reduce((n, s) => n + s.value, 0),
      40,
    );
  });

  it('agrees with the stats API', async () => {
    const f = await scrape();
    const api = runtime.feature<TelemetryApi>('telemetry')!;
    const r = api.query({ route: 'api', windowMs: 10 * 60_000 });
    for (const s of r.totals) {
      const prom = f.get('cutover_upstream_requests_total')!.samples.find((x) => x.labels.route === 'api' && x.labels.backend === s.backend && x.labels.role === s.role);
      assert.equal(prom?.value, s.requests, `${s.backend}/${s.role}`);
    }
  });

  it('is served without a token on admin.metricsListen, and nothing else is', async () => {
    const port = feature.metricsListenAddress!.port;
    assert.notEqual(port, runtime.adminAddress.port);
    const res = await get(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.ok(parsePromText(res.text).has('cutover_upstream_requests_total'));
    assert.equal((await get(`http://127.0.0.1:${port}/api/v1/status`)).status, 404);
  });

  it('keeps label cardinality bounded when 10,000 distinct endpoints hit a catch-all route', async () => {
    const now = Date.now();
    for (let i = 0; i < 10_000; i++) {
      const event: ExchangeEvent = {
        requestId: `r${i}`,
        route: 'default',
        endpoint: `/learned/${i}`,
        method: 'GET',
        backend: i % 2 === 0 ? 'legacy' : 'candidate',
        role: i % 2 === 0 ? 'primary' : 'shadow',
        status: 200,
        startedAt: now,
        ttfbMs: 1,
        totalMs: 2,
        requestBytes: 0,
        responseBytes: 10,
      };
      channels.exchange.publish(event);
    }
    const f = await scrape();
    for (const name of ['cutover_upstream_requests_total', 'cutover_upstream_duration_seconds', 'cutover_upstream_ttfb_seconds', 'cutover_upstream_responses_total']) {
      const fam = f.get(name)!;
      const defaultRoute = { ...fam, samples: fam.samples.filter((s) => s.labels.route === 'default') };
      // Per route: at most CAP endpoints plus {other}, times two backend/role pairs here.
      assert.ok(seriesCount(defaultRoute) <= (CAP + 1) * 2, `${name}: ${seriesCount(defaultRoute)} series`);
      const endpoints = new Set(defaultRoute.samples.map((s) => s.labels.endpoint));
      assert.equal(endpoints.size, CAP + 1);
      assert.ok(endpoints.has(OTHER_ENDPOINT));
    }
    const total = f.get('cutover_upstream_requests_total')!.samples.filter((s) => s.labels.route === 'default').reduce((n, s) => n + s.value, 0);
    assert.equal(total, 10_000, 'nothing is lost, only folded');
    const overflow = f.get('cutover_telemetry_endpoint_overflow_total')!.samples.find((s) => s.labels.route === 'default');
    assert.equal(overflow?.value, 10_000 - CAP);
    const stats = runtime.feature<TelemetryApi>('telemetry')!.query({ route: 'default', windowMs: 10 * 60_000 });
    assert.equal(new Set(stats.series.map((s) => s.endpoint)).size, CAP + 1);
    assert.equal(stats.backends.reduce((n, s) => n + s.requests, 0), 10_000);
  });
});
