import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createAccessLog } from '../../../src/controlplane/telemetry/access-log.ts';
import type { RequestEvent } from '../../../src/dataplane/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'cutover-access-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const request = (id: string, route = 'checkout'): RequestEvent => ({
  requestId: id,
  route,
  endpoint: '/cart/:id',
  method: 'GET',
  url: `/cart/${id}?token=secret`,
  backend: 'legacy',
  status: 200,
  startedAt: 1_700_000_000_000,
  totalMs: 12.34567,
  ttfbMs: 3.2,
  remoteAddress: '10.0.0.9',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
});

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('access log', () => {
  it('writes one JSON line per request, without the query string', async () => {
    const file = join(dir, 'nested', 'full.log');
    const log = createAccessLog({ mode: 'full', sample: 0, file, holdMs: () => 0 });
    for (let i = 0; i < 3; i++) log.onRequest(request(`r${i}`));
    await log.close();
    const got = lines(file);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], {
      time: 1_700_000_000_000,
      requestId: 'r0',
      route: 'checkout',
      endpoint: '/cart/:id',
      method: 'GET',
      path: '/cart/r0',
      backend: 'legacy',
      status: 200,
      ttfbMs: 3.2,
      totalMs: 12.346,
      remoteAddress: '10.0.0.9',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('writes a lone line out within flushMs, without waiting for the buffer to fill', async () => {
    const file = join(dir, 'quiet.log');
    const log = createAccessLog({ mode: 'full', sample: 1, file, holdMs: () => 0, flushMs: 50 });
    try {
      log.onRequest(request('lonely'));
      const deadline = Date.now() + 5_000;
      const written = () => existsSync(file) && readFileSync(file, 'utf8').includes('"lonely"');
      while (!written() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(written(), 'a single line reached the file before close');
    } finally {
      await log.close();
    }
    assert.equal(lines(file).length, 1);
  });

  it('samples', async () => {
    const file = join(dir, 'sampled.log');
    let n = 0;
    const log = createAccessLog({ mode: 'sampled', sample: 0.25, file, holdMs: () => 0, random: () => (n++ % 4) / 4 });
    for (let i = 0; i < 100; i++) log.onRequest(request(`r${i}`));
    await log.close();
    assert.equal(lines(file).length, 25);
  });

  it('holds a compared request until its outcome, or until the wait is over', async () => {
    const file = join(dir, 'held.log');
    let now = 0;
    const log = createAccessLog({ mode: 'full', sample: 1, file, holdMs: (route) => (route === 'shadowed' ? 1_000 : 0), now: () => now, maxHeld: 3 });
    log.onRequest(request('a', 'shadowed'));
    log.onRequest(request('b', 'shadowed'));
    log.onRequest(request('plain', 'checkout'));
    log.onComparison('a', 'mismatch', undefined);
    log.onComparison('unknown', 'match', undefined);
    now = 999;
    log.sweep();
    log.onRequest(request('c', 'shadowed'));
    log.onRequest(request('d', 'shadowed'));
    log.onRequest(request('e', 'shadowed')); // over maxHeld: written at once
    now = 1_000;
    log.sweep(); // b's wait is over
    log.onComparison('c', 'skipped', 'body_too_large');
    await log.close(); // d is written without an outcome
    const got = lines(file).map((l) => [l.requestId, l.comparison]);
    assert.deepEqual(got, [
      ['plain', undefined],
      ['a', { outcome: 'mismatch' }],
      ['e', undefined],
      ['b', undefined],
      ['c', { outcome: 'skipped', reason: 'body_too_large' }],
      ['d', undefined],
    ]);
  });
});
