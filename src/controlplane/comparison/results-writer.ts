/**
 * Comparison results reach the store in batches, at most once a second and
 * never from the proxying path: a `kill -9` loses at most the last second,
 * and a store that stalls slows nothing but this writer. Per-endpoint
 * totals (what the diffs API shows as `compared`) and the noise models are
 * kept in the store's meta table so they survive restarts too.
 */
import type { Logger } from 'pino';
import type { NoiseModelSnapshot } from '../../compare/index.ts';
import { minuteOf } from '../../core/clock.ts';
import { createTupleMap, type TupleMap } from '../../core/tuple-map.ts';
import type { ComparedMinuteRow, DiffObservation, NoiseRow, Store } from '../../storage/store.ts';
import type { LearnedNoiseReport, PairOutcome } from './comparer-protocol.ts';

export const TOTALS_META_KEY = 'comparison:totals';
export const NOISE_MODELS_META_KEY = 'comparison:noise-models';

export interface EndpointTotals {
  route: string;
  method: string;
  endpoint: string;
  match: number;
  mismatch: number;
  /** match + mismatch */
  compared: number;
  skipped: Record<string, number>;
  firstSeen: number;
  lastSeen: number;
}

interface PendingGroup {
  observations: DiffObservation[];
  /** Occurrences after the kept ones, folded into one observation at `lastTime`. */
  extra: number;
  lastTime: number;
}

export interface ResultsWriterOptions {
  store: Store;
  logger: Logger;
  samplesPerGroup: () => number;
  retention: () => { olderThan: number; maxRows: number };
  /** How often pending results are written; 1000 ms keeps the `kill -9` loss to about a second. */
  flushMs?: number;
  pruneMs?: number;
  /** Pending groups kept while the store is failing; more are dropped (and logged). */
  maxPendingGroups?: number;
}

export interface ResultsWriter {
  add(outcomes: readonly PairOutcome[]): void;
  countSkip(route: string, endpoint: string, method: string, reason: string, time: number): void;
  noise(learned: readonly LearnedNoiseReport[], models: Record<string, NoiseModelSnapshot>): void;
  totals(): EndpointTotals[];
  /** Writes everything pending now. */
  flush(): Promise<void>;
  prune(): Promise<void>;
  close(): Promise<void>;
}

/**
 * @example
 * const writer = await createResultsWriter({ store, logger, samplesPerGroup: () => 5, retention: () => ({ olderThan: Date.now() - 7 * 86_400_000, maxRows: 1e6 }) });
 * writer.add(outcomes);
 */
