/**
 * Sends one replayed request to one backend over a keep-alive undici Pool and
 * collects the whole answer, as a comparable CapturedResponse.
 */
import { Pool, type Dispatcher } from 'undici';
import type { BackendName } from '../config/schema.ts';
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import type { CapturedResponse, FailureCause } from '../dataplane/events.ts';

export interface ReplayRequest {
  method: string;
  url: string;
  /** Flattened [name, value, …] without Host and framing fields. */
  headers: string[];
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
 * const legacy = createBackendClient('legacy', 'http://127.0.0.1:8001', { connections: 64 });
 * const answer = await legacy.send({ method: 'GET', url: '/users/1', headers: [], body: null });
 */
export function createBackendClient(name: BackendName, url: string, options: { connections: number; timeoutMs?: number }): BackendClient {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `--${name} "${url}" is not a URL`, { hint: 'e.g. http://127.0.0.1:8001' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `--${name} "${url}" is not http(s)`, { hint: 'e.g. http://127.0.0.1:8001' });
  }
  const prefix = parsed.pathname.replace(/\/+$/, '');
  const timeout = options.timeoutMs ?? 30_000;
  const pool = new Pool(parsed.origin, { connections: options.connections, pipelining: 1, headersTimeout: timeout, bodyTimeout: timeout, keepAliveTimeout: 30_000 });
  return {
    name,
    url,
    send(request) {
      return new Promise<CapturedResponse>((resolve) => {
        pool.dispatch(
          { path: prefix + request.url, method: request.method as Dispatcher.HttpMethod, headers: request.headers, body: request.body },
          new Collector(name, resolve),
        );
      });
    },
    close: () => pool.close(),
  };
}
