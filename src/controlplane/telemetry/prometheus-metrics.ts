/**
 * The Prometheus side of telemetry. Per-series totals are plain numbers and
 * typed arrays updated on each exchange; they become Prometheus families only
 * when someone scrapes. prom-client's own Counter/Histogram hash a label
 * object on every observation, which is more than the event path should pay,
 * so the exchange families are scrape-time metrics that prom-client renders
 * like any other. Process metrics are prom-client's defaults plus gauges that
 * read the data plane's load at scrape time.
 *
 * Every metric and label is listed in docs/metrics.md; keep the two in step.
 */
import client, { type Metric, type Registry } from 'prom-client';
import type { ExchangeEvent } from '../../dataplane/events.ts';
import { FAILURE_CAUSES, STATUS_CLASSES, failureIndex, statusClassIndex } from './exchange-stats.ts';
import type { SeriesKey } from './minute-window.ts';

/** 100µs to 10s: proxy overhead on loopback is sub-millisecond, upstream timeouts are seconds. */
export const DEFAULT_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Since-start totals of one series, for counters and histograms. */
export interface SeriesTotals {
  key: SeriesKey;
  requests: number;
  responses: number[];
  failures: number[];
  clientAborted: number;
  fallbacks: number;
  requestBytes: number;
  responseBytes: number;
  /** Per-bucket (not cumulative) counts; the last slot is above the highest bound. */
  ttfb: Float64Array;
  ttfbSumMs: number;
  total: Float64Array;
  totalSumMs: number;
}

export function createSeriesTotals(key: SeriesKey, bucketCount: number): SeriesTotals {
  return {
    key,
    requests: 0,
    responses: [0, 0, 0, 0, 0],
    failures: [0, 0, 0, 0, 0],
    clientAborted: 0,
    fallbacks: 0,
    requestBytes: 0,
    responseBytes: 0,
    ttfb: new Float64Array(bucketCount + 1),
    ttfbSumMs: 0,
    total: new Float64Array(bucketCount + 1),
    totalSumMs: 0,
  };
}

function bucketIndex(boundsMs: readonly number[], ms: number): number {
  let lo = 0;
  let hi = boundsMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= boundsMs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Same counting rules as exchange-stats.ts, so Prometheus and the stats API agree. */
export function recordTotals(t: SeriesTotals, event: ExchangeEvent, boundsMs: readonly number[]): void {
  t.requests++;
  t.requestBytes += event.requestBytes;
  t.responseBytes += event.responseBytes;
  if (event.fallback === true) t.fallbacks++;
  if (event.clientAborted === true) {
    t.clientAborted++;
    return;
  }
  const cls = event.failure === undefined ? statusClassIndex(event.status) : -1;
  if (cls === -1) {
    t.failures[failureIndex(event.failure)]!++;
    return;
  }
  t.responses[cls]!++;
  const ttfb = event.ttfbMs > 0 ? event.ttfbMs : 0;
  const total = event.totalMs > 0 ? event.totalMs : 0;
  t.ttfb[bucketIndex(boundsMs, ttfb)]!++;
  t.ttfbSumMs += ttfb;
  t.total[bucketIndex(boundsMs, total)]!++;
  t.totalSumMs += total;
}

export interface ComparisonTotal {
  route: string;
  endpoint: string;
  outcome: string;
  reason: string;
  count: number;
}

export interface TelemetryMetricsSources {
  /** Histogram upper bounds in seconds. */
  buckets: readonly number[];
  series(): Iterable<SeriesTotals>;
  comparisons(): Iterable<ComparisonTotal>;
  load(): { connections: number; shadowActive: number; shadowQueued: number };
  overflow(): ReadonlyMap<string, number>;
  windowSeries(): number;
  storeWriteFailures(): number;
}

export interface TelemetryMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  render(): Promise<string>;
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/**
 * A family whose samples are computed when scraped. It has the shape
 * prom-client's Registry renders (name, help, type, get()); prom-client types
 * registerMetric as its own classes only, hence the cast at registration.
 */
function scrapeTimeMetric(registry: Registry, name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: () => Sample[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: samples() }),
    reset: () => {},
  };
  registry.registerMetric(metric as unknown as Metric);
}

const seriesLabels = (k: SeriesKey): Labels => ({ route: k.route, endpoint: k.endpoint, backend: k.backend, role: k.role });

/**
 * @example
 * const metrics = createTelemetryMetrics({ buckets: DEFAULT_LATENCY_BUCKETS, series: () => cells.values(), ... });
 * const text = await metrics.render(); // Prometheus text format 0.0.4
 */
