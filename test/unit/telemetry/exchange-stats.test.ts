import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createExchangeStats,
  deserializeExchangeStats,
  mergeExchangeStats,
  recordExchange,
  serializeExchangeStats,
  summarizeExchangeStats,
} from '../../../src/controlplane/telemetry/exchange-stats.ts';
import type { ExchangeEvent } from '../../../src/dataplane/events.ts';

const event = (over: Partial<ExchangeEvent>): ExchangeEvent => ({
  requestId: 'r',
  route: 'checkout',
  endpoint: '/cart/:id',
  method: 'GET',
  backend: 'legacy',
  role: 'primary',
  status: 200,
  startedAt: 0,
  ttfbMs: 5,
  totalMs: 8,
  requestBytes: 10,
  responseBytes: 100,
  ...over,
});

describe('exchange stats', () => {
  it('counts a response or a failure, never both, and keeps client aborts apart', () => {
    const s = createExchangeStats();
    recordExchange(s, event({ status: 200 }));
    recordExchange(s, event({ status: 404 }));
    recordExchange(s, event({ status: 503 }));
    recordExchange(s, event({ status: 0, failure: 'timeout', ttfbMs: 30_000, totalMs: 30_000 }));
    recordExchange(s, event({ status: 200, failure: 'reset' }));
    recordExchange(s, event({ status: 0, failure: 'connect_refused' }));
    recordExchange(s, event({ status: 200, clientAborted: true, failure: 'other' }));
    recordExchange(s, event({ status: 200, fallback: true }));
    recordExchange(s, event({ status: 0 }));
    const sum = summarizeExchangeStats(s);
    assert.equal(sum.requests, 9);
    assert.deepEqual(sum.responses, { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 });
    assert.deepEqual(sum.failures, { connect_refused: 1, timeout: 1, reset: 1, protocol: 0, other: 1 });
    assert.equal(sum.errors, 5);
    assert.equal(sum.errorRate, 5 / 9);
    assert.equal(sum.clientAborted, 1);
    assert.equal(sum.fallbacks, 1);
    // Latency from the four responses only: the 30 s timeout is not a latency.
    assert.equal(sum.total.count, 4);
    assert.ok(sum.total.max! < 9);
    assert.equal(sum.requestBytes, 90);
    assert.equal(sum.responseBytes, 900);
  });

  it('reports no error rate, not zero, when nothing was sent', () => {
    const sum = summarizeExchangeStats(createExchangeStats());
    assert.equal(sum.errorRate, null);
    assert.equal(sum.ttfb.count, 0);
  });

  it('round-trips through the JSON the store keeps, and merges like adding the events', () => {
    const a = createExchangeStats();
    const b = createExchangeStats();
    const both = createExchangeStats();
    for (let i = 0; i < 500; i++) {
      const e = event({ status: i % 50 === 0 ? 502 : 200, ttfbMs: 1 + (i % 17), totalMs: 2 + (i % 23) * 1.5, failure: i % 97 === 0 ? 'protocol' : undefined });
      recordExchange(i % 2 === 0 ? a : b, e);
      recordExchange(both, e);
    }
    const back = deserializeExchangeStats(JSON.parse(JSON.stringify(serializeExchangeStats(a))));
    assert.deepEqual(summarizeExchangeStats(back), summarizeExchangeStats(a));
    mergeExchangeStats(back, deserializeExchangeStats(JSON.parse(JSON.stringify(serializeExchangeStats(b)))));
    assert.deepEqual(summarizeExchangeStats(back), summarizeExchangeStats(both));
  });

  it('refuses buckets of another version', () => {
    assert.throws(() => deserializeExchangeStats({ v: 2 }), /version 1/);
    assert.throws(() => deserializeExchangeStats('x'), /version 1/);
  });
});
