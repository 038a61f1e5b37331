import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createComparisonCounts } from '../../../src/controlplane/telemetry/comparison-counts.ts';
import { recordExchange } from '../../../src/controlplane/telemetry/exchange-stats.ts';
import { MINUTE, createMinuteWindow, minuteOf, seriesId, type SeriesKey } from '../../../src/controlplane/telemetry/minute-window.ts';
import { queryWindow } from '../../../src/controlplane/telemetry/window-query.ts';
import type { TelemetryBucketRow } from '../../../src/storage/store.ts';
import type { ExchangeEvent } from '../../../src/dataplane/events.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 30, 30);

function exchange(key: SeriesKey, at: number, totalMs: number, status = 200): ExchangeEvent {
  return { requestId: 'x', route: key.route, endpoint: key.endpoint, method: 'GET', backend: key.backend, role: key.role, status, startedAt: at - totalMs, ttfbMs: totalMs / 2, totalMs, requestBytes: 0, responseBytes: 1 };
}

function record(window: ReturnType<typeof createMinuteWindow>, key: SeriesKey, at: number, totalMs: number, status = 200) {
  const e = exchange(key, at, totalMs, status);
  recordExchange(window.statsFor(minuteOf(e.startedAt + e.totalMs), seriesId(key.route, key.endpoint, key.backend, key.role), key), e);
}

const legacy: SeriesKey = { route: 'checkout', endpoint: '/cart', backend: 'legacy', role: 'primary' };
const candidate: SeriesKey = { route: 'checkout', endpoint: '/cart', backend: 'candidate', role: 'shadow' };
const candidatePay: SeriesKey = { route: 'checkout', endpoint: '/pay', backend: 'candidate', role: 'shadow' };
const other: SeriesKey = { route: 'search', endpoint: '/q', backend: 'legacy', role: 'primary' };

