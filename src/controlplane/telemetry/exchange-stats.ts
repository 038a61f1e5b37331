/**
 * What one (route, endpoint, backend, role) did in one minute: counts,
 * latency sketches and bytes. The same shape serves a live minute, a merged
 * window and the persisted bucket, so merging minutes, processes and restarts
 * is one operation.
 *
 * Counting rules, chosen so an error rate means something to a gate:
 * - an exchange is either a response (counted by status class) or a failure
 *   (counted by cause), never both, so `5xx + failures` never counts twice;
 * - a client that went away is not the backend's fault: it is counted apart
 *   and stays out of failures and latency;
 * - latency is measured on responses only; a timeout's duration says how long
 *   cutover waited, not how fast the backend is.
 */
import type { ExchangeEvent, FailureCause } from '../../dataplane/events.ts';
import {
  createLatencySketch,
  deserializeSketch,
  mergeSerializedSketch,
  mergeSketch,
  recordLatency,
  serializeSketch,
  summarizeSketch,
  type LatencySketch,
  type LatencySummary,
  type SerializedSketch,
} from './latency-sketch.ts';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export const FAILURE_CAUSES = ['connect_refused', 'timeout', 'reset', 'protocol', 'other'] as const satisfies readonly FailureCause[];

export interface ExchangeStats {
  requests: number;
  /** Indexed like STATUS_CLASSES. */
  responses: number[];
  /** Indexed like FAILURE_CAUSES. */
  failures: number[];
  clientAborted: number;
  fallbacks: number;
  requestBytes: number;
  responseBytes: number;
  ttfb: LatencySketch;
  total: LatencySketch;
}

/** Index into STATUS_CLASSES, or -1 for a status outside 100-599. */
export function statusClassIndex(status: number): number {
  const i = Math.floor(status / 100) - 1;
  return i >= 0 && i < 5 ? i : -1;
}

export function failureIndex(cause: FailureCause | undefined): number {
  switch (cause) {
    case 'connect_refused':
      return 0;
    case 'timeout':
      return 1;
    case 'reset':
      return 2;
    case 'protocol':
      return 3;
    default:
      return 4;
  }
}

export function createExchangeStats(): ExchangeStats {
  return {
    requests: 0,
    responses: [0, 0, 0, 0, 0],
    failures: [0, 0, 0, 0, 0],
    clientAborted: 0,
    fallbacks: 0,
    requestBytes: 0,
    responseBytes: 0,
    ttfb: createLatencySketch(),
    total: createLatencySketch(),
  };
}

/**
 * The hot path of telemetry: called once per exchange event.
 * @example
 * const stats = createExchangeStats();
 * channels.exchange.subscribe((e) => recordExchange(stats, e as ExchangeEvent));
 * summarizeExchangeStats(stats).errorRate;
 */
export function recordExchange(stats: ExchangeStats, event: ExchangeEvent): void {
  stats.requests++;
  stats.requestBytes += event.requestBytes;
  stats.responseBytes += event.responseBytes;
  if (event.fallback === true) stats.fallbacks++;
  if (event.clientAborted === true) {
    stats.clientAborted++;
    return;
  }
  const cls = event.failure === undefined ? statusClassIndex(event.status) : -1;
  if (cls === -1) {
    stats.failures[failureIndex(event.failure)]!++;
    return;
  }
  stats.responses[cls]!++;
  recordLatency(stats.ttfb, event.ttfbMs);
  recordLatency(stats.total, event.totalMs);
}

/** Adds `from` into `into`; `from` is left unchanged. */
export function mergeExchangeStats(into: ExchangeStats, from: ExchangeStats): void {
  into.requests += from.requests;
  for (let i = 0; i < 5; i++) {
    into.responses[i]! += from.responses[i]!;
    into.failures[i]! += from.failures[i]!;
  }
  into.clientAborted += from.clientAborted;
  into.fallbacks += from.fallbacks;
  into.requestBytes += from.requestBytes;
  into.responseBytes += from.responseBytes;
  mergeSketch(into.ttfb, from.ttfb);
  mergeSketch(into.total, from.total);
}