export async function createResultsWriter(options: ResultsWriterOptions): Promise<ResultsWriter> {
  const { store, logger } = options;
  const maxPendingGroups = options.maxPendingGroups ?? 50_000;
  const totals = createTupleMap<EndpointTotals>();
  let pending = new Map<string, PendingGroup>();
  // Pairs compared per minute and endpoint since the last write: the denominator of a windowed mismatch rate.
  let pendingCompared = new Map<number, TupleMap<ComparedMinuteRow>>();
  let pendingNoise: NoiseRow[] | undefined;
  let pendingModels: Record<string, NoiseModelSnapshot> | undefined;
  let lastModelsWrite = 0;
  let totalsDirty = false;
  let dropped = 0;
  let writing: Promise<void> = Promise.resolve();

  const saved = await store.getMeta(TOTALS_META_KEY);
  if (saved !== undefined) {
    try {
      for (const t of JSON.parse(saved) as EndpointTotals[]) totals.set(t, t.route, t.method, t.endpoint);
    } catch (err) {
      logger.warn({ err }, 'comparison totals in the store are unreadable; counting from zero');
    }
  }

  const totalsFor = (route: string, method: string, endpoint: string, time: number): EndpointTotals => {
    const t =
      totals.get(route, method, endpoint) ??
      totals.set({ route, method, endpoint, match: 0, mismatch: 0, compared: 0, skipped: {}, firstSeen: time, lastSeen: time }, route, method, endpoint);
    if (time < t.firstSeen) t.firstSeen = time;
    if (time > t.lastSeen) t.lastSeen = time;
    totalsDirty = true;
    return t;
  };

  const addCompared = (minute: number, route: string, method: string, endpoint: string, match: number, mismatch: number): void => {
    let rows = pendingCompared.get(minute);
    if (rows === undefined) pendingCompared.set(minute, (rows = createTupleMap()));
    const row = rows.get(route, method, endpoint) ?? rows.set({ minute, route, method, endpoint, match: 0, mismatch: 0 }, route, method, endpoint);
    row.match += match;
    row.mismatch += mismatch;
  };

  const write = async (): Promise<void> => {
    // The denominator goes first: a windowed rate may briefly read low, never above what was compared.
    if (pendingCompared.size > 0) {
      const compared = [...pendingCompared.values()].flatMap((rows) => [...rows.values()]);
      pendingCompared = new Map();
      try {
        await store.addComparedMinutes(compared);
      } catch (err) {
        logger.error({ err }, 'writing compared counts failed; retrying with the next batch');
        for (const r of compared) addCompared(r.minute, r.route, r.method, r.endpoint, r.match, r.mismatch);
      }
    }
    const batch = pending;
    pending = new Map();
    const observations: DiffObservation[] = [];
    for (const g of batch.values()) {
      observations.push(...g.observations);
      if (g.extra > 0) observations.push({ ...g.observations[0]!, time: g.lastTime, count: g.extra, sample: undefined });
    }
    if (observations.length > 0) {
      try {
        await store.recordDiffs(observations, options.samplesPerGroup());
      } catch (err) {
        logger.error({ err, groups: batch.size }, 'writing diff groups failed; retrying with the next batch');
        for (const [id, g] of batch) {
          if (pending.size >= maxPendingGroups) {
            dropped += g.observations.length + g.extra;
            continue;
          }
          const now = pending.get(id);
          if (now === undefined) pending.set(id, g);
          else {
            now.observations.unshift(...g.observations);
            now.extra += g.extra;
          }
        }
      }
    }
    if (totalsDirty) {
      totalsDirty = false;
      try {
        await store.setMeta(TOTALS_META_KEY, JSON.stringify([...totals.values()]));
      } catch (err) {
        totalsDirty = true;
        logger.error({ err }, 'writing comparison totals failed');
      }
    }
    if (pendingNoise !== undefined) {
      const rows = pendingNoise;
      pendingNoise = undefined;
      try {
        await store.upsertNoise(rows);
      } catch (err) {
        pendingNoise ??= rows;
        logger.error({ err }, 'writing learned noise failed');
      }
    }
    // The models only matter across restarts; writing them every 10 s is plenty.
    if (pendingModels !== undefined && Date.now() - lastModelsWrite >= 10_000) {
      const models = pendingModels;
      pendingModels = undefined;
      lastModelsWrite = Date.now();
      try {
        await store.setMeta(NOISE_MODELS_META_KEY, JSON.stringify(models));
      } catch (err) {
        pendingModels ??= models;
        logger.error({ err }, 'writing noise models failed');
      }
    }
    if (dropped > 0) {
      logger.warn({ dropped }, 'diff observations dropped while the store was failing');
      dropped = 0;
    }
  };

  const flush = (): Promise<void> => {
    writing = writing.then(write, write);
    return writing;
  };

  const prune = async (): Promise<void> => {
    try {
      await store.prune(options.retention());
    } catch (err) {
      logger.error({ err }, 'pruning comparison results failed');
    }
  };

  const flushTimer = setInterval(() => void flush(), options.flushMs ?? 1000);
  flushTimer.unref();
  const pruneTimer = setInterval(() => void prune(), options.pruneMs ?? 10 * 60_000);
  pruneTimer.unref();

  return {
    add(outcomes) {
      const max = options.samplesPerGroup();
      for (const o of outcomes) {
        const t = totalsFor(o.route, o.method, o.endpoint, o.time);
        if (o.verdict === 'match') t.match += 1;
        else t.mismatch += 1;
        t.compared = t.match + t.mismatch;
        addCompared(minuteOf(o.time), o.route, o.method, o.endpoint, o.verdict === 'match' ? 1 : 0, o.verdict === 'match' ? 0 : 1);
        for (const g of o.groups) {
          let p = pending.get(g.id);
          if (p === undefined) {
            if (pending.size >= maxPendingGroups) {
              dropped += 1;
              continue;
            }
            pending.set(g.id, (p = { observations: [], extra: 0, lastTime: o.time }));
          }
          const obs: DiffObservation = { id: g.id, route: o.route, method: o.method, endpoint: o.endpoint, path: g.path, kind: g.kind, time: o.time, count: 1 };
          if (g.sample !== undefined) obs.sample = g.sample;
          // The first observation fixes firstSeen; later ones matter only for their samples and count.
          if (p.observations.length === 0 || (obs.sample !== undefined && p.observations.length < max + 1)) p.observations.push(obs);
          else p.extra += 1;
          if (o.time > p.lastTime) p.lastTime = o.time;
        }
      }
    },
    countSkip(route, endpoint, method, reason, time) {
      const t = totalsFor(route, method, endpoint, time);
      t.skipped[reason] = (t.skipped[reason] ?? 0) + 1;
    },
    noise(learned, models) {
      const now = Date.now();
      pendingNoise = learned.map((n) => ({
        route: n.route,
        endpoint: n.endpoint,
        path: n.path,
        kind: n.kind,
        rawCount: n.raw,
        noiseCount: n.noise,
        total: n.rawTotal,
        status: 'learned' as const,
        updatedAt: now,
      }));
      pendingModels = models;
    },
    totals: () => [...totals.values()],
    flush,
    prune,
    async close() {
      clearInterval(flushTimer);
      clearInterval(pruneTimer);
      lastModelsWrite = 0;
      await flush();
    },
  };
}