describe('window queries', () => {
  it('a 10 minute window counts the minutes that overlap it and no older ones', () => {
    const w = createMinuteWindow();
    const counts = createComparisonCounts();
    record(w, legacy, NOW - 30 * MINUTE, 100, 500); // outside
    record(w, legacy, NOW - 11 * MINUTE, 100, 500); // minute 12:19, ends before 12:20:30: outside
    record(w, legacy, NOW - 10 * MINUTE, 10); // minute 12:20 overlaps [12:20:30, 12:30:30]
    record(w, legacy, NOW - 5 * MINUTE, 20);
    record(w, legacy, NOW, 30); // the current partial minute
    counts.add(minuteOf(NOW - 30 * MINUTE), 'checkout', '/cart', 'mismatch', '', 7);
    counts.add(minuteOf(NOW - 2 * MINUTE), 'checkout', '/cart', 'match', '', 3);
    counts.add(minuteOf(NOW - 2 * MINUTE), 'checkout', '/cart', 'skipped', 'queue_full', 2);
    const r = queryWindow(w, counts, { route: 'checkout', windowMs: 10 * MINUTE, now: NOW });
    assert.equal(r.from, minuteOf(NOW - 10 * MINUTE));
    assert.equal(r.to, NOW);
    assert.equal(r.series.length, 1);
    const s = r.series[0]!;
    assert.equal(s.requests, 3);
    assert.equal(s.errorRate, 0);
    assert.equal(s.total.count, 3);
    assert.deepEqual(r.comparisonTotals, [
      { route: 'checkout', endpoint: '*', match: 3, mismatch: 0, skipped: 2, skippedByReason: { queue_full: 2 }, compared: 3, mismatchRate: 0 },
    ]);
    const hour = queryWindow(w, counts, { route: 'checkout', windowMs: 60 * MINUTE, now: NOW });
    assert.equal(hour.series[0]!.requests, 5);
    assert.equal(hour.series[0]!.errors, 2);
    assert.equal(hour.comparisonTotals[0]!.mismatch, 7);
  });

  it('rolls series up per backend and role, and per backend with roles merged', () => {
    const w = createMinuteWindow();
    for (let i = 0; i < 10; i++) record(w, legacy, NOW, 10 + i);
    for (let i = 0; i < 4; i++) record(w, candidate, NOW, 20 + i, i === 0 ? 503 : 200);
    for (let i = 0; i < 6; i++) record(w, candidatePay, NOW, 30 + i);
    record(w, other, NOW, 1);
    const r = queryWindow(w, createComparisonCounts(), { route: 'checkout', windowMs: 10 * MINUTE, now: NOW });
    assert.deepEqual(
      r.series.map((s) => [s.endpoint, s.backend, s.role, s.requests]),
      [
        ['/cart', 'legacy', 'primary', 10],
        ['/cart', 'candidate', 'shadow', 4],
        ['/pay', 'candidate', 'shadow', 6],
      ],
    );
    assert.deepEqual(r.totals.map((s) => [s.endpoint, s.backend, s.role, s.requests]), [
      ['*', 'legacy', 'primary', 10],
      ['*', 'candidate', 'shadow', 10],
    ]);
    const cand = r.backends.find((s) => s.backend === 'candidate')!;
    assert.equal(cand.role, 'all');
    assert.equal(cand.requests, 10);
    assert.equal(cand.errorRate, 0.1);
    assert.equal(cand.total.count, 10, "a 503 is a response: it has a latency");
    const onlyPay = queryWindow(w, createComparisonCounts(), { route: 'checkout', endpoint: '/pay', windowMs: 10 * MINUTE, now: NOW });
    assert.deepEqual(onlyPay.backends.map((s) => [s.backend, s.requests]), [['candidate', 6]]);
    const everything = queryWindow(w, createComparisonCounts(), { windowMs: 10 * MINUTE, now: NOW });
    assert.deepEqual([...new Set(everything.backends.map((s) => s.route))], ['checkout', 'search']);
  });

  it('combines several routes per backend with merged sketches', () => {
    const w = createMinuteWindow();
    const counts = createComparisonCounts();
    const all: number[] = [];
    for (let i = 0; i < 300; i++) {
      const ms = 1 + ((i * 37) % 101);
      record(w, i % 3 === 0 ? other : legacy, NOW, ms);
      all.push(ms);
    }
    record(w, { ...legacy, route: 'elsewhere' }, NOW, 1_000);
    counts.add(minuteOf(NOW), 'search', '/q', 'mismatch', '', 2);
    counts.add(minuteOf(NOW), 'checkout', '/cart', 'match', '', 3);
    counts.add(minuteOf(NOW), 'elsewhere', '/cart', 'match', '', 50);
    const r = queryWindow(w, counts, { routes: ['checkout', 'search'], windowMs: 10 * MINUTE, now: NOW });
    assert.deepEqual([...new Set(r.backends.map((s) => s.route))], ['checkout', 'search']);
    assert.equal(r.combined.length, 1);
    const c = r.combined[0]!;
    assert.deepEqual([c.route, c.endpoint, c.backend, c.role, c.requests], ['*', '*', 'legacy', 'all', 300]);
    const sorted = all.sort((a, b) => a - b);
    const exact = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
    assert.ok(Math.abs(c.total.p99! - exact) <= 0.01 * exact, `combined p99 ${c.total.p99} vs exact ${exact}`);
    assert.deepEqual([r.comparisonCombined.compared, r.comparisonCombined.mismatch], [5, 2]);
  });

  it('keeps evicted minutes in the running total', () => {
    const w = createMinuteWindow();
    const counts = createComparisonCounts();
    record(w, legacy, NOW - 90 * MINUTE, 5);
    record(w, legacy, NOW, 5);
    counts.add(minuteOf(NOW - 90 * MINUTE), 'checkout', '/cart', 'match', '', 4);
    counts.add(minuteOf(NOW), 'checkout', '/cart', 'match', '', 1);
    assert.equal(w.evict(minuteOf(NOW) - 60 * MINUTE, false), 0, 'a dirty minute stays until written');
    w.pending(undefined, OWN);
    counts.pending(undefined).commit();
    assert.equal(w.evict(minuteOf(NOW) - 60 * MINUTE, false), 1);
    assert.equal(counts.evict(minuteOf(NOW) - 60 * MINUTE, false), 1);
    assert.equal(queryWindow(w, counts, { windowMs: 60 * MINUTE, now: NOW }).series[0]!.requests, 1);
    const total = queryWindow(w, counts, { windowMs: Infinity, now: NOW });
    assert.equal(total.series[0]!.requests, 2);
    assert.equal(total.comparisonTotals[0]!.match, 5);
    assert.equal(counts.pending(undefined).rows.length, 0, 'the running total is never written again');
  });
});

const OWN = 'host-a_1';

