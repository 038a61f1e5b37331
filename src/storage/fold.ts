/**
 * Batch preparation shared by the store adapters. Folding a batch in memory
 * before it reaches the database means one upsert per key instead of one per
 * observation, and lets Postgres use a single multi-row ON CONFLICT statement
 * (which refuses to touch the same row twice).
 */
import { minuteOf } from '../core/clock.ts';
import type { ComparedMinuteRow, ComparisonCountRow, DiffObservation, TelemetryBucketRow } from './store.ts';

/** The meta key the adapters keep their migration level under. */
export const SCHEMA_VERSION_KEY = 'schema_version';

export interface FoldedDiffGroup {
  id: string;
  route: string;
  method: string;
  endpoint: string;
  path: string;
  kind: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** In arrival order; the adapter keeps only as many as the group has room for. */
  samples: Array<{ time: number; sample: unknown }>;
  /** The batch's occurrences by minute, ascending. */
  minutes: Array<{ minute: number; count: number }>;
}

/**
 * @example
 * foldDiffObservations([obsA, obsA2, obsB]) // → [groupA (count 2), groupB], sorted by id
 */
export function foldDiffObservations(observations: readonly DiffObservation[]): FoldedDiffGroup[] {
  const groups = new Map<string, FoldedDiffGroup>();
  for (const o of observations) {
    let g = groups.get(o.id);
    if (g === undefined) {
      g = {
        id: o.id,
        route: o.route,
        method: o.method,
        endpoint: o.endpoint,
        path: o.path,
        kind: o.kind,
        count: 0,
        firstSeen: o.time,
        lastSeen: o.time,
        samples: [],
        minutes: [],
      };
      groups.set(o.id, g);
    }
    g.count += o.count;
    const minute = minuteOf(o.time);
    const m = g.minutes.find((x) => x.minute === minute);
    if (m === undefined) g.minutes.push({ minute, count: o.count });
    else m.count += o.count;
    if (o.time < g.firstSeen) g.firstSeen = o.time;
    if (o.time > g.lastSeen) g.lastSeen = o.time;
    if (o.sample !== undefined) g.samples.push({ time: o.time, sample: o.sample });
  }
  for (const g of groups.values()) g.minutes.sort((a, b) => a.minute - b.minute);
  // A fixed lock order stops two instances folding overlapping batches from deadlocking.
  return [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const SEP = '\u0000';

/** Same key twice in one batch: the counts add, as they would across batches. */
export function foldComparisonCounts(rows: readonly ComparisonCountRow[]): ComparisonCountRow[] {
  const out = new Map<string, ComparisonCountRow>();
  for (const r of rows) {
    const key = [r.minute, r.route, r.endpoint, r.outcome, r.reason].join(SEP);
    const prev = out.get(key);
    if (prev === undefined) out.set(key, { ...r });
    else prev.count += r.count;
  }
  return [...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

/** Same key twice in one batch: the counts add, as they would across batches. Sorted by key (a fixed lock order). */
export function foldComparedMinutes(rows: readonly ComparedMinuteRow[]): ComparedMinuteRow[] {
  const out = new Map<string, ComparedMinuteRow>();
  for (const r of rows) {
    const key = [r.minute, r.route, r.method, r.endpoint].join(SEP);
    const prev = out.get(key);
    if (prev === undefined) out.set(key, { ...r });
    else {
      prev.match += r.match;
      prev.mismatch += r.mismatch;
    }
  }
  return [...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

/** A `compared_minutes` row as either store's driver returns it (the column names are the same in both schemas). */
export function comparedMinuteOf(r: Record<string, unknown>): ComparedMinuteRow {
  return {
    minute: Number(r.minute),
    route: r.route as string,
    method: r.method as string,
    endpoint: r.endpoint as string,
    match: Number(r.match),
    mismatch: Number(r.mismatch),
  };
}

/** Same key twice in one batch: the last one wins, as it would across batches. */
export function dedupeTelemetryBuckets(rows: readonly TelemetryBucketRow[]): TelemetryBucketRow[] {
  const out = new Map<string, TelemetryBucketRow>();
  for (const r of rows) out.set([r.minute, r.route, r.endpoint, r.backend, r.role, r.instance].join(SEP), r);
  return [...out.values()];
}

/** `undefined` has no JSON form; storing it as null keeps NOT NULL columns honest. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}
