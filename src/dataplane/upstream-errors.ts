/**
 * Upstream failures, classified once for counters and gates, and turned into
 * the small JSON error body clients get instead of a stack trace.
 */
import type { ServerResponse } from 'node:http';
import type { BackendName } from '../config/schema.ts';
import type { FailureCause } from './events.ts';
import { REQUEST_ID_HEADER } from './request-context.ts';

export function classifyFailure(err: unknown): FailureCause {
  const code = (err as { code?: string } | null)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'connect_refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') return 'protocol';
      if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'protocol';
      return 'other';
  }
}

const MESSAGES: Record<FailureCause, string> = {
  connect_refused: 'could not connect to the backend',
  timeout: 'the backend did not answer in time',
  reset: 'the backend closed the connection',
  protocol: 'the backend sent an invalid response',
  other: 'the backend request failed',
};

/** Sends 502 (or 504 for timeouts) naming the backend and the request id. */
export function sendUpstreamError(res: ServerResponse, backend: BackendName, requestId: string, cause: FailureCause): number {
  const status = cause === 'timeout' ? 504 : 502;
  const body = JSON.stringify({
    error: cause === 'timeout' ? 'upstream_timeout' : 'upstream_unavailable',
    message: MESSAGES[cause],
    backend,
    cause,
    requestId,
  });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    [REQUEST_ID_HEADER]: requestId,
  });
  res.end(body);
  return status;
}
