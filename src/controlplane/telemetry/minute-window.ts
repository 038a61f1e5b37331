/**
 * Per-minute exchange stats for every series, plus a running total of the
 * minutes that have aged out. A window query merges whole minutes, so two
 * queries over the same minutes always agree, and a persisted minute reloads
 * to exactly what was in memory.
 *
 * Minutes are written to the store whole (the store replaces a bucket with
 * the same key), so a minute that changes after it was written (a late event,
 * or a restart that reloaded it) is marked dirty and written again in full.
 *
 * Rows another instance wrote (another cutover sharing the store, or an
 * earlier run of this one) are counted but kept apart and never written
 * back: written under this instance's key they would count twice.
 *
 * A finished minute that is safely in the store is kept in its serialized
 * form: dense sketch bins cost several kilobytes per series and minute, the
 * sparse form a few hundred bytes, and an hour of a catch-all route at its
 * endpoint cap is tens of thousands of series-minutes. Queries merge straight
 * from that form; a late event turns the series back into live stats.
 */
import type { BackendName } from '../../config/schema.ts';
import { MINUTE, minuteOf } from '../../core/clock.ts';
import type { Role } from '../../dataplane/events.ts';
import type { TelemetryBucketRow } from '../../storage/store.ts';
import {
  createExchangeStats,
  deserializeExchangeStats,
  mergeExchangeStats,
  mergeSerializedExchangeStats,
  serializeExchangeStats,
  type ExchangeStats,
  type SerializedExchangeStats,
} from './exchange-stats.ts';

export { MINUTE, minuteOf };

export interface SeriesKey {
  route: string;
  endpoint: string;
  backend: BackendName;
  role: Role;
}

export const seriesId = (route: string, endpoint: string, backend: string, role: string): string => `${route}\n${endpoint}\n${backend}\n${role}`;

interface SeriesEntry {
  key: SeriesKey;
  stats: ExchangeStats;
}

/** Exactly one of `stats` (live) and `compact` (serialized, already in the store) is set. */
interface StoredEntry {
  key: SeriesKey;
  stats: ExchangeStats | undefined;
  compact: SerializedExchangeStats | undefined;
}

/** One other instance's row: read-only, replaced whole when that instance rewrites its minute. */
interface ForeignEntry {
  id: string;
  key: SeriesKey;
  compact: SerializedExchangeStats;
}

interface MinuteBucket {
  /** What this instance counted. */
  series: Map<string, StoredEntry>;
  dirty: boolean;
  /** What other instances counted, by instance and series (read-only; created on first use). */
  foreign: Map<string, ForeignEntry> | undefined;
}

export interface WindowSelection {
  route?: string;
  /** Any of these routes (combined with `route` when both are given). */
  routes?: ReadonlySet<string>;
  endpoint?: string;
  fromMinute: number;
  toMinute: number;
  /** Also count minutes that aged out of memory (the running total). */
  includeArchive?: boolean;
}

/** One flush's rows; taking them in slices lets a flush yield to requests between slices. */
export interface PendingBuckets {
  /** How many rows there are to write. */
  readonly size: number;
  /** Serialises and returns the next rows, at most `max` (all that are left when omitted); empty once all were taken. */
  next(max?: number): TelemetryBucketRow[];
  /** Every row (serialises the ones not taken yet). */
  readonly rows: TelemetryBucketRow[];
  written(currentMinute: number): void;
  failed(): void;
}

export interface MinuteWindow {
  /**
   * Bumped whenever cached stats references may have gone stale (a flush
   * cleared dirty flags, or minutes were evicted); hot-path caches compare it.
   */
  readonly epoch: number;
  /** The live stats of one series in one minute; marks the minute dirty. */
  statsFor(minute: number, id: string, key: SeriesKey): ExchangeStats;
  /**
   * Merges persisted buckets in; returns how many rows could not be read.
   * With `ownInstance`, rows of any other instance are counted but never
   * written back, and a row loaded again (a refresh) replaces that
   * instance's earlier copy; without it, every row is treated as this
   * window's own.
   */
  load(rows: TelemetryBucketRow[], accept: (key: SeriesKey) => SeriesKey | undefined, ownInstance?: string): number;
  /** Merged stats per series over the selected minutes. */
  collect(selection: WindowSelection): Map<string, SeriesEntry>;
  /**
   * Dirty minutes before `beforeMinute` (all when undefined) as store rows,
   * serialised as they are taken. Call `written` once the store has them all
   * (finished minutes are then compacted), or `failed` to have them offered
   * again.
   */
  pending(beforeMinute: number | undefined, instance: string): PendingBuckets;
  /** Moves minutes before `beforeMinute` into the running total; dirty ones stay unless `force`. */
  evict(beforeMinute: number, force: boolean): number;
  /** Oldest and newest minute held, for the API's `from`/`to`. */
  minutes(): number[];
  seriesCount(): number;
}

