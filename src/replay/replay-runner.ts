/**
 * Offline replay: every recorded request goes to legacy and candidate (and
 * the replica, for noise), and each pair goes through the live comparer
 * (PairComparer in the comparer worker, same rules, same noise models, same
 * triage) and the live results writer, so a replayed mismatch lands in the
 * same diff groups, samples, noise rows and totals as a shadowed one.
 *
 * The store has no field telling a replayed observation from a live one, so
 * they share groups; see docs/replay.md.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NoiseModelSnapshot } from '../compare/index.ts';
import type { CutoverConfig } from '../config/schema.ts';
import { createComparerPool } from '../controlplane/comparison/comparer-pool.ts';
import type { ComparerSettings, NoiseDecision, PairOutcome, RouteCompareSettings } from '../controlplane/comparison/comparer-protocol.ts';
import { REDACTION_KEY_META } from '../controlplane/comparison/comparison-feature.ts';
import { createResultsWriter, NOISE_MODELS_META_KEY } from '../controlplane/comparison/results-writer.ts';
import { loadSilences } from '../controlplane/comparison/triage.ts';
import { minuteOf } from '../core/clock.ts';
import type { CapturedResponse, ComparisonPairEvent } from '../dataplane/events.ts';
import { pathnameOf } from '../dataplane/request-context.ts';
import type { ComparisonCountRow, Store } from '../storage/store.ts';
import { createBackendClient, type BackendClient, type ReplayRequest } from './backend-client.ts';
import { createRouteResolver } from './route-resolver.ts';
import { decodeBody, UNRECORDED_HEADERS, type TrafficRecord } from './traffic-format.ts';
import type { TrafficItem } from './traffic-reader.ts';

export interface ReplayOptions {
  /** Backends (URL, Host policy, extra headers, TLS), routes, comparison rules and results settings. */
  config: CutoverConfig;
  store: Store;
  logger: Logger;
  /** Requests in flight at once (each goes to every backend). */
  concurrency: number;
  /** Requests started per second at most; undefined = as fast as the backends answer. */
  rate?: number;
  onProgress?(progress: ReplayProgress): void;
  onBadLine?(item: Extract<TrafficItem, { ok: false }>): void;
  /** Pairs handed to the comparer worker before the reader waits for it. */
  maxInFlight?: number;
}

export interface ReplayProgress {
  /** Requests finished (compared, or skipped for a reason). */
  done: number;
  sent: number;
  mismatches: number;
  matches: number;
  skipped: number;
  badLines: number;
  elapsedMs: number;
}

export interface ReplaySummary extends ReplayProgress {
  skippedByReason: Record<string, number>;
  /** Mismatching requests per (route, method, endpoint). */
  mismatchesByEndpoint: Array<{ route: string; method: string; endpoint: string; mismatches: number; compared: number }>;
  pairsPerSecond: number;
}

/** Request header fields that must not be replayed as recorded: the client sets them per connection. */
const NOT_REPLAYED = new Set([...UNRECORDED_HEADERS, 'host', 'expect']);

function flatHeaders(headers: TrafficRecord['headers']): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (NOT_REPLAYED.has(name.toLowerCase())) continue;
    const v = headers[name]!;
    if (typeof v === 'string') out.push(name, v);
    else for (const x of v) out.push(name, x);
  }
  return out;
}

function headerRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    out[k] = out[k] === undefined ? flat[i + 1]! : `${out[k]}, ${flat[i + 1]}`;
  }
  return out;
}

async function installationKey(store: Store): Promise<string> {
  const existing = await store.getMeta(REDACTION_KEY_META);
  if (existing !== undefined) return existing;
  const key = randomBytes(32).toString('base64url');
  await store.setMeta(REDACTION_KEY_META, key);
  return key;
}

