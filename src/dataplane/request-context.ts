/**
 * What the data plane knows about one client request, built once and shared by
 * the primary exchange, any mirrored exchanges and the published events.
 */
import type { IncomingMessage } from 'node:http';
import { createRequestId, createTraceparent } from '../core/ids.ts';
import { peerAddressOf, type ClientAddressOf } from './client-address.ts';
import { connectionTokens, HOP_BY_HOP_REQUEST } from './hop-by-hop.ts';
import type { Upstream } from './upstream-pool.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

export interface RequestContext {
  readonly requestId: string;
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly pathname: string;
  readonly routeId: string;
  readonly endpoint: string;
  /** Client Host header, for `host: preserve`. */
  readonly clientHost: string | undefined;
  /** Headers to forward, flattened [name, value, …], without Host and hop-by-hop fields. */
  readonly headers: string[];
  readonly hasBody: boolean;
  /** Declared request body size (Content-Length); 0 for chunked uploads, whose size is not known up front. */
  readonly requestBytes: number;
  /** The client: the TCP peer, or the address a trusted proxy forwarded for (`trustedProxies`). */
  readonly remoteAddress: string | undefined;
  readonly traceparent: string;
  /** performance.now() at arrival. */
  readonly t0: number;
  /** Date.now() at arrival. */
  readonly startedAt: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export function pathnameOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Builds the forwarded header list from the raw headers in one pass: drops
 * hop-by-hop fields and the ones `Connection` names, strips the tester
 * override header, appends X-Forwarded-*, and adds a request id and a
 * traceparent when the client sent none.
 */
export function createRequestContext(
  req: IncomingMessage,
  pathname: string,
  routeId: string,
  endpoint: string,
  stripHeader: string | undefined,
  clientAddressOf: ClientAddressOf = peerAddressOf,
): RequestContext {
  const raw = req.rawHeaders;
  const dropped = connectionTokens(req.headers.connection);
  const headers: string[] = [];
  let requestId: string | undefined;
  let traceparent: string | undefined;
  let xff: string | undefined;
  let xfp: string | undefined;
  let xfh: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_REQUEST.has(lower) || (dropped !== undefined && dropped.has(lower)) || lower === stripHeader) continue;
    const value = raw[i + 1]!;
    switch (lower) {
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        xfp = xfp === undefined ? value : `${xfp}, ${value}`;
        continue;
      case 'x-forwarded-host':
        xfh = xfh === undefined ? value : `${xfh}, ${value}`;
        continue;
      case REQUEST_ID_HEADER:
        requestId ??= value;
        break;
      case 'traceparent':
        traceparent ??= value;
        break;
    }
    headers.push(name, value);
  }
  const remoteAddress = req.socket.remoteAddress;
  const clientHost = req.headers.host;
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  headers.push('x-forwarded-for', xff === undefined ? (remoteAddress ?? '') : `${xff}, ${remoteAddress ?? ''}`);
  headers.push('x-forwarded-proto', xfp === undefined ? proto : `${xfp}, ${proto}`);
  if (clientHost !== undefined) headers.push('x-forwarded-host', xfh === undefined ? clientHost : `${xfh}, ${clientHost}`);
  if (requestId === undefined) {
    requestId = createRequestId();
    headers.push(REQUEST_ID_HEADER, requestId);
  }
  if (traceparent === undefined) {
    traceparent = createTraceparent();
    headers.push('traceparent', traceparent);
  }
  // Host goes last, so a backend that keeps the client's Host can take this list as it is.
  if (clientHost !== undefined) headers.push('host', clientHost);
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  return {
    requestId,
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    pathname,
    routeId,
    endpoint,
    clientHost,
    headers,
    hasBody: te !== undefined || (cl !== undefined && cl !== '0'),
    requestBytes: cl === undefined ? 0 : Number(cl) || 0,
    remoteAddress: clientAddressOf === peerAddressOf ? remoteAddress : clientAddressOf(req),
    traceparent,
    t0: performance.now(),
    startedAt: Date.now(),
  };
}

/**
 * The header list for one upstream: the forwarded headers (which end with the
 * client's Host), with the backend's Host policy and its own extra headers
 * applied. Backends that keep the client's Host and add nothing share the
 * list, so the common case copies nothing.
 */
export function headersFor(ctx: RequestContext, upstream: Upstream): string[] {
  const rewriteHost = upstream.hostHeader;
  const extra = upstream.extraHeaders;
  if (rewriteHost === undefined && extra.length === 0) return ctx.headers;
  const src = ctx.headers;
  // A backend's own header replaces the client's (e.g. the rewrite's Authorization).
  const names = upstream.extraHeaderNames;
  const out: string[] = [];
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i]!;
    if (rewriteHost !== undefined && name === 'host' && i === src.length - 2) continue;
    if (names.size > 0 && names.has(name.toLowerCase())) continue;
    out.push(name, src[i + 1]!);
  }
  if (rewriteHost !== undefined) out.push('host', rewriteHost);
  for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
  return out;
}