/** The opaque `data` of a persisted telemetry bucket. */
export interface SerializedExchangeStats {
  v: 1;
  requests: number;
  responses: Record<StatusClass, number>;
  failures: Record<FailureCause, number>;
  clientAborted: number;
  fallbacks: number;
  requestBytes: number;
  responseBytes: number;
  ttfb: SerializedSketch;
  total: SerializedSketch;
}

export function serializeExchangeStats(stats: ExchangeStats): SerializedExchangeStats {
  return {
    v: 1,
    requests: stats.requests,
    responses: Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, stats.responses[i]!])) as Record<StatusClass, number>,
    failures: Object.fromEntries(FAILURE_CAUSES.map((c, i) => [c, stats.failures[i]!])) as Record<FailureCause, number>,
    clientAborted: stats.clientAborted,
    fallbacks: stats.fallbacks,
    requestBytes: stats.requestBytes,
    responseBytes: stats.responseBytes,
    ttfb: serializeSketch(stats.ttfb),
    total: serializeSketch(stats.total),
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * @throws Error when `data` was not written by serializeExchangeStats (the caller skips that bucket).
 */
export function deserializeExchangeStats(data: unknown): ExchangeStats {
  const d = data as Partial<SerializedExchangeStats> | null;
  if (d === null || typeof d !== 'object' || d.v !== 1) throw new Error('not a version 1 telemetry bucket');
  const responses = (d.responses ?? {}) as Record<string, unknown>;
  const failures = (d.failures ?? {}) as Record<string, unknown>;
  return {
    requests: num(d.requests),
    responses: STATUS_CLASSES.map((c) => num(responses[c])),
    failures: FAILURE_CAUSES.map((c) => num(failures[c])),
    clientAborted: num(d.clientAborted),
    fallbacks: num(d.fallbacks),
    requestBytes: num(d.requestBytes),
    responseBytes: num(d.responseBytes),
    ttfb: deserializeSketch(d.ttfb as SerializedSketch),
    total: deserializeSketch(d.total as SerializedSketch),
  };
}

/** Adds a bucket in its serialized form (as validated by deserializeExchangeStats) into live stats. */
export function mergeSerializedExchangeStats(into: ExchangeStats, from: SerializedExchangeStats): void {
  into.requests += from.requests;
  STATUS_CLASSES.forEach((c, i) => {
    into.responses[i]! += from.responses[c];
  });
  FAILURE_CAUSES.forEach((c, i) => {
    into.failures[i]! += from.failures[c];
  });
  into.clientAborted += from.clientAborted;
  into.fallbacks += from.fallbacks;
  into.requestBytes += from.requestBytes;
  into.responseBytes += from.responseBytes;
  mergeSerializedSketch(into.ttfb, from.ttfb);
  mergeSerializedSketch(into.total, from.total);
}

/** A window's numbers for one series, as the API and gates see them. */
export interface ExchangeSummary {
  requests: number;
  responses: Record<StatusClass, number>;
  failures: Record<FailureCause, number>;
  /** 5xx responses plus upstream failures. */
  errors: number;
  /** errors / requests; null when there were no requests, so "no data" is never read as "no errors". */
  errorRate: number | null;
  clientAborted: number;
  fallbacks: number;
  /** Latency to the first response byte, ms, with its sample count. */
  ttfb: LatencySummary;
  /** Latency to the last response byte, ms, with its sample count. */
  total: LatencySummary;
  requestBytes: number;
  responseBytes: number;
}

export function summarizeExchangeStats(stats: ExchangeStats): ExchangeSummary {
  const errors = stats.responses[4]! + stats.failures.reduce((a, b) => a + b, 0);
  return {
    requests: stats.requests,
    responses: Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, stats.responses[i]!])) as Record<StatusClass, number>,
    failures: Object.fromEntries(FAILURE_CAUSES.map((c, i) => [c, stats.failures[i]!])) as Record<FailureCause, number>,
    errors,
    errorRate: stats.requests > 0 ? errors / stats.requests : null,
    clientAborted: stats.clientAborted,
    fallbacks: stats.fallbacks,
    ttfb: summarizeSketch(stats.ttfb),
    total: summarizeSketch(stats.total),
    requestBytes: stats.requestBytes,
    responseBytes: stats.responseBytes,
  };
}
