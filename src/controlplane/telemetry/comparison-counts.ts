/**
 * Comparison outcomes per minute, in the same minutes as the exchange stats.
 * The store adds what it is given (`addComparisonCounts`), so each cell
 * remembers how much of its count is already persisted and only the
 * difference is written; a failed write is simply retried with a larger delta.
 */
import { createTupleMap, type TupleMap } from '../../core/tuple-map.ts';
import type { ComparisonCountRow } from '../../storage/store.ts';

export type ComparisonOutcome = 'match' | 'mismatch' | 'skipped';

interface CountCell {
  route: string;
  endpoint: string;
  outcome: ComparisonOutcome;
  reason: string;
  count: number;
  persisted: number;
}

/** A window's comparison numbers for one route (and endpoint, or '*' for all). */
export interface ComparisonSummary {
  route: string;
  endpoint: string;
  match: number;
  mismatch: number;
  skipped: number;
  skippedByReason: Record<string, number>;
  /** match + mismatch: the pairs that were actually compared. */
  compared: number;
  /** mismatch / compared; null when nothing was compared. */
  mismatchRate: number | null;
}

export function emptyComparisonSummary(route: string, endpoint: string): ComparisonSummary {
  return { route, endpoint, match: 0, mismatch: 0, skipped: 0, skippedByReason: {}, compared: 0, mismatchRate: null };
}

export function addToComparisonSummary(s: ComparisonSummary, outcome: ComparisonOutcome, reason: string, count: number): void {
  if (outcome === 'match') s.match += count;
  else if (outcome === 'mismatch') s.mismatch += count;
  else {
    s.skipped += count;
    const r = reason === '' ? 'unspecified' : reason;
    s.skippedByReason[r] = (s.skippedByReason[r] ?? 0) + count;
  }
  s.compared = s.match + s.mismatch;
  s.mismatchRate = s.compared > 0 ? s.mismatch / s.compared : null;
}

export interface ComparisonCounts {
  add(minute: number, route: string, endpoint: string, outcome: ComparisonOutcome, reason: string, count: number): void;
  /** Counts already in the store (loaded on start): they are never written again. */
  load(row: ComparisonCountRow): void;
  /** Visits every cell of minutes in `[fromMinute, toMinute]`; a `-Infinity` start includes evicted minutes. */
  forEach(fromMinute: number, toMinute: number, visit: (route: string, endpoint: string, outcome: ComparisonOutcome, reason: string, count: number) => void): void;
  /** Unwritten deltas of minutes before `beforeMinute` (or all, when undefined). Call `commit` once they are stored. */
  pending(beforeMinute: number | undefined): { rows: ComparisonCountRow[]; commit(): void };
  /** Drops minutes before `beforeMinute` that have nothing left to write; returns how many minutes were dropped. */
  evict(beforeMinute: number, force: boolean): number;
}

/** The running total of evicted minutes sits at a minute no real time maps to. */
const ARCHIVE = -Infinity;

/**
 * @example
 * const counts = createComparisonCounts();
 * counts.add(minuteOf(Date.now()), 'checkout', '/cart/{id}', 'skipped', 'queue_full', 1);
 * const { rows, commit } = counts.pending(minuteOf(Date.now()));
 * await store.addComparisonCounts(rows);
 * commit();
 */
export function createComparisonCounts(): ComparisonCounts {
  const minutes = new Map<number, TupleMap<CountCell>>();

  const cellFor = (minute: number, route: string, endpoint: string, outcome: ComparisonOutcome, reason: string): CountCell => {
    let cells = minutes.get(minute);
    if (cells === undefined) {
      cells = createTupleMap();
      minutes.set(minute, cells);
    }
    return cells.get(route, endpoint, outcome, reason) ?? cells.set({ route, endpoint, outcome, reason, count: 0, persisted: 0 }, route, endpoint, outcome, reason);
  };

  return {
    add(minute, route, endpoint, outcome, reason, count) {
      cellFor(minute, route, endpoint, outcome, reason).count += count;
    },
    load(row) {
      const cell = cellFor(row.minute, row.route, row.endpoint, row.outcome, row.reason);
      cell.count += row.count;
      cell.persisted += row.count;
    },
    forEach(fromMinute, toMinute, visit) {
      for (const [minute, cells] of minutes) {
        if (minute < fromMinute || minute > toMinute) continue;
        for (const c of cells.values()) visit(c.route, c.endpoint, c.outcome, c.reason, c.count);
      }
    },
    pending(beforeMinute) {
      const rows: ComparisonCountRow[] = [];
      const taken: Array<[CountCell, number]> = [];
      for (const [minute, cells] of minutes) {
        if (minute === ARCHIVE || (beforeMinute !== undefined && minute >= beforeMinute)) continue;
        for (const c of cells.values()) {
          const delta = c.count - c.persisted;
          if (delta <= 0) continue;
          rows.push({ minute, route: c.route, endpoint: c.endpoint, outcome: c.outcome, reason: c.reason, count: delta });
          taken.push([c, delta]);
        }
      }
      return {
        rows,
        commit() {
          for (const [c, delta] of taken) c.persisted += delta;
        },
      };
    },
    evict(beforeMinute, force) {
      let dropped = 0;
      for (const [minute, cells] of minutes) {
        if (minute >= beforeMinute || minute === ARCHIVE) continue;
        if (!force && [...cells.values()].some((c) => c.count > c.persisted)) continue;
        // Aged-out minutes still count in the since-start total; they are never written again.
        for (const c of cells.values()) {
          const a = cellFor(ARCHIVE, c.route, c.endpoint, c.outcome, c.reason);
          a.count += c.count;
          a.persisted = a.count;
        }
        minutes.delete(minute);
        dropped++;
      }
      return dropped;
    },
  };
}
