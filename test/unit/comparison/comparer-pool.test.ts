import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ComparisonPairEvent } from '../../../src/dataplane/events.ts';
import { createComparerPool } from '../../../src/controlplane/comparison/comparer-pool.ts';
import type { ComparerSettings, PairOutcome, UnjudgedPair } from '../../../src/controlplane/comparison/comparer-protocol.ts';

const settings: ComparerSettings = {
  global: {},
  routes: {},
  fallback: { rules: undefined, learnsNoise: false },
  redaction: { key: 'k', headers: [], paths: [] },
  samplesPerGroup: 1,
  holdMs: 1000,
  holdMax: 10,
};

function event(i: number, bodyBytes = 16): ComparisonPairEvent {
  // A pooled (allocUnsafe) Buffer: packing must copy it, never detach Node's shared pool.
  const body = Buffer.allocUnsafe(bodyBytes).fill(0x61);
  const side = (backend: 'legacy' | 'candidate', status: number) => ({ backend, status, headers: { 'content-type': 'text/plain' }, body, truncated: false, ttfbMs: 1, totalMs: 1 });
  return { requestId: `r${i}`, route: 'r', endpoint: '/e', method: 'GET', url: '/e', time: i, request: { headers: {}, body: Buffer.alloc(0), truncated: false }, served: side('legacy', 200), mirrored: side('candidate', i % 2 ? 500 : 200) };
}

describe('comparer pool', () => {
  it('compares in a worker thread and refuses pairs beyond the in-flight budget', async () => {
    const outcomes: PairOutcome[] = [];
    const pool = createComparerPool({ settings, maxInFlight: 3, maxInFlightBytes: 1 << 20, onOutcomes: (o) => outcomes.push(...o), onNoise: () => {}, onLost: () => assert.fail('nothing is lost') });
    try {
      const taken = Array.from({ length: 10 }, (_, i) => pool.submit(event(i)));
      assert.deepEqual(taken, [true, true, true, false, false, false, false, false, false, false], 'posted synchronously, so the worker has answered none yet');
      await pool.flush();
      assert.equal(pool.inFlight, 0);
      assert.deepEqual(outcomes.map((o) => o.verdict), ['match', 'mismatch', 'match']);
      const events = [event(20), event(21)];
      assert.ok(events.every((e) => pool.submit(e)), 'the budget is free again');
      await pool.flush();
      assert.equal(events[0]!.served.body.toString(), 'a'.repeat(16), 'the published buffers are intact after transfer');
    } finally {
      await pool.close();
    }
  });

  it('starts its worker thread with the first pair, handing it what was set before', async () => {
    const mismatch = event(1); // legacy 200, candidate 500
    const first: PairOutcome[] = [];
    const probe = createComparerPool({ settings, maxInFlight: 10, maxInFlightBytes: 1 << 20, onOutcomes: (o) => first.push(...o), onNoise: () => {}, onLost: () => assert.fail('nothing is lost') });
    try {
      probe.submit(mismatch);
      await probe.flush();
    } finally {
      await probe.close();
    }
    assert.equal(first[0]?.verdict, 'mismatch');
    const silences = first[0]!.groups.map((g) => ({ route: 'r', endpoint: '/e', path: g.path, kind: g.kind, status: 'ignored' as const }));

    const outcomes: PairOutcome[] = [];
    const pool = createComparerPool({ settings, maxInFlight: 10, maxInFlightBytes: 1 << 20, onOutcomes: (o) => outcomes.push(...o), onNoise: () => {}, onLost: () => assert.fail('nothing is lost') });
    try {
      assert.equal(pool.running, false, 'no pair, no thread');
      pool.setSilences(silences);
      await pool.flush();
      assert.equal(pool.running, false, 'a flush with nothing submitted starts nothing');
      assert.ok(pool.submit(event(3)));
      assert.equal(pool.running, true);
      await pool.flush();
      assert.deepEqual(
        outcomes.map((o) => [o.verdict, o.suppressed]),
        [['match', silences.length]],
        'the silences set before the worker existed reached it',
      );
    } finally {
      await pool.close();
    }
  });

  it('posts the pairs of one batch window in one message, and a full batch at once', async () => {
    const calls: number[] = [];
    const pool = createComparerPool({ settings, batchWindowMs: 3000, maxInFlight: 1000, maxInFlightBytes: 1 << 24, onOutcomes: (o) => calls.push(o.length), onNoise: () => {}, onLost: () => assert.fail('nothing is lost') });
    const until = async (n: number, ms: number) => {
      const deadline = Date.now() + ms;
      while (calls.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    try {
      // The thread starts with the first pair and takes a while to load on a busy CI
      // host; start it first so the timings below measure batching, not start-up.
      pool.submit(event(0));
      await pool.flush();
      calls.length = 0;
      // Pairs of separate event-loop turns inside the window wait for each other.
      for (let i = 0; i < 3; i++) {
        pool.submit(event(i));
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(calls, [], 'nothing is posted before the window closes');
      // The 64th pair fills the batch: all of it goes without waiting for the window.
      for (let i = 3; i < 64; i++) pool.submit(event(i));
      await until(1, 2000);
      assert.deepEqual(calls, [64], 'one message, one reply, well before the 3 s window closes');
      pool.submit(event(100));
      pool.submit(event(101));
      await until(2, 6000);
      assert.deepEqual(calls, [64, 2], 'a partial batch goes when its window closes');
    } finally {
      await pool.close();
    }
  });

  it("flush('skip') hands back held mismatches as unjudged instead of dropping them; 'keep' holds them", async () => {
    const outcomes: PairOutcome[] = [];
    const unjudged: UnjudgedPair[] = [];
    const learning = { ...settings, fallback: { rules: undefined, learnsNoise: true }, holdMs: 60_000 };
    const pool = createComparerPool({ settings: learning, maxInFlight: 100, maxInFlightBytes: 1 << 20, onOutcomes: (o) => outcomes.push(...o), onUnjudged: (p) => unjudged.push(...p), onNoise: () => {}, onLost: () => assert.fail('nothing is lost') });
    try {
      for (let i = 0; i < 4; i++) assert.ok(pool.submit(event(i)));
      await pool.flush();
      assert.deepEqual(outcomes.map((o) => o.verdict), ['match', 'match'], 'the two mismatches are held while noise is unknown');
      assert.equal(unjudged.length, 0);
      assert.equal(pool.held, 2, 'the pool knows how many are held');
      await pool.flush('skip');
      assert.equal(pool.held, 0);
      assert.deepEqual(unjudged.map((p) => p.requestId), ['r1', 'r3']);
      assert.equal(outcomes.length, 2, 'given up, not reported');
    } finally {
      await pool.close();
    }
  });

  it('bounds in-flight bytes too, but always takes one pair', async () => {
    const pool = createComparerPool({ settings, maxInFlight: 100, maxInFlightBytes: 1000, onOutcomes: () => {}, onNoise: () => {}, onLost: () => {} });
    try {
      assert.equal(pool.submit(event(1, 4000)), true, 'a pair larger than the budget is still compared when nothing else is in flight');
      assert.equal(pool.submit(event(2, 10)), false);
      await pool.flush();
      assert.equal(pool.submit(event(3, 10)), true);
    } finally {
      await pool.close();
    }
  });
});