/**
 * Whether a stored row holds the same counts as a copy already held. Every
 * exchange adds a request and its bytes, so a row rewritten with anything new
 * differs here; comparing these skips decoding its sketches again.
 */
function sameCounts(held: SerializedExchangeStats | undefined, data: unknown): boolean {
  if (held === undefined || data === null || typeof data !== 'object') return false;
  const d = data as Partial<SerializedExchangeStats>;
  return d.requests === held.requests && d.responseBytes === held.responseBytes && d.requestBytes === held.requestBytes && d.clientAborted === held.clientAborted;
}

/**
 * @example
 * const w = createMinuteWindow();
 * recordExchange(w.statsFor(minuteOf(Date.now()), id, key), event);
 * const merged = w.collect({ route: 'checkout', fromMinute, toMinute });
 */
export function createMinuteWindow(): MinuteWindow {
  const buckets = new Map<number, MinuteBucket>();
  const archive = new Map<string, SeriesEntry>();
  let epoch = 0;

  /** The live stats of an entry, thawing a compacted one. */
  const live = (e: StoredEntry): ExchangeStats => {
    if (e.stats === undefined) {
      const stats = createExchangeStats();
      if (e.compact !== undefined) mergeSerializedExchangeStats(stats, e.compact);
      e.stats = stats;
      e.compact = undefined;
    }
    return e.stats;
  };

  const addTo = (into: ExchangeStats, e: { stats?: ExchangeStats | undefined; compact?: SerializedExchangeStats | undefined }): void => {
    if (e.stats !== undefined) mergeExchangeStats(into, e.stats);
    else if (e.compact !== undefined) mergeSerializedExchangeStats(into, e.compact);
  };

  const storedIn = (map: Map<string, StoredEntry>, id: string, key: SeriesKey): StoredEntry => {
    let e = map.get(id);
    if (e === undefined) {
      e = { key, stats: createExchangeStats(), compact: undefined };
      map.set(id, e);
    }
    return e;
  };

  const bucketFor = (minute: number): MinuteBucket => {
    let b = buckets.get(minute);
    if (b === undefined) {
      b = { series: new Map(), dirty: false, foreign: undefined };
      buckets.set(minute, b);
    }
    return b;
  };

  const entryIn = (map: Map<string, SeriesEntry>, id: string, key: SeriesKey): SeriesEntry => {
    let e = map.get(id);
    if (e === undefined) {
      e = { key, stats: createExchangeStats() };
      map.set(id, e);
    }
    return e;
  };

  const mergeInto = (out: Map<string, SeriesEntry>, id: string, from: SeriesEntry | StoredEntry | ForeignEntry) => {
    addTo(entryIn(out, id, from.key).stats, from);
  };

  const selected = (sel: WindowSelection, key: SeriesKey) =>
    (sel.route === undefined || key.route === sel.route) &&
    (sel.routes === undefined || sel.routes.has(key.route)) &&
    (sel.endpoint === undefined || key.endpoint === sel.endpoint);

  return {
    get epoch() {
      return epoch;
    },
    statsFor(minute, id, key) {
      const b = bucketFor(minute);
      b.dirty = true;
      return live(storedIn(b.series, id, key));
    },
    load(rows, accept, ownInstance) {
      let bad = 0;
      for (const row of rows) {
        const key = accept({ route: row.route, endpoint: row.endpoint, backend: row.backend as BackendName, role: row.role as Role });
        if (key === undefined) {
          bad++;
          continue;
        }
        const id = seriesId(key.route, key.endpoint, key.backend, key.role);
        const foreign = ownInstance !== undefined && row.instance !== ownInstance;
        const foreignId = foreign ? `${row.instance}\n${id}` : '';
        // A refresh reads other instances' recent rows again and again; most have not changed since.
        if (foreign && sameCounts(buckets.get(row.minute)?.foreign?.get(foreignId)?.compact, row.data)) continue;
        let compact: SerializedExchangeStats;
        try {
          // Normalised through the live form, so what is kept compact is exactly what this version writes.
          compact = serializeExchangeStats(deserializeExchangeStats(row.data));
        } catch {
          bad++;
          continue;
        }
        const target = bucketFor(row.minute);
        if (foreign) {
          (target.foreign ??= new Map()).set(foreignId, { id, key, compact });
          continue;
        }
        const existing = target.series.get(id);
        if (existing === undefined && !target.dirty) {
          target.series.set(id, { key, stats: undefined, compact });
          continue;
        }
        // Events already in memory for this minute are not in the store yet: the merged minute must be written again.
        mergeSerializedExchangeStats(live(storedIn(target.series, id, key)), compact);
        target.dirty = true;
      }
      return bad;
    },
    collect(sel) {
      const out = new Map<string, SeriesEntry>();
      for (const [minute, b] of buckets) {
        if (minute < sel.fromMinute || minute > sel.toMinute) continue;
        for (const [id, e] of b.series) if (selected(sel, e.key)) mergeInto(out, id, e);
        if (b.foreign !== undefined) for (const e of b.foreign.values()) if (selected(sel, e.key)) mergeInto(out, e.id, e);
      }
      if (sel.includeArchive) for (const [id, e] of archive) if (selected(sel, e.key)) mergeInto(out, id, e);
      return out;
    },
    pending(beforeMinute, instance) {
      const items: Array<{ minute: number; entry: StoredEntry; data: Map<StoredEntry, SerializedExchangeStats> }> = [];
      const taken: Array<{ minute: number; bucket: MinuteBucket; data: Map<StoredEntry, SerializedExchangeStats> }> = [];
      for (const [minute, b] of buckets) {
        if (!b.dirty || (beforeMinute !== undefined && minute >= beforeMinute)) continue;
        b.dirty = false;
        const data = new Map<StoredEntry, SerializedExchangeStats>();
        for (const entry of b.series.values()) items.push({ minute, entry, data });
        taken.push({ minute, bucket: b, data });
      }
      // Hot-path caches holding these minutes must look them up again, which re-marks them dirty,
      // so an event that lands between two slices is written at the next flush.
      if (taken.length > 0) epoch++;
      const produced: TelemetryBucketRow[] = [];
      let cursor = 0;
      const next = (max = Infinity): TelemetryBucketRow[] => {
        const out: TelemetryBucketRow[] = [];
        for (; cursor < items.length && out.length < max; cursor++) {
          const { minute, entry: e, data } = items[cursor]!;
          const d = e.compact ?? serializeExchangeStats(e.stats!);
          data.set(e, d);
          out.push({ minute, route: e.key.route, endpoint: e.key.endpoint, backend: e.key.backend, role: e.key.role, instance, data: d });
        }
        produced.push(...out);
        return out;
      };
      return {
        size: items.length,
        next,
        get rows() {
          next();
          return produced;
        },
        written(currentMinute) {
          let compacted = false;
          for (const t of taken) {
            // A minute still open, or changed since it was serialized, stays live.
            if (t.minute >= currentMinute || t.bucket.dirty) continue;
            for (const [e, d] of t.data) {
              e.compact = d;
              e.stats = undefined;
            }
            compacted = true;
          }
          if (compacted) epoch++;
        },
        failed() {
          for (const t of taken) t.bucket.dirty = true;
        },
      };
    },
    evict(beforeMinute, force) {
      let dropped = 0;
      for (const [minute, b] of buckets) {
        if (minute >= beforeMinute || (b.dirty && !force)) continue;
        for (const [id, e] of b.series) mergeInto(archive, id, e);
        if (b.foreign !== undefined) for (const e of b.foreign.values()) mergeInto(archive, e.id, e);
        buckets.delete(minute);
        dropped++;
      }
      if (dropped > 0) epoch++;
      return dropped;
    },
    minutes() {
      return [...buckets.keys()].sort((a, b) => a - b);
    },
    seriesCount() {
      const ids = new Set<string>();
      for (const b of buckets.values()) {
        for (const id of b.series.keys()) ids.add(id);
        if (b.foreign !== undefined) for (const e of b.foreign.values()) ids.add(e.id);
      }
      return ids.size;
    },
  };
}
