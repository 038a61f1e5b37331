import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  QUANTILES,
  RELATIVE_ACCURACY,
  createLatencySketch,
  deserializeSketch,
  mergeSketch,
  recordLatency,
  serializeSketch,
  summarizeSketch,
  type SerializedSketch,
} from '../../../src/controlplane/telemetry/latency-sketch.ts';

/** Deterministic so a failure reproduces. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal latencies around 20 ms with a long tail, plus some sub-millisecond ones. */
function latencies(n: number, seed: number): number[] {
  const rnd = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    out.push(i % 10 === 0 ? 0.05 + rnd() * 0.5 : Math.exp(Math.log(20) + 0.9 * z));
  }
  return out;
}

/** The sample at rank floor(q·(n−1)): the definition DDSketch approximates. */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const keyOf: Record<number, 'p50' | 'p90' | 'p95' | 'p99' | 'p999'> = { 0.5: 'p50', 0.9: 'p90', 0.95: 'p95', 0.99: 'p99', 0.999: 'p999' };

describe('latency sketch', () => {
  it('reports every quantile within the relative accuracy of the exact value', () => {
    const values = latencies(50_000, 1);
    const sketch = createLatencySketch();
    for (const v of values) recordLatency(sketch, v);
    const sorted = [...values].sort((a, b) => a - b);
    const summary = summarizeSketch(sketch);
    assert.equal(summary.count, values.length);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const got = summary[keyOf[q]!]!;
      assert.ok(Math.abs(got - exact) <= exact * RELATIVE_ACCURACY * 1.0001, `q${q}: sketch ${got} vs exact ${exact}`);
    }
    assert.equal(summary.min, Number(sorted[0]!.toPrecision(6)));
    assert.equal(summary.max, Number(sorted.at(-1)!.toPrecision(6)));
  });

  it('has no quantiles, only a zero count, when empty', () => {
    const s = summarizeSketch(createLatencySketch());
    assert.deepEqual(s, { count: 0, p50: null, p90: null, p95: null, p99: null, p999: null, min: null, max: null, mean: null });
  });

  it('counts zero and negative durations as zero', () => {
    const sketch = createLatencySketch();
    recordLatency(sketch, 0);
    recordLatency(sketch, -3);
    recordLatency(sketch, 4);
    assert.equal(sketch.count, 3);
    assert.equal(summarizeSketch(sketch).p50, 0);
  });

  it('survives JSON serialization unchanged', () => {
    const values = latencies(5_000, 2);
    const sketch = createLatencySketch();
    for (const v of values) recordLatency(sketch, v);
    const back = deserializeSketch(JSON.parse(JSON.stringify(serializeSketch(sketch))) as SerializedSketch);
    assert.deepEqual(summarizeSketch(back), summarizeSketch(sketch));
    assert.equal(back.sum, sketch.sum);
  });

  it('merges two workers into exactly what one sketch of all samples reports', () => {
    const values = latencies(40_000, 3);
    const rnd = mulberry32(4);
    const one = createLatencySketch();
    const workerA = createLatencySketch();
    const workerB = createLatencySketch();
    for (const v of values) {
      recordLatency(one, v);
      recordLatency(rnd() < 0.3 ? workerA : workerB, v);
    }
    // As persisted per minute and read back by another instance.
    const merged = deserializeSketch(JSON.parse(JSON.stringify(serializeSketch(workerA))) as SerializedSketch);
    mergeSketch(merged, deserializeSketch(JSON.parse(JSON.stringify(serializeSketch(workerB))) as SerializedSketch));
    const a = summarizeSketch(merged);
    const b = summarizeSketch(one);
    assert.equal(a.count, b.count);
    for (const q of QUANTILES) assert.equal(a[keyOf[q]!], b[keyOf[q]!], `q${q}`);
    assert.equal(a.min, b.min);
    assert.equal(a.max, b.max);
    assert.ok(Math.abs(merged.sum - one.sum) < 1e-6 * one.sum);
    // And the merge is order-independent.
    const reversed = deserializeSketch(serializeSketch(workerB));
    mergeSketch(reversed, deserializeSketch(serializeSketch(workerA)));
    assert.deepEqual(summarizeSketch(reversed), a);
  });

  it('refuses data it did not write', () => {
    const good = serializeSketch(createLatencySketch());
    assert.throws(() => deserializeSketch({ ...good, a: 0.02 }), /accuracy/);
    assert.throws(() => deserializeSketch({ ...good, k: [1, 2], c: [1] }), /not a serialized/);
    assert.throws(() => deserializeSketch({ ...good, k: [1], c: [0] }), /positive/);
    assert.throws(() => deserializeSketch(null as unknown as SerializedSketch), /not a serialized/);
  });
});
