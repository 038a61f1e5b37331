/**
 * The data plane publishes what happened; it never calls telemetry, comparison
 * or storage code. Subscribers (src/controlplane) attach to these channels.
 * Publishers check `channel.hasSubscribers` first, so an event nobody listens
 * to is never built.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { BackendName } from '../config/schema.ts';
import type { BreakerChange } from './mirror-breaker.ts';

export type Role = 'primary' | 'shadow';

/** Why an upstream exchange failed, for counters and gates. */
export type FailureCause = 'connect_refused' | 'timeout' | 'reset' | 'protocol' | 'other';

/** One finished upstream exchange: a request sent to one backend and its response (or failure). */
export interface ExchangeEvent {
  requestId: string;
  route: string;
  /** Route template or learned template; never a raw path. */
  endpoint: string;
  method: string;
  backend: BackendName;
  role: Role;
  /** Upstream status; 0 when no response arrived. */
  status: number;
  failure?: FailureCause;
  /** Epoch ms when the upstream request started. */
  startedAt: number;
  ttfbMs: number;
  totalMs: number;
  requestBytes: number;
  responseBytes: number;
  /** True when this exchange was a fallback retry on legacy after a candidate connect failure. */
  fallback?: boolean;
  /** True when the client aborted before the response finished. */
  clientAborted?: boolean;
}

/** A response captured for comparison. Bodies are raw as received (still content-encoded). */
export interface CapturedResponse {
  backend: BackendName;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** True when the body exceeded the capture cap: the pair is not compared. */
  truncated: boolean;
  ttfbMs: number;
  totalMs: number;
  failure?: FailureCause;
}

/** Both sides of one mirrored request, ready for the comparer. */
export interface ComparisonPairEvent {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  time: number;
  request: { headers: Record<string, string | string[] | undefined>; body: Buffer; truncated: boolean };
  /** The response the client got (legacy in shadow mode, candidate in live mode). */
  served: CapturedResponse;
  /** The mirrored response. */
  mirrored: CapturedResponse;
  /** A second legacy answer (replica backend, or legacy asked twice for noise learning). */
  noise?: CapturedResponse;
}

export type SkipReason = 'sampled_out' | 'unsafe_method' | 'queue_full' | 'body_too_large' | 'timeout' | 'candidate_error' | 'circuit_open';

/** A request that was eligible for comparison but was not compared. */
export interface ComparisonSkippedEvent {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  reason: SkipReason;
  time: number;
}

/** The mirror circuit breaker of one backend changed state. */
export interface MirrorBreakerEvent extends BreakerChange {
  backend: BackendName;
}

/** A request that was fully served; for the access log. */
export interface RequestEvent {
  requestId: string;
  route: string;
  endpoint: string;
  method: string;
  url: string;
  backend: BackendName;
  status: number;
  startedAt: number;
  totalMs: number;
  ttfbMs: number;
  /** The client: the TCP peer, or the address a trusted proxy forwarded for (`trustedProxies`). */
  remoteAddress: string | undefined;
  traceparent: string | undefined;
}

/** One client request on a route being recorded, as the client sent it (and, when asked, as it was answered). */
export interface RecordedEvent {
  route: string;
  /** Epoch ms at arrival. */
  time: number;
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  /** The client's headers as received (hop-by-hop fields included; the recorder drops what it must). */
  headers: Record<string, string | string[] | undefined>;
  /** Empty when `bodyTruncated`: a request over the capture cap is recorded without its body. */
  body: Buffer;
  bodyTruncated: boolean;
  response?: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; truncated: boolean };
}

export const channels = {
  exchange: diagnosticsChannel.channel('cutover:exchange'),
  comparisonPair: diagnosticsChannel.channel('cutover:comparison-pair'),
  comparisonSkipped: diagnosticsChannel.channel('cutover:comparison-skipped'),
  request: diagnosticsChannel.channel('cutover:request'),
  recorded: diagnosticsChannel.channel('cutover:recorded'),
  mirrorBreaker: diagnosticsChannel.channel('cutover:mirror-breaker'),
} as const;