export function createTelemetryMetrics(src: TelemetryMetricsSources): TelemetryMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  const counter = (name: string, help: string, pick: (t: SeriesTotals) => number) =>
    scrapeTimeMetric(registry, name, help, 'counter', () => {
      const out: Sample[] = [];
      for (const t of src.series()) out.push({ labels: seriesLabels(t.key), value: pick(t) });
      return out;
    });

  counter('cutover_upstream_requests_total', 'Upstream exchanges started, by route, endpoint, backend and role (primary served the client, shadow was mirrored).', (t) => t.requests);
  scrapeTimeMetric(registry, 'cutover_upstream_responses_total', 'Upstream responses by status class (1xx-5xx).', 'counter', () => {
    const out: Sample[] = [];
    for (const t of src.series()) {
      for (let i = 0; i < STATUS_CLASSES.length; i++) {
        if (t.responses[i]! > 0) out.push({ labels: { ...seriesLabels(t.key), status_class: STATUS_CLASSES[i]! }, value: t.responses[i]! });
      }
    }
    return out;
  });
  scrapeTimeMetric(registry, 'cutover_upstream_failures_total', 'Upstream exchanges that got no complete response, by cause.', 'counter', () => {
    const out: Sample[] = [];
    for (const t of src.series()) {
      for (let i = 0; i < FAILURE_CAUSES.length; i++) {
        if (t.failures[i]! > 0) out.push({ labels: { ...seriesLabels(t.key), cause: FAILURE_CAUSES[i]! }, value: t.failures[i]! });
      }
    }
    return out;
  });
  counter('cutover_upstream_client_aborts_total', 'Exchanges cut short because the client went away (not counted as failures).', (t) => t.clientAborted);
  counter('cutover_upstream_fallbacks_total', 'Exchanges that were a retry on legacy after the candidate could not be reached.', (t) => t.fallbacks);
  counter('cutover_upstream_request_bytes_total', 'Request body bytes sent upstream.', (t) => t.requestBytes);
  counter('cutover_upstream_response_bytes_total', 'Response body bytes received from upstream.', (t) => t.responseBytes);

  const histogram = (name: string, help: string, counts: (t: SeriesTotals) => Float64Array, sumMs: (t: SeriesTotals) => number) =>
    scrapeTimeMetric(registry, name, help, 'histogram', () => {
      const out: Sample[] = [];
      const bucketName = `${name}_bucket`;
      for (const t of src.series()) {
        const labels = seriesLabels(t.key);
        const c = counts(t);
        let cumulative = 0;
        for (let i = 0; i < src.buckets.length; i++) {
          cumulative += c[i]!;
          out.push({ metricName: bucketName, labels: { ...labels, le: src.buckets[i]! }, value: cumulative });
        }
        cumulative += c[src.buckets.length]!;
        out.push({ metricName: bucketName, labels: { ...labels, le: '+Inf' }, value: cumulative });
        out.push({ metricName: `${name}_sum`, labels, value: sumMs(t) / 1000 });
        out.push({ metricName: `${name}_count`, labels, value: cumulative });
      }
      return out;
    });
  histogram('cutover_upstream_ttfb_seconds', 'Time from sending the request upstream to its first response byte (responses only).', (t) => t.ttfb, (t) => t.ttfbSumMs);
  histogram('cutover_upstream_duration_seconds', 'Time from sending the request upstream to its last response byte (responses only).', (t) => t.total, (t) => t.totalSumMs);

  scrapeTimeMetric(registry, 'cutover_comparisons_total', 'Comparison outcomes (match, mismatch, skipped with its reason; reason is empty otherwise).', 'counter', () =>
    [...src.comparisons()].map((c) => ({ labels: { route: c.route, endpoint: c.endpoint, outcome: c.outcome, reason: c.reason }, value: c.count })),
  );
  scrapeTimeMetric(registry, 'cutover_telemetry_endpoint_overflow_total', 'Endpoint values folded into {other} because the route reached telemetry.maxEndpointsPerRoute.', 'counter', () =>
    [...src.overflow()].map(([route, n]) => ({ labels: { route }, value: n })),
  );
  scrapeTimeMetric(registry, 'cutover_telemetry_store_write_failures_total', 'Failed writes of telemetry buckets or comparison counts to the store (retried).', 'counter', () => [
    { labels: {}, value: src.storeWriteFailures() },
  ]);
  scrapeTimeMetric(registry, 'cutover_telemetry_window_series', 'Distinct series held in the in-memory per-minute window.', 'gauge', () => [{ labels: {}, value: src.windowSeries() }]);

  const loadGauge = (name: string, help: string, pick: (l: ReturnType<TelemetryMetricsSources['load']>) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(src.load()));
      },
    });
  loadGauge('cutover_open_connections', 'Client connections open on the data plane (all workers).', (l) => l.connections);
  loadGauge('cutover_shadow_active', 'Mirrored requests in flight.', (l) => l.shadowActive);
  loadGauge('cutover_shadow_queued', 'Mirrored requests waiting for a shadow slot (the shadow queue depth).', (l) => l.shadowQueued);

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
