/**
 * Recording a route wraps its compiled serve function, whatever its mode: a
 * sampled request gets a passive tap on its body and (when asked) on the
 * response the client receives, and is published on `channels.recorded`
 * once the client side closes. The tap sits on the request and response
 * objects of that one request instead of inside the exchanges, so the mode
 * serves (forward, canary, shadow/live mirroring, tester override) stay
 * exactly as they are, and a route that is not recorded never sees this file.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { channels, type RecordedEvent } from './events.ts';
import { BodyCapture } from './proxy-exchange.ts';

export interface RecordSettings {
  /** Fraction of the route's requests recorded, 0 < rate <= 1. */
  rate: number;
  withResponse: boolean;
  /** Bytes of request (and response) body kept; a larger body is recorded without it. */
  captureLimit: number;
}

type Serve = (req: IncomingMessage, res: ServerResponse, pathname: string) => void;
type AnyFn = (...args: unknown[]) => unknown;
type Headers = Record<string, string | string[] | undefined>;

const EMPTY = Buffer.alloc(0);

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

function addHeader(out: Headers, name: string, value: string | string[]): void {
  const k = name.toLowerCase();
  const prev = out[k];
  if (prev === undefined) out[k] = value;
  else out[k] = [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(value) ? value : [value])];
}

// writeHead takes headers as an object, a flat [name, value, …] list or a list of pairs.
function headersOf(res: ServerResponse, given: unknown): Headers {
  const out: Headers = {};
  const set: OutgoingHttpHeaders = res.getHeaders();
  for (const name in set) {
    const v = set[name];
    if (v !== undefined) addHeader(out, name, Array.isArray(v) ? v.map(String) : String(v));
  }
  if (Array.isArray(given)) {
    if (given.length > 0 && Array.isArray(given[0])) for (const [k, v] of given as Array<[string, string]>) addHeader(out, k, String(v));
    else for (let i = 0; i + 1 < given.length; i += 2) addHeader(out, String(given[i]), String(given[i + 1]));
  } else if (given !== null && typeof given === 'object') {
    for (const [k, v] of Object.entries(given as Record<string, unknown>)) if (v !== undefined) addHeader(out, k, Array.isArray(v) ? v.map(String) : String(v));
  }
  return out;
}

function tap(req: IncomingMessage, res: ServerResponse, route: string, settings: RecordSettings): void {
  const time = Date.now();
  const requestBody = new BodyCapture(settings.captureLimit);
  // Every body chunk the HTTP parser delivers goes through push, whoever
  // consumes the stream afterwards (undici, or the shadow tee).
  const push = req.push as AnyFn;
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    const b = toBuffer(chunk, encoding);
    if (b !== undefined) requestBody.push(b);
    return push.call(this, chunk, encoding) as boolean;
  } as IncomingMessage['push'];

  let response: { headers: Headers; body: BodyCapture } | undefined;
  if (settings.withResponse) {
    const captured = { headers: {} as Headers, body: new BodyCapture(settings.captureLimit) };
    response = captured;
    const writeHead = res.writeHead as AnyFn;
    const write = res.write as AnyFn;
    const end = res.end as AnyFn;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      // (status, headers) or (status, reason, headers); the reason may be passed as undefined.
      captured.headers = headersOf(this, typeof args[1] === 'object' && args[1] !== null ? args[1] : args[2]);
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      const b = toBuffer(chunk, rest[0]);
      if (b !== undefined) captured.body.push(b);
      return write.call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      const b = toBuffer(chunk, rest[0]);
      if (b !== undefined) captured.body.push(b);
      return end.call(this, chunk, ...rest);
    } as ServerResponse['end'];
  }

  res.once('close', () => {
    if (!channels.recorded.hasSubscribers) return;
    // A body the client had not finished sending is as incomplete as one over the cap.
    const truncated = requestBody.truncated || !req.complete;
    const event: RecordedEvent = {
      route,
      time,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: truncated ? EMPTY : requestBody.body(),
      bodyTruncated: truncated,
    };
    if (response !== undefined) {
      const body = response.body;
      event.response = { status: res.statusCode, headers: response.headers, body: body.truncated ? EMPTY : body.body(), truncated: body.truncated };
    }
    channels.recorded.publish(event);
  });
}

/**
 * @example
 * serve = createRecordingServe(serve, 'checkout', { rate: 0.05, withResponse: true, captureLimit: 1 << 20 });
 */
export function createRecordingServe(serve: Serve, route: string, settings: RecordSettings): Serve {
  const rate = settings.rate;
  return (req, res, pathname) => {
    if (rate >= 1 || Math.random() < rate) tap(req, res, route, settings);
    serve(req, res, pathname);
  };
}
