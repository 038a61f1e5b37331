/**
 * Latency quantiles measured through a real data plane: backends that answer
 * after known delays, requests through the proxy, and the telemetry feature
 * subscribed to the data plane's events as the runtime wires it.
 *
 * The reference is twofold: the exact quantiles of the durations the data
 * plane published (the sketch must be within 2% of those, whatever the
 * machine's jitter), and the known delays themselves (which the measured
 * quantiles can only exceed, by a loopback's worth of overhead).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Pool } from 'undici';
import { validateConfig } from '../../../src/config/load.ts';
import { startCutover, type CutoverRuntime } from '../../../src/controlplane/runtime.ts';
import { createTelemetry, type SeriesStats, type TelemetryApi } from '../../../src/controlplane/telemetry/index.ts';
import { channels, type ExchangeEvent } from '../../../src/dataplane/events.ts';
import { createSqliteStore } from '../../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import { startBackend, type Backend } from '../../helpers/backends.ts';

/** Headers after `/d/<ms>` milliseconds, the body 8 ms later: ttfb and total differ by a known gap. */
const BODY_GAP_MS = 8;
function delayed(scale: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const ms = Number(/^\/d\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0) * scale;
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      setTimeout(() => res.end('x'.repeat(100)), BODY_GAP_MS);
    }, ms);
  };
}

/** Delays 1..100 ms, each twice: the true p50 is 50 ms, p95 95 ms, p99 99 ms. */
const DELAYS = Array.from({ length: 200 }, (_v, i) => 1 + (i % 100));

const exactQuantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
};

describe('latency quantiles through a real data plane', () => {
  let legacy: Backend;
  let candidate: Backend;
  let store: Store;
  let runtime: CutoverRuntime;
  const published: ExchangeEvent[] = [];
  const collect = (e: unknown) => published.push(e as ExchangeEvent);
  // Backends, proxy and client share this process: a stall of the host (a VM's
  // steal, a throttled quota) delays a timer, a read and a measurement alike.
  // The upper bounds below allow for the worst stall the loop itself saw.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  let worstStallMs = 0;

  before(async () => {
    legacy = await startBackend('legacy', { handler: delayed(1) });
    candidate = await startBackend('candidate', { handler: delayed(2) });
    store = createSqliteStore({ path: ':memory:' });
    await store.init();
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      backends: { legacy: { url: legacy.url }, candidate: { url: candidate.url } },
      routes: [{ id: 'delays', match: { path: '/d/:ms' }, mode: 'shadow', shadow: { timeout: '5s' } }],
    });
    runtime = await startCutover({ config, store, logger: pino({ level: 'silent' }), features: [(ctx) => createTelemetry(ctx)] });
    channels.exchange.subscribe(collect);
    const pool = new Pool(`http://127.0.0.1:${runtime.proxyAddress.port}`, { connections: 20 });
    loopDelay.enable();
    const queue = [...DELAYS];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
          const res = await pool.request({ path: `/d/${d}`, method: 'GET' });
          assert.equal(res.statusCode, 200);
          await res.body.text();
        }
      }),
    );
    await pool.close();
    // Shadow exchanges finish after the client's answer.
    const deadline = Date.now() + 10_000;
    while (published.filter((e) => e.backend === 'candidate' && e.role === 'shadow').length < DELAYS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    loopDelay.disable();
    worstStallMs = loopDelay.max / 1e6;
  });

  after(async () => {
    channels.exchange.unsubscribe(collect);
    await runtime?.close();
    await store?.close();
    await legacy?.close();
    await candidate?.close();
  });

  // Per role: legacy may also be mirrored a second time to learn noise, and that is legacy/shadow.
  const stats = (backend: string, role: string): SeriesStats => {
    const t = runtime.feature<TelemetryApi>('telemetry')!;
    const s = t.query({ route: 'delays', windowMs: 10 * 60_000 }).totals.find((b) => b.backend === backend && b.role === role);
    assert.ok(s, `no stats for ${backend} ${role}`);
    return s;
  };

  for (const [backend, role, scale] of [
    ['legacy', 'primary', 1],
    ['candidate', 'shadow', 2],
  ] as const) {
    it(`${backend} (${role}): p50/p95/p99 within 2% of the exact quantiles of the published durations`, () => {
      const events = published.filter((e) => e.backend === backend && e.role === role && e.route === 'delays');
      assert.equal(events.length, DELAYS.length);
      const s = stats(backend, role);
      assert.equal(s.requests, DELAYS.length);
      assert.equal(s.total.count, DELAYS.length, 'every sample counted');
      assert.equal(s.ttfb.count, DELAYS.length);
      for (const [field, pick] of [
        ['total', (e: ExchangeEvent) => e.totalMs],
        ['ttfb', (e: ExchangeEvent) => e.ttfbMs],
      ] as const) {
        const values = events.map(pick);
        for (const [q, got] of [
          [0.5, s[field].p50],
          [0.95, s[field].p95],
          [0.99, s[field].p99],
        ] as const) {
          const exact = exactQuantile(values, q);
          assert.ok(got !== null && Math.abs(got - exact) <= 0.02 * exact, `${field} p${q * 100}: reported ${got} ms, exact ${exact} ms`);
        }
      }
    });

    it(`${backend} (${role}): quantiles sit just above the known delays`, () => {
      const s = stats(backend, role);
      for (const [known, got] of [
        [50 * scale, s.ttfb.p50],
        [95 * scale, s.ttfb.p95],
        [99 * scale, s.ttfb.p99],
      ] as const) {
        // Timers never fire early by more than a millisecond; loopback and scheduling add a little.
        assert.ok(got! >= (known - 1) * 0.99, `ttfb ${got} ms below the ${known} ms the backend waited`);
        assert.ok(got! <= known * 1.25 + 15 + worstStallMs, `ttfb ${got} ms far above the ${known} ms the backend waited (worst loop stall ${worstStallMs.toFixed(1)} ms)`);
      }
      // Means are exact (sum / count), so they show the gap between first and last byte without sketch error.
      const gap = s.total.mean! - s.ttfb.mean!;
      assert.ok(gap >= BODY_GAP_MS * 0.85 && gap <= BODY_GAP_MS + 15 + worstStallMs / 10, `mean total - mean ttfb = ${gap} ms; the body came ${BODY_GAP_MS} ms after the headers`);
    });
  }
});