/** The comparer settings the live comparison feature builds; replay learns noise only from a replica. */
export function replayComparerSettings(config: CutoverConfig, key: string, hasReplica: boolean): ComparerSettings {
  const routeSettings = (rules: RouteCompareSettings['rules']): RouteCompareSettings => ({ rules, learnsNoise: hasReplica });
  const routes: Record<string, RouteCompareSettings> = {};
  for (const r of config.routes) routes[r.id] = routeSettings(r.rules);
  return {
    global: config.compare,
    routes,
    fallback: routeSettings(undefined),
    redaction: { key, headers: [...config.results.redactHeaders], paths: [...config.results.redactPaths] },
    samplesPerGroup: config.results.samplesPerGroup,
    // Held pairs are all released when the replay ends; the hold only has to outlast it.
    holdMs: 24 * 3_600_000,
    holdMax: 4096,
  };
}

/**
 * @example
 * const summary = await runReplay(readTraffic(['traffic.ndjson']), { config, store, logger, concurrency: 64 });
 */
export async function runReplay(source: AsyncIterable<TrafficItem> | Iterable<TrafficItem>, options: ReplayOptions): Promise<ReplaySummary> {
  const { config, store, logger } = options;
  const connections = Math.max(1, options.concurrency);
  const clients: BackendClient[] = [];
  const legacy = createBackendClient('legacy', config.backends.legacy, { connections });
  clients.push(legacy);
  const candidate = createBackendClient('candidate', config.backends.candidate, { connections });
  clients.push(candidate);
  const replica = config.backends.replica !== undefined ? createBackendClient('replica', config.backends.replica, { connections }) : undefined;
  if (replica) clients.push(replica);

  const routes = createRouteResolver(config);
  const key = await installationKey(store);
  const writer = await createResultsWriter({
    store,
    logger,
    samplesPerGroup: () => config.results.samplesPerGroup,
    retention: () => ({ olderThan: Date.now() - config.results.retention, maxRows: config.results.maxRows }),
    flushMs: 1000,
    // Replay never prunes: a long replay must not age out what it just wrote.
    pruneMs: 2 ** 31 - 1,
  });

  const progress: ReplayProgress = { done: 0, sent: 0, mismatches: 0, matches: 0, skipped: 0, badLines: 0, elapsedMs: 0 };
  const skippedByReason: Record<string, number> = {};
  const byEndpoint = new Map<string, { route: string; method: string; endpoint: string; mismatches: number; compared: number }>();
  const counts = new Map<string, ComparisonCountRow>();
  const count = (time: number, route: string, endpoint: string, outcome: ComparisonCountRow['outcome'], reason: string) => {
    const minute = minuteOf(time);
    const k = `${minute}\n${route}\n${endpoint}\n${outcome}\n${reason}`;
    const row = counts.get(k);
    if (row) row.count += 1;
    else counts.set(k, { minute, route, endpoint, outcome, reason, count: 1 });
  };
  const onOutcomes = (outcomes: PairOutcome[]) => {
    writer.add(outcomes);
    for (const o of outcomes) {
      count(o.time, o.route, o.endpoint, o.verdict, '');
      const k = `${o.route}\n${o.method}\n${o.endpoint}`;
      let e = byEndpoint.get(k);
      if (!e) byEndpoint.set(k, (e = { route: o.route, method: o.method, endpoint: o.endpoint, mismatches: 0, compared: 0 }));
      e.compared += 1;
      if (o.verdict === 'mismatch') {
        e.mismatches += 1;
        progress.mismatches += 1;
      } else progress.matches += 1;
      progress.done += 1;
    }
  };
  const skip = (route: string, endpoint: string, method: string, reason: string) => {
    const now = Date.now();
    writer.countSkip(route, endpoint, method, reason, now);
    count(now, route, endpoint, 'skipped', reason);
    skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
    progress.skipped += 1;
    progress.done += 1;
  };

  const pool = createComparerPool({
    settings: replayComparerSettings(config, key, replica !== undefined),
    maxInFlight: options.maxInFlight ?? 4096,
    maxInFlightBytes: 256 * 1024 * 1024,
    onOutcomes,
    onNoise: (learned, models) => writer.noise(learned, models),
    onLost: (lost, error) => {
      logger.error({ error, lost: lost.length }, 'comparer failed; these pairs were not compared');
      for (const p of lost) skip(p.route, p.endpoint, p.method, 'comparer_error');
    },
  });
  const savedModels = await store.getMeta(NOISE_MODELS_META_KEY);
  if (savedModels !== undefined) {
    try {
      pool.restoreNoise(JSON.parse(savedModels) as Record<string, NoiseModelSnapshot>);
    } catch {
      logger.warn('saved noise models are unreadable; replay learns from scratch');
    }
  }
  pool.setSilences(await loadSilences(store, Date.now()));
  const decisions: NoiseDecision[] = (await store.listNoise({})).filter((r) => r.status !== 'learned').map((r) => ({ route: r.route, endpoint: r.endpoint, path: r.path, status: r.status }));
  pool.setNoiseDecisions(decisions);

  const t0 = performance.now();
  let seq = 0;
  const submit = async (event: ComparisonPairEvent): Promise<void> => {
    // A full comparer means the reader is ahead: wait for it instead of dropping pairs.
    while (!pool.submit(event)) await pool.flush();
  };

  const one = async (record: TrafficRecord): Promise<void> => {
    const pathname = pathnameOf(record.url);
    const { route, endpoint } = routes.resolve(record.method, pathname, record.headers);
    if (record.bodyTruncated) {
      skip(route, endpoint, record.method, 'body_not_recorded');
      return;
    }
    const headers = flatHeaders(record.headers);
    const body = decodeBody(record.body, record.bodyEncoding);
    const request: ReplayRequest = { method: record.method, url: record.url, headers, body: body.byteLength > 0 ? body : null };
    const host = record.headers.host;
    if (host !== undefined) request.host = Array.isArray(host) ? host[0]! : host;
    const time = Date.now();
    const [l, c, r] = await Promise.all([legacy.send(request), candidate.send(request), replica?.send(request)]);
    if (l.failure !== undefined) return skip(route, endpoint, record.method, 'primary_error');
    if (c.failure !== undefined) return skip(route, endpoint, record.method, c.failure === 'timeout' ? 'timeout' : 'candidate_error');
    const event: ComparisonPairEvent = {
      requestId: `replay-${++seq}`,
      route,
      endpoint,
      method: record.method,
      url: record.url,
      time,
      request: { headers: headerRecord(headers), body, truncated: false },
      served: l,
      mirrored: c,
    };
    if (r !== undefined && r.failure === undefined) event.noise = { ...(r as CapturedResponse), backend: 'legacy' };
    await submit(event);
  };

  let active = 0;
  let wake: (() => void) | undefined;
  const release = () => {
    active--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const tick = setInterval(() => {
    progress.elapsedMs = performance.now() - t0;
    options.onProgress?.({ ...progress });
  }, 200);
  tick.unref();

  try {
    for await (const item of source) {
      if (!item.ok) {
        progress.badLines += 1;
        options.onBadLine?.(item);
        continue;
      }
      if (options.rate !== undefined) {
        const due = t0 + (progress.sent * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      }
      while (active >= options.concurrency) await new Promise<void>((res) => (wake = res));
      active++;
      progress.sent += 1;
      one(item.record).then(release, (err) => {
        logger.error({ err }, 'replaying a request failed');
        release();
      });
    }
    while (active > 0) await new Promise<void>((res) => (wake = res));
    await pool.flush('release');
  } finally {
    clearInterval(tick);
    await pool.close();
    await writer.close();
    await store.addComparisonCounts([...counts.values()]);
    await Promise.all(clients.map((c) => c.close()));
  }
  progress.elapsedMs = performance.now() - t0;
  options.onProgress?.({ ...progress });
  return {
    ...progress,
    skippedByReason,
    mismatchesByEndpoint: [...byEndpoint.values()].filter((e) => e.mismatches > 0).sort((a, b) => b.mismatches - a.mismatches),
    pairsPerSecond: progress.done / (progress.elapsedMs / 1000),
  };
}
