/**
 * Latency quantiles from a DDSketch: relative error bounded (1%) whatever the
 * distribution, mergeable across minutes and processes, and small enough to
 * persist per minute. The library's protobuf form drops sum, min and max, so
 * sketches are stored as their sparse bins plus those summary numbers.
 */
import { DDSketch } from '@datadog/sketches-js';

/** DDSketch's guarantee: a reported quantile is within 1% of the true value at that rank. */
export const RELATIVE_ACCURACY = 0.01;

export const QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999] as const;

/** Quantiles in milliseconds, with the number of samples they come from. Null quantiles when there are none. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** The persisted form: bin keys delta-encoded, so a typical sketch is a few hundred bytes of JSON. */
export interface SerializedSketch {
  /** Relative accuracy the bins were built with; sketches of different accuracy cannot merge. */
  a: number;
  /** Bin keys: the first absolute, the rest as differences from the previous. */
  k: number[];
  /** Count in each bin, same order as `k`. */
  c: number[];
  /** Values too small to map (zero). */
  z: number;
  n: number;
  s: number;
  lo: number | null;
  hi: number | null;
}

export type LatencySketch = DDSketch;

export function createLatencySketch(): LatencySketch {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
}

/**
 * Durations come from monotonic clock differences and are never negative; the
 * clamp keeps a bad input out of the negative store, which the library does
 * not merge.
 */
export function recordLatency(sketch: LatencySketch, ms: number): void {
  sketch.accept(ms > 0 ? ms : 0);
}

/** Adds `from` into `into`. */
export function mergeSketch(into: LatencySketch, from: LatencySketch): void {
  if (from.count === 0) return;
  into.merge(from);
}

export function serializeSketch(sketch: LatencySketch): SerializedSketch {
  const store = sketch.store;
  const k: number[] = [];
  const c: number[] = [];
  let previous = 0;
  if (store.count > 0) {
    for (let key = store.minKey; key <= store.maxKey; key++) {
      const n = store.bins[key - store.offset];
      if (n === undefined || n === 0) continue;
      k.push(k.length === 0 ? key : key - previous);
      c.push(n);
      previous = key;
    }
  }
  return {
    a: RELATIVE_ACCURACY,
    k: k.slice(),
    c: c.slice(),
    z: sketch.zeroCount,
    n: sketch.count,
    s: sketch.sum,
    lo: sketch.count > 0 ? sketch.min : null,
    hi: sketch.count > 0 ? sketch.max : null,
  };
}

/**
 * @throws Error when the data is not a sketch this version wrote (callers skip the bucket).
 */
export function deserializeSketch(data: SerializedSketch): LatencySketch {
  if (data === null || typeof data !== 'object' || !Array.isArray(data.k) || !Array.isArray(data.c) || data.k.length !== data.c.length) {
    throw new Error('not a serialized latency sketch');
  }
  if (data.a !== RELATIVE_ACCURACY) throw new Error(`sketch accuracy ${data.a} differs from ${RELATIVE_ACCURACY}`);
  const sketch = createLatencySketch();
  let key = 0;
  let binned = 0;
  for (let i = 0; i < data.k.length; i++) {
    key = i === 0 ? data.k[0]! : key + data.k[i]!;
    const n = data.c[i]!;
    if (!(n > 0)) throw new Error('sketch bin counts must be positive');
    sketch.store.add(key, n);
    binned += n;
  }
  const zeros = Number(data.z) || 0;
  sketch.zeroCount = zeros;
  sketch.count = binned + zeros;
  sketch.sum = Number(data.s) || 0;
  sketch.min = sketch.count > 0 && data.lo !== null ? Number(data.lo) : Infinity;
  sketch.max = sketch.count > 0 && data.hi !== null ? Number(data.hi) : -Infinity;
  return sketch;
}

/**
 * Adds a serialized sketch into a live one without building an intermediate
 * sketch: finished minutes are kept serialized (a few hundred bytes instead of
 * a few kilobytes of dense bins) and merged straight from that form.
 */
export function mergeSerializedSketch(into: LatencySketch, data: SerializedSketch): void {
  if (data.n === 0) return;
  let key = 0;
  for (let i = 0; i < data.k.length; i++) {
    key = i === 0 ? data.k[0]! : key + data.k[i]!;
    into.store.add(key, data.c[i]!);
  }
  into.zeroCount += data.z;
  into.count += data.n;
  into.sum += data.s;
  if (data.lo !== null && data.lo < into.min) into.min = data.lo;
  if (data.hi !== null && data.hi > into.max) into.max = data.hi;
}

/** Six significant digits: far below the sketch's own 1% error, and short JSON. */
const round = (v: number): number => Number(v.toPrecision(6));

/**
 * @example
 * const s = createLatencySketch();
 * for (const ms of [3, 5, 8]) recordLatency(s, ms);
 * summarizeSketch(s).p50; // ≈ 5 (within 1%)
 */
export function summarizeSketch(sketch: LatencySketch): LatencySummary {
  const count = sketch.count;
  if (count === 0) return { count: 0, p50: null, p90: null, p95: null, p99: null, p999: null, min: null, max: null, mean: null };
  const q = (p: number) => round(sketch.getValueAtQuantile(p));
  return {
    count,
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    p999: q(0.999),
    min: round(sketch.min),
    max: round(sketch.max),
    mean: round(sketch.sum / count),
  };
}
