/**
 * The telemetry feature: legacy and candidate measured side by side.
 *
 * It subscribes to the data plane's `exchange`, `comparisonSkipped` and (when
 * the access log is on) `request` channels and never touches the request
 * path otherwise. Each exchange updates two things: the series' live minute
 * (counts + DDSketches, for windows and gates) and its since-start totals (for
 * Prometheus). Every minute that changed, the open one included, goes to the
 * store every few seconds and once more on close, and the last
 * `telemetry.retention` is read back on start, so a restart keeps the window.
 *
 * Every process writes its buckets under an instance id of its own, so
 * several cutover instances sharing one store (or a restart into a minute the
 * last run already wrote) add up rather than overwrite each other. The live
 * window counts this process's traffic plus what the others wrote: read on
 * start, and their last few minutes again at every flush, so another
 * instance's traffic shows up within two flush intervals.
 *
 * In multi-worker mode the workers forward events to the primary, which
 * republishes them on the same channels, so this runs in one process.
 */
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BACKEND_NAMES, type CutoverConfig } from '../../config/schema.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { CutoverError, ErrorCodes } from '../../core/errors.ts';
import { createId } from '../../core/ids.ts';
import { createTupleMap } from '../../core/tuple-map.ts';
import { channels, type ComparisonSkippedEvent, type ExchangeEvent, type RequestEvent, type Role } from '../../dataplane/events.ts';
import type { Feature, FeatureContext, FeatureFactory } from '../feature.ts';
import { createAccessLog, type AccessLog } from './access-log.ts';
import { createComparisonCounts, type ComparisonOutcome } from './comparison-counts.ts';
import { createEndpointCap, OTHER } from './endpoint-cap.ts';
import { recordExchange, type ExchangeStats } from './exchange-stats.ts';
import { createMetricsListener, type MetricsListener } from './metrics-listener.ts';
import { MINUTE, createMinuteWindow, minuteOf, seriesId, type SeriesKey } from './minute-window.ts';
import {
  DEFAULT_LATENCY_BUCKETS,
  createSeriesTotals,
  createTelemetryMetrics,
  recordTotals,
  type ComparisonTotal,
  type SeriesTotals,
  type TelemetryMetrics,
} from './prometheus-metrics.ts';
import type { ComparisonDetails, TelemetryApi } from './telemetry-api.ts';
import { createTelemetryRoutes } from './telemetry-routes.ts';
import { queryWindow } from './window-query.ts';

export type * from './telemetry-api.ts';
export { parseWindowParam } from './telemetry-routes.ts';
export type { StatsBody, RouteStats } from './telemetry-routes.ts';

export const TELEMETRY_FEATURE = 'telemetry';
/** The feature that reports comparison outcomes; access-log lines wait for it only when it is there. */
const COMPARISON_FEATURE = 'comparison';

export interface TelemetryOptions {
  /** Time for minute boundaries of comparisons, flushing and loading; exchanges carry their own time. */
  clock?: Clock;
  /** How often finished minutes are written to the store. Default 5 s. */
  flushIntervalMs?: number;
  /** Access-log sampling source (tests make it deterministic). */
  random?: () => number;
  /** The id this process's buckets are stored under; default: host name plus a random suffix, new on every start. */
  instance?: string;
}

export interface TelemetryFeature extends Feature {
  api: TelemetryApi;
  metrics: TelemetryMetrics;
  /** Where `admin.metricsListen` ended up listening (port 0 picks one). */
  metricsListenAddress: { host: string; port: number } | undefined;
}

interface Cell {
  /** seriesId of `key`. */
  id: string;
  key: SeriesKey;
  totals: SeriesTotals;
  minute: number;
  epoch: number;
  stats: ExchangeStats | undefined;
}

/** Bound on distinct skip reasons: the data plane's are fixed, recordComparison's are free text. */
const MAX_REASONS = 32;
/** Minutes a store outage may hold back before unwritten minutes are dropped anyway. */
const STORE_GRACE = 10 * MINUTE;
/**
 * How far back each flush re-reads what other instances wrote: their open minute (written at every flush) and
 * the two before it, which a late event rewrites; older rewrites are read at the next start.
 */
const FOREIGN_REFRESH = 2 * MINUTE;
const ROLES: readonly string[] = ['primary', 'shadow'];
/** Rows serialised (or decoded) per event-loop turn during a flush: about 1-2 ms of work. */
const FLUSH_SLICE = 16;


/**
 * @example
 * const runtime = await startCutover({ config, features: [createTelemetryFeature] });
 * const telemetry = runtime.feature<TelemetryApi>('telemetry')!;
 * telemetry.query({ route: 'checkout', windowMs: 600_000 }).backends;
 */
