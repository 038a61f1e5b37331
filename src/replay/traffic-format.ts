/**
 * The recorded-traffic file format shared by `cutover record`, the importers
 * and `cutover replay`: NDJSON, one request per line. Bodies are kept as
 * UTF-8 text when they are text and base64 otherwise, so a file stays
 * readable (and greppable) for the common JSON case and lossless for the rest.
 */
import { isUtf8 } from 'node:buffer';

export type BodyEncoding = 'utf8' | 'base64';
export type HeaderMap = Record<string, string | string[]>;

export interface RecordedResponse {
  status: number;
  headers: HeaderMap;
  body: string;
  bodyEncoding: BodyEncoding;
  /** The response was larger than the capture cap: its body is not in the file. */
  bodyTruncated?: boolean;
}

export interface TrafficRecord {
  /** Epoch ms when the request arrived (or was logged). */
  time: number;
  /** Route id at record time; informational, replay matches routes again. */
  route: string;
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  headers: HeaderMap;
  body?: string;
  bodyEncoding: BodyEncoding;
  /** The request body was over the capture cap (or incomplete) and is not in the file. */
  bodyTruncated?: boolean;
  response?: RecordedResponse;
}

/**
 * @example encodeBody(Buffer.from('{"a":1}')) // { body: '{"a":1}', bodyEncoding: 'utf8' }
 */
export function encodeBody(bytes: Uint8Array): { body: string; bodyEncoding: BodyEncoding } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Control characters other than tab/newline/CR would make the line unreadable; treat them as binary.
  if (isUtf8(buf)) {
    const text = buf.toString('utf8');
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) return { body: text, bodyEncoding: 'utf8' };
  }
  return { body: buf.toString('base64'), bodyEncoding: 'base64' };
}

export function decodeBody(body: string | undefined, encoding: BodyEncoding): Buffer {
  if (body === undefined || body === '') return Buffer.alloc(0);
  return encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Hop-by-hop and framing fields: meaningless in a file, and wrong once a body is redacted or re-sent. */
export const UNRECORDED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

export function recordableHeaders(headers: Record<string, string | string[] | undefined>): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) {
    const v = headers[name];
    const lower = name.toLowerCase();
    if (v === undefined || UNRECORDED_HEADERS.has(lower)) continue;
    out[lower] = v;
  }
  return out;
}

const METHOD = /^[A-Z][A-Z0-9_-]*$/;

function isHeaderMap(v: unknown): v is HeaderMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const x of Object.values(v as Record<string, unknown>)) {
    if (typeof x === 'string') continue;
    if (Array.isArray(x) && x.every((y) => typeof y === 'string')) continue;
    return false;
  }
  return true;
}

/**
 * Parses and checks one line; throws an Error saying what is wrong (the
 * caller adds the file and line number).
 * @example parseTrafficLine('{"time":1,"route":"r","method":"GET","url":"/","headers":{},"bodyEncoding":"utf8"}')
 */
export function parseTrafficLine(line: string): TrafficRecord {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
  const r = v as Record<string, unknown>;
  if (typeof r.method !== 'string' || !METHOD.test(r.method)) throw new Error(`"method" must be an HTTP method, got ${JSON.stringify(r.method)}`);
  if (typeof r.url !== 'string' || !r.url.startsWith('/')) throw new Error(`"url" must be a path starting with /, got ${JSON.stringify(r.url)}`);
  if (r.headers !== undefined && !isHeaderMap(r.headers)) throw new Error('"headers" must be an object of strings (or string arrays)');
  if (r.time !== undefined && typeof r.time !== 'number') throw new Error('"time" must be epoch milliseconds');
  const enc = r.bodyEncoding ?? 'utf8';
  if (enc !== 'utf8' && enc !== 'base64') throw new Error(`"bodyEncoding" must be utf8 or base64, got ${JSON.stringify(enc)}`);
  if (r.body !== undefined && typeof r.body !== 'string') throw new Error('"body" must be a string');
  const out: TrafficRecord = {
    time: (r.time as number | undefined) ?? 0,
    route: typeof r.route === 'string' ? r.route : '',
    method: r.method,
    url: r.url,
    headers: (r.headers as HeaderMap | undefined) ?? {},
    bodyEncoding: enc,
  };
  if (r.body !== undefined) out.body = r.body as string;
  if (r.bodyTruncated === true) out.bodyTruncated = true;
  if (r.response !== undefined) {
    const res = r.response as Record<string, unknown>;
    if (res === null || typeof res !== 'object' || typeof res.status !== 'number') throw new Error('"response.status" must be a number');
    out.response = {
      status: res.status,
      headers: isHeaderMap(res.headers) ? res.headers : {},
      body: typeof res.body === 'string' ? res.body : '',
      bodyEncoding: res.bodyEncoding === 'base64' ? 'base64' : 'utf8',
    };
    if (res.bodyTruncated === true) out.response.bodyTruncated = true;
  }
  return out;
}

/** One line, without the newline. */
export function formatTrafficLine(record: TrafficRecord): string {
  return JSON.stringify(record);
}
