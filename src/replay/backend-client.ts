/**
 * Sends one replayed request to one backend over a keep-alive undici Pool and
 * collects the whole answer, as a comparable CapturedResponse. The pool comes
 * from the data plane's createUpstream, so a backend's URL prefix, Host
 * policy, extra headers, timeouts and TLS settings apply to a replayed
 * request exactly as to a proxied one.
 */
import type { Dispatcher } from 'undici';
import type { BackendConfig, BackendName } from '../config/schema.ts';
import type { CapturedResponse, FailureCause } from '../dataplane/events.ts';
import { createUpstream } from '../dataplane/upstream-pool.ts';

export interface ReplayRequest {
  method: string;
  url: string;
  /** Flattened [name, value, …] without Host and framing fields. */
  headers: string[];
  /** The client's Host, sent when the backend's policy is `preserve`. */
  host?: string;
  body: Buffer | null;
}

export interface BackendClient {
  readonly name: BackendName;
  readonly url: string;
  send(request: ReplayRequest): Promise<CapturedResponse>;
  close(): Promise<void>;
}

function causeOf(err: unknown): FailureCause {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED') return 'connect_refused';
  if (code.includes('TIMEOUT')) return 'timeout';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'reset';
  if (code.startsWith('HPE_')) return 'protocol';
  return 'other';
}

/** Collects a response body into one Buffer without a stream per request. */
class Collector implements Dispatcher.DispatchHandler {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  chunks: Buffer[] = [];
  size = 0;
  t0 = performance.now();
  ttfb = 0;
  readonly backend: BackendName;
  readonly resolve: (r: CapturedResponse) => void;

  constructor(backend: BackendName, resolve: (r: CapturedResponse) => void) {
    this.backend = backend;
    this.resolve = resolve;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    this.ttfb = performance.now() - this.t0;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.resolve({ backend: this.backend, status: this.status, headers: this.headers, body, truncated: false, ttfbMs: this.ttfb, totalMs: performance.now() - this.t0 });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.resolve({ backend: this.backend, status: 0, headers: {}, body: Buffer.alloc(0), truncated: false, ttfbMs: this.ttfb, totalMs: performance.now() - this.t0, failure: causeOf(err) });
  }
}

/**
 * @example
 * const legacy = createBackendClient('legacy', config.backends.legacy, { connections: 64 });
 * const answer = await legacy.send({ method: 'GET', url: '/users/1', headers: [], body: null });
 */
export function createBackendClient(name: BackendName, backend: BackendConfig, options: { connections: number }): BackendClient {
  const upstream = createUpstream(name, backend, { connections: options.connections });
  const extra = upstream.extraHeaders;
  const headersFor = (request: ReplayRequest): string[] => {
    const host = upstream.hostHeader ?? request.host;
    if (host === undefined && extra.length === 0) return request.headers;
    const out: string[] = [];
    const src = request.headers;
    // A backend's own header replaces the recorded one (e.g. the rewrite's Authorization).
    for (let i = 0; i < src.length; i += 2) if (!upstream.extraHeaderNames.has(src[i]!.toLowerCase())) out.push(src[i]!, src[i + 1]!);
    if (host !== undefined) out.push('host', host);
    for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
    return out;
  };
  return {
    name,
    url: backend.url,
    send(request) {
      return new Promise<CapturedResponse>((resolve) => {
        upstream.pool.dispatch(
          { path: upstream.pathPrefix + request.url, method: request.method as Dispatcher.HttpMethod, headers: headersFor(request), body: request.body },
          new Collector(name, resolve),
        );
      });
    },
    close: () => upstream.pool.close(),
  };
}