export async function createTelemetry(context: FeatureContext, options: TelemetryOptions = {}): Promise<TelemetryFeature> {
  const clock = options.clock ?? systemClock;
  const instance = options.instance ?? createId(hostname());
  const logger = context.logger.child({ feature: TELEMETRY_FEATURE });
  let config: CutoverConfig = context.config();
  const bucketsSec = config.telemetry.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS;
  const boundsMs = bucketsSec.map((s) => s * 1000);

  const cap = createEndpointCap(config.telemetry.maxEndpointsPerRoute);
  const window = createMinuteWindow();
  const counts = createComparisonCounts();
  const cells = new Map<string, Cell>();
  const comparisonTotals = createTupleMap<ComparisonTotal>();
  const reasons = new Set<string>();
  let storeWriteFailures = 0;

  const metrics = createTelemetryMetrics({
    buckets: bucketsSec,
    *series() {
      for (const c of cells.values()) yield c.totals;
    },
    comparisons: () => comparisonTotals.values(),
    load: () => context.dataPlaneLoad(),
    overflow: () => cap.overflow(),
    windowSeries: () => window.seriesCount(),
    storeWriteFailures: () => storeWriteFailures,
  });

  // Listen first: if the port is taken, nothing else has been started that would need undoing.
  let metricsListener: MetricsListener | undefined;
  let metricsListenAddress: { host: string; port: number } | undefined;
  if (config.admin.metricsListen !== undefined) {
    metricsListener = createMetricsListener(metrics, (err) => logger.error({ err }, 'metrics collection failed'));
    try {
      metricsListenAddress = await metricsListener.listen(config.admin.metricsListen);
    } catch (err) {
      throw new CutoverError(ErrorCodes.CONFIG_INVALID, `cannot serve /metrics on admin.metricsListen ${config.admin.metricsListen}: ${(err as Error).message}`, {
        hint: 'pick a free host:port for admin.metricsListen, or remove it to serve /metrics on the admin listener only',
        cause: err,
      });
    }
  }

  const accept = (key: SeriesKey): SeriesKey | undefined => {
    if (!(BACKEND_NAMES as readonly string[]).includes(key.backend) || !ROLES.includes(key.role)) return undefined;
    const route = cap.route(key.route);
    return { ...key, route, endpoint: cap.endpoint(route, key.endpoint) };
  };

  // The window survives restarts: read back what the last run wrote.
  const since = minuteOf(clock.now()) - config.telemetry.retention;
  try {
    const bad = window.load(await context.store.listTelemetryBuckets({ from: since }), accept, instance);
    if (bad > 0) logger.warn({ rows: bad }, 'skipped telemetry buckets this version cannot read');
    for (const row of await context.store.listComparisonCounts({ from: since })) {
      const route = cap.route(row.route);
      counts.load({ ...row, route, endpoint: cap.endpoint(route, row.endpoint) });
    }
  } catch (err) {
    logger.warn({ err }, 'could not load the telemetry window from the store; starting empty');
  }

  // The hot path's way to a cell, without building a series id per event: route -> endpoint -> one slot per
  // (backend, role). Only series the cap let through are remembered here, so it is bounded like the cap.
  const cellsByEndpoint = new Map<string, Map<string, Array<Cell | undefined>>>();
  const slotOf = (e: ExchangeEvent): number => (e.backend === 'legacy' ? 0 : e.backend === 'candidate' ? 2 : 4) + (e.role === 'shadow' ? 1 : 0);

  const cellFor = (e: ExchangeEvent): Cell => {
    const slot = slotOf(e);
    const known = cellsByEndpoint.get(e.route)?.get(e.endpoint)?.[slot];
    if (known !== undefined) return known;
    const route = cap.route(e.route);
    const endpoint = cap.endpoint(route, e.endpoint);
    const id = seriesId(route, endpoint, e.backend, e.role);
    let cell = cells.get(id);
    if (cell === undefined) {
      const key: SeriesKey = { route, endpoint, backend: e.backend, role: e.role };
      cell = { id, key, totals: createSeriesTotals(key, boundsMs.length), minute: Number.NaN, epoch: -1, stats: undefined };
      cells.set(id, cell);
    }
    if (route === e.route && endpoint === e.endpoint) {
      let byEndpoint = cellsByEndpoint.get(route);
      if (byEndpoint === undefined) cellsByEndpoint.set(route, (byEndpoint = new Map()));
      let slots = byEndpoint.get(endpoint);
      if (slots === undefined) byEndpoint.set(endpoint, (slots = [undefined, undefined, undefined, undefined, undefined, undefined]));
      slots[slot] = cell;
    }
    return cell;
  };

  const onExchange = (message: unknown): void => {
    const e = message as ExchangeEvent;
    const cell = cellFor(e);
    // The minute the exchange finished in, from the event itself, so forwarded or late events land where they belong.
    const minute = minuteOf(e.startedAt + e.totalMs);
    if (cell.minute !== minute || cell.epoch !== window.epoch) {
      cell.stats = window.statsFor(minute, cell.id, cell.key);
      cell.minute = minute;
      cell.epoch = window.epoch;
    }
    recordExchange(cell.stats!, e);
    recordTotals(cell.totals, e, boundsMs);
  };

  let accessLog: AccessLog | undefined;
  let outcomesCarryIds = false;

  /** Counts one outcome; called once per mirrored request, so a repeat allocates nothing. */
  const countComparison = (route: string, endpoint: string, outcome: ComparisonOutcome, reason: string | undefined, time: number): void => {
    const r = cap.route(route);
    const ep = cap.endpoint(r, endpoint);
    let why = outcome === 'skipped' ? (reason ?? '') : '';
    if (why !== '' && !reasons.has(why)) {
      if (reasons.size < MAX_REASONS) reasons.add(why);
      else why = 'other';
    }
    counts.add(minuteOf(time), r, ep, outcome, why, 1);
    const t = comparisonTotals.get(r, ep, outcome, why);
    if (t === undefined) comparisonTotals.set({ route: r, endpoint: ep, outcome, reason: why, count: 1 }, r, ep, outcome, why);
    else t.count++;
  };

  const recordComparison = (route: string, endpoint: string, outcome: ComparisonOutcome, reason?: string, details?: ComparisonDetails): void => {
    countComparison(route, endpoint, outcome, reason, details?.time ?? clock.now());
    if (details?.requestId !== undefined) {
      if (!outcomesCarryIds) {
        outcomesCarryIds = true;
        holdSnapshot = undefined;
      }
      accessLog?.onComparison(details.requestId, outcome, reason);
    }
  };

  const onSkipped = (message: unknown): void => {
    const e = message as ComparisonSkippedEvent;
    countComparison(e.route, e.endpoint, 'skipped', e.reason, e.time);
  };

  const onRequest = (message: unknown): void => {
    accessLog?.onRequest(message as RequestEvent);
  };

  // How long an access-log line waits for its comparison, per route; rebuilt when the routing snapshot changes.
  let holdSnapshot: unknown;
  let holdByRoute = new Map<string, number>();
  const holdMs = (route: string): number => {
    const snap = context.snapshot();
    if (snap !== holdSnapshot) {
      holdSnapshot = snap;
      holdByRoute = new Map();
      // Wait only when outcomes can be matched to requests: a comparer that reports without request ids would leave every line waiting out its full hold.
      const comparing = outcomesCarryIds && context.feature(COMPARISON_FEATURE) !== undefined;
      for (const r of snap.routes) {
        const cfg = config.routes.find((c) => c.id === r.id);
        const mode = r.description.mode;
        const mirrors = mode === 'shadow' || mode === 'live' || (mode === 'canary' && cfg?.compare === true);
        holdByRoute.set(r.id, comparing && mirrors ? (cfg?.shadow?.timeout ?? config.defaults.shadow.timeout) + 2_000 : 0);
      }
    }
    return holdByRoute.get(route) ?? 0;
  };

  let subscribed = false;
  let requestSubscribed = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  let accessLogKey = '';

  const applyConfig = (): void => {
    const t = config.telemetry;
    cap.setLimit(t.maxEndpointsPerRoute);
    if (t.enabled && !subscribed) {
      channels.exchange.subscribe(onExchange);
      channels.comparisonSkipped.subscribe(onSkipped);
      subscribed = true;
    } else if (!t.enabled && subscribed) {
      channels.exchange.unsubscribe(onExchange);
      channels.comparisonSkipped.unsubscribe(onSkipped);
      subscribed = false;
    }
    const wantLog = t.enabled && t.accessLog !== 'off';
    const key = wantLog ? JSON.stringify([t.accessLog, t.accessLogSample, t.accessLogFile ?? null]) : '';
    if (key === accessLogKey) return;
    accessLogKey = key;
    const previous = accessLog;
    accessLog = undefined;
    if (previous !== undefined) void previous.close().catch((err: unknown) => logger.warn({ err }, 'closing the previous access log failed'));
    if (wantLog) {
      accessLog = createAccessLog({ mode: t.accessLog as 'sampled' | 'full', sample: t.accessLogSample, file: t.accessLogFile, holdMs, random: options.random });
      if (!requestSubscribed) {
        channels.request.subscribe(onRequest);
        requestSubscribed = true;
      }
      sweepTimer ??= setInterval(() => accessLog?.sweep(), 250).unref();
    } else {
      if (requestSubscribed) {
        channels.request.unsubscribe(onRequest);
        requestSubscribed = false;
      }
      clearInterval(sweepTimer);
      sweepTimer = undefined;
    }
  };

  let lastWarn = 0;
  /** `what`: the write that failed, or with `read`, the read. */
  const warnStore = (err: unknown, what: string, read = false) => {
    if (!read) storeWriteFailures++;
    const now = clock.now();
    // A store outage would otherwise log every few seconds; one line a minute says the same.
    if (now - lastWarn >= MINUTE) {
      lastWarn = now;
      logger.warn({ err }, `${read ? 'reading' : 'writing'} ${what} ${read ? 'from' : 'to'} the store failed; retrying at the next flush`);
    }
  };

  /** `final`: the last flush before close; it skips re-reading other instances. */
  const flushOnce = async (final: boolean): Promise<void> => {
    // The open minute is written too (and again while it changes): after a kill -9 at most one
    // flush interval is lost, and other instances sharing the store see this minute within seconds.
    const buckets = window.pending(undefined, instance);
    if (buckets.size > 0) {
      try {
        // In slices, with requests served between them: serialising and writing a few hundred
        // series at once would hold the event loop for ten milliseconds or more.
        for (let rows = buckets.next(FLUSH_SLICE); rows.length > 0; rows = buckets.next(FLUSH_SLICE)) {
          await context.store.putTelemetryBuckets(rows);
          await nextTurn();
        }
        buckets.written(minuteOf(clock.now()));
      } catch (err) {
        buckets.failed();
        warnStore(err, 'telemetry buckets');
      }
    }
    const comparisons = counts.pending(undefined);
    if (comparisons.rows.length > 0) {
      try {
        await context.store.addComparisonCounts(comparisons.rows);
        comparisons.commit();
      } catch (err) {
        warnStore(err, 'comparison counts');
      }
    }
    if (!final) {
      try {
        const theirs = await context.store.listTelemetryBuckets({ from: minuteOf(clock.now()) - FOREIGN_REFRESH, excludeInstance: instance });
        for (let i = 0; i < theirs.length; i += FLUSH_SLICE) {
          window.load(theirs.slice(i, i + FLUSH_SLICE), accept, instance);
          if (i + FLUSH_SLICE < theirs.length) await nextTurn();
        }
      } catch (err) {
        warnStore(err, "other instances' telemetry buckets", true);
      }
    }
    const cutoff = minuteOf(clock.now()) - config.telemetry.retention;
    window.evict(cutoff, false);
    counts.evict(cutoff, false);
    const dropped = window.evict(cutoff - STORE_GRACE, true) + counts.evict(cutoff - STORE_GRACE, true);
    if (dropped > 0) logger.warn({ minutes: dropped }, 'dropped telemetry minutes the store never accepted');
  };

  // Flushes run one at a time, so a slow store cannot have two writes of one minute race.
  let flushing: Promise<void> = Promise.resolve();
  const flush = (final: boolean): Promise<void> => {
    flushing = flushing.then(() =>
      flushOnce(final).catch((err: unknown) => {
        logger.error({ err }, 'telemetry flush failed');
      }),
    );
    return flushing;
  };
  const flushTimer = setInterval(() => void flush(false), options.flushIntervalMs ?? 5_000);
  flushTimer.unref();

  applyConfig();

  const api: TelemetryApi = {
    query: (q) => queryWindow(window, counts, q.now === undefined ? { ...q, now: clock.now() } : q),
    recordComparison,
    flush: () => flush(false),
  };

  let closed: Promise<void> | undefined;
  return {
    name: TELEMETRY_FEATURE,
    api,
    metrics,
    metricsListenAddress,
    routes: createTelemetryRoutes({ api, metrics, retentionMs: () => config.telemetry.retention, routeIds: () => context.routing.routeIds() }),
    onConfig(next) {
      const before = config;
      config = next;
      holdSnapshot = undefined;
      if (JSON.stringify(before.telemetry.latencyBuckets) !== JSON.stringify(next.telemetry.latencyBuckets) || before.admin.metricsListen !== next.admin.metricsListen) {
        logger.warn('telemetry.latencyBuckets and admin.metricsListen take effect on restart');
      }
      applyConfig();
    },
    close: () =>
      (closed ??= (async () => {
        clearInterval(flushTimer);
        clearInterval(sweepTimer);
        if (subscribed) {
          channels.exchange.unsubscribe(onExchange);
          channels.comparisonSkipped.unsubscribe(onSkipped);
          subscribed = false;
        }
        if (requestSubscribed) channels.request.unsubscribe(onRequest);
        requestSubscribed = false;
        const log = accessLog;
        accessLog = undefined;
        // The current partial minute too: a restart reloads it and carries on counting into it.
        await flush(true);
        await log?.close();
        await metricsListener?.close();
      })()),
  };
}

/** The factory the runtime calls; see createTelemetry. */
export const createTelemetryFeature: FeatureFactory = (context) => createTelemetry(context);

export { OTHER as OTHER_ENDPOINT };