describe('minute window persistence bookkeeping', () => {
  it('writes dirty minutes whole, and again after they change', () => {
    const w = createMinuteWindow();
    record(w, legacy, NOW - 2 * MINUTE, 5);
    record(w, candidate, NOW - 2 * MINUTE, 5);
    record(w, legacy, NOW, 5);
    const first = w.pending(minuteOf(NOW), OWN);
    assert.deepEqual(first.rows.map((r) => [r.minute, r.backend]), [
      [minuteOf(NOW - 2 * MINUTE), 'legacy'],
      [minuteOf(NOW - 2 * MINUTE), 'candidate'],
    ]);
    assert.equal(w.pending(minuteOf(NOW), OWN).rows.length, 0, 'nothing changed since');
    const epoch = w.epoch;
    record(w, legacy, NOW - 2 * MINUTE, 5); // a late event
    assert.equal(w.epoch, epoch);
    const again = w.pending(minuteOf(NOW), OWN);
    assert.equal(again.rows.length, 2, 'the whole minute again: the store replaces by key');
    again.failed();
    assert.equal(w.pending(minuteOf(NOW), OWN).rows.length, 2, 'a failed write is retried');
    assert.equal(w.pending(undefined, OWN).rows.length, 1, 'the current minute on close');
  });

  it('hands rows out in slices; an event between two slices is written at the next flush and keeps its minute live', () => {
    const w = createMinuteWindow();
    for (const key of [legacy, candidate, candidatePay, other]) record(w, key, NOW - 2 * MINUTE, 5);
    const p = w.pending(undefined, OWN);
    assert.equal(p.size, 4);
    const first = p.next(3);
    assert.equal(first.length, 3);
    record(w, legacy, NOW - 2 * MINUTE, 7); // lands while the flush yields between slices
    assert.equal(p.next(3).length, 1);
    assert.equal(p.next(3).length, 0, 'all taken');
    assert.equal(p.rows.length, 4, 'rows: every slice');
    p.written(minuteOf(NOW));
    const again = w.pending(undefined, OWN);
    assert.equal(again.size, 4, 'the minute that changed meanwhile is written again, whole');
    const served = again.rows.find((r) => r.backend === 'legacy' && r.route === 'checkout')!;
    assert.equal((served.data as { requests: number }).requests, 2);
  });

  it('answers the same from compacted minutes, and takes late events into them', () => {
    const w = createMinuteWindow();
    for (let i = 0; i < 200; i++) {
      record(w, legacy, NOW - 3 * MINUTE, 1 + (i % 50) * 1.7, i % 40 === 0 ? 502 : 200);
      record(w, candidate, NOW - 2 * MINUTE, 2 + (i % 30) * 2.3);
      record(w, candidate, NOW, 3 + (i % 9));
    }
    const q = () => JSON.stringify(queryWindow(w, createComparisonCounts(), { windowMs: 10 * MINUTE, now: NOW }));
    const before = q();
    const p = w.pending(minuteOf(NOW), OWN);
    assert.equal(p.rows.length, 2);
    const epoch = w.epoch;
    p.written(minuteOf(NOW));
    assert.ok(w.epoch > epoch, 'cached live stats are dropped');
    assert.equal(q(), before);
    record(w, legacy, NOW - 3 * MINUTE, 1_000); // late, into a compacted minute
    const after = queryWindow(w, createComparisonCounts(), { route: 'checkout', windowMs: 10 * MINUTE, now: NOW });
    const l = after.series.find((s) => s.backend === 'legacy')!;
    assert.equal(l.requests, 201);
    assert.equal(l.total.max, 1_000);
    const again = w.pending(minuteOf(NOW), OWN);
    assert.deepEqual(again.rows.map((r) => [r.minute, r.backend]), [[minuteOf(NOW - 3 * MINUTE), 'legacy']]);
    assert.equal((again.rows[0]!.data as { requests: number }).requests, 201, 'the whole minute is written again');
  });

  it('loads persisted rows, merging with what already arrived', () => {
    const a = createMinuteWindow();
    for (let i = 0; i < 20; i++) record(a, legacy, NOW - 3 * MINUTE, 1 + i);
    const rows = JSON.parse(JSON.stringify(a.pending(undefined, OWN).rows));
    const b = createMinuteWindow();
    record(b, legacy, NOW - 3 * MINUTE, 100);
    const bad = b.load([...rows, { ...rows[0], backend: 'nope' }, { ...rows[0], endpoint: '/x', data: { v: 9 } }], (k) => ((k.backend as string) === 'nope' ? undefined : k));
    assert.equal(bad, 2);
    const r = queryWindow(b, createComparisonCounts(), { windowMs: 10 * MINUTE, now: NOW });
    assert.equal(r.series[0]!.requests, 21);
    assert.equal(b.pending(undefined, OWN).rows.length, 1, 'merged minute must be written again');
  });

  it("decodes another instance's row again only when its counts changed", () => {
    const other = createMinuteWindow();
    for (let i = 0; i < 3; i++) record(other, legacy, NOW - MINUTE, 1 + i);
    const theirs = JSON.parse(JSON.stringify(other.pending(undefined, 'host-b_1').rows)) as TelemetryBucketRow[];
    const w = createMinuteWindow();
    assert.equal(w.load(theirs, (k) => k, OWN), 0);
    const served = () => queryWindow(w, createComparisonCounts(), { windowMs: 10 * MINUTE, now: NOW }).series.map((s) => s.requests);
    assert.deepEqual(served(), [3]);
    // Same counts: the refresh keeps the copy it holds without decoding the sketches (garbage here would be a bad row).
    const unchanged = theirs.map((r) => ({ ...r, data: { ...(r.data as object), total: 'not a sketch' } }));
    assert.equal(w.load(unchanged, (k) => k, OWN), 0, 'not decoded');
    assert.deepEqual(served(), [3]);
    const grown = theirs.map((r) => ({ ...r, data: { ...(r.data as object), requests: 4, total: 'not a sketch' } }));
    assert.equal(w.load(grown, (k) => k, OWN), 1, 'new counts are decoded, and a bad row is reported');
  });

  it("counts other instances' rows without ever writing them under its own id", () => {
    const other = createMinuteWindow();
    for (let i = 0; i < 20; i++) record(other, legacy, NOW - 3 * MINUTE, 1 + i);
    record(other, candidate, NOW - 2 * MINUTE, 7);
    const theirs = JSON.parse(JSON.stringify(other.pending(undefined, 'host-b_1').rows)) as TelemetryBucketRow[];
    const older = theirs.map((r) => ({ ...r, instance: '' })); // written before instances had ids

    const w = createMinuteWindow();
    record(w, legacy, NOW - 3 * MINUTE, 100);
    assert.equal(w.load([...theirs, ...older], (k) => k, OWN), 0);
    const r = queryWindow(w, createComparisonCounts(), { windowMs: 10 * MINUTE, now: NOW });
    assert.deepEqual(
      r.series.map((s) => [s.backend, s.requests]),
      [
        ['legacy', 41],
        ['candidate', 2],
      ],
      "both copies of the other rows and this instance's one request",
    );
    const written = w.pending(undefined, OWN);
    assert.deepEqual(
      written.rows.map((row) => [row.minute, row.backend, row.instance, (row.data as { requests: number }).requests]),
      [[minuteOf(NOW - 3 * MINUTE), 'legacy', OWN, 1]],
      'only what this instance counted, under its id',
    );
    written.written(minuteOf(NOW));
    assert.equal(w.pending(undefined, OWN).rows.length, 0, 'loading foreign rows leaves nothing dirty');

    const loadedOwn = createMinuteWindow();
    loadedOwn.load(written.rows, (k) => k, OWN);
    record(loadedOwn, legacy, NOW - 3 * MINUTE, 5);
    const again = loadedOwn.pending(undefined, OWN).rows;
    assert.equal((again[0]!.data as { requests: number }).requests, 2, 'its own earlier row is carried on and replaced');

    assert.equal(w.evict(minuteOf(NOW), false), 2);
    const total = queryWindow(w, createComparisonCounts(), { windowMs: Infinity, now: NOW });
    assert.deepEqual(
      total.series.map((s) => s.requests),
      [41, 2],
      'evicted foreign minutes stay in the running total',
    );
  });
});

describe('comparison counts', () => {
  it('writes only what the store does not have yet', () => {
    const c = createComparisonCounts();
    c.load({ minute: 0, route: 'r', endpoint: '/e', outcome: 'match', reason: '', count: 10 });
    c.add(0, 'r', '/e', 'match', '', 2);
    c.add(MINUTE, 'r', '/e', 'skipped', 'timeout', 1);
    const p = c.pending(MINUTE);
    assert.deepEqual(p.rows, [{ minute: 0, route: 'r', endpoint: '/e', outcome: 'match', reason: '', count: 2 }]);
    c.add(0, 'r', '/e', 'match', '', 1); // while the write is in flight
    p.commit();
    assert.deepEqual(c.pending(undefined).rows.map((r) => [r.minute, r.count]), [
      [0, 1],
      [MINUTE, 1],
    ]);
  });
});
