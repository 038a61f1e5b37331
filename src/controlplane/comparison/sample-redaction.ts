/**
 * Stored samples are what a person opens to debug a mismatch, and they are
 * the only place request and response bodies outlive the request. Secrets
 * are replaced by keyed hashes before anything leaves the comparer worker:
 * headers and bodies through src/compare's `redact`, and the values carried
 * on differences too, since a difference at `headers.authorization` or at a
 * redacted body path would otherwise leak what the sample hides.
 */
import { ALWAYS_REDACTED_HEADERS, decodeContent, keyedHash, parseJsonPath, redact, type Difference } from '../../compare/index.ts';

export interface SampleRedaction {
  key: string;
  headers: readonly string[];
  paths: readonly string[];
}

/** Bodies longer than this are cut in samples: a sample explains a mismatch, it is not an archive. */
export const SAMPLE_BODY_LIMIT = 64 * 1024;

export interface SampleBody {
  encoding: 'utf8' | 'base64';
  text: string;
  /** Original (decoded) size when the text was cut. */
  truncatedFrom?: number;
}

export interface SampleMessage {
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  body: SampleBody | null;
}

export interface DiffSample {
  requestId: string;
  time: number;
  request: SampleMessage & { method: string; url: string };
  legacy: SampleMessage;
  candidate: SampleMessage;
  differences: Difference[];
}

interface RawMessage {
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/**
 * @example
 * const sample = buildSample({ requestId, time, method: 'GET', url: '/p?id=1', request, legacy, candidate, differences }, redaction);
 */
export function buildSample(
  input: { requestId: string; time: number; method: string; url: string; request: RawMessage; legacy: RawMessage; candidate: RawMessage; differences: readonly Difference[] },
  redaction: SampleRedaction,
): DiffSample {
  const request = redactMessage(input.request, redaction);
  return {
    requestId: input.requestId,
    time: input.time,
    request: { method: input.method, url: input.url, headers: request.headers, body: request.body },
    legacy: redactMessage(input.legacy, redaction),
    candidate: redactMessage(input.candidate, redaction),
    differences: input.differences.map((d) => redactDifference(d, redaction)),
  };
}

function redactMessage(message: RawMessage, redaction: SampleRedaction): SampleMessage {
  const redacted = redact({ headers: message.headers, body: message.body }, { key: redaction.key, headers: redaction.headers, paths: redaction.paths });
  const out: SampleMessage = { headers: redacted.headers, body: sampleBody(redacted.headers, redacted.body) };
  if (message.status !== undefined) out.status = message.status;
  return out;
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string {
  for (const key in headers) {
    if (key.toLowerCase() !== name) continue;
    const v = headers[key];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  }
  return '';
}

// Stored decoded, so a gzip body is readable in the API; a body that cannot
// be decoded is kept as base64 of what was received.
function sampleBody(headers: Record<string, string | string[] | undefined>, body: Uint8Array): SampleBody | null {
  if (body.byteLength === 0) return null;
  const encoding = headerValue(headers, 'content-encoding').toLowerCase();
  const decoded = encoding === '' || encoding === 'identity' ? { ok: true as const, bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength) } : decodeContent(body, encoding, 32 * 1024 * 1024);
  const bytes = decoded.ok ? decoded.bytes : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const cut = bytes.byteLength > SAMPLE_BODY_LIMIT ? bytes.subarray(0, SAMPLE_BODY_LIMIT) : bytes;
  const text = cut.toString('utf8');
  const isText = decoded.ok && !text.includes('\uFFFD') && !/[\u0000-\u0008\u000e-\u001f]/.test(text);
  const out: SampleBody = isText ? { encoding: 'utf8', text } : { encoding: 'base64', text: cut.toString('base64') };
  if (cut !== bytes) out.truncatedFrom = bytes.byteLength;
  return out;
}

/** Hides the values a difference carries when its header or body path is redacted. */
export function redactDifference(d: Difference, redaction: SampleRedaction): Difference {
  if (!isRedactedLocation(d.path, redaction)) return d;
  const out: Difference = { ...d };
  if (d.legacy !== undefined) out.legacy = keyedHash(redaction.key, stringOf(d.legacy));
  if (d.candidate !== undefined) out.candidate = keyedHash(redaction.key, stringOf(d.candidate));
  return out;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isRedactedLocation(path: string, redaction: SampleRedaction): boolean {
  if (path.startsWith('headers.')) {
    const name = path.slice('headers.'.length).toLowerCase();
    return [...ALWAYS_REDACTED_HEADERS, ...redaction.headers].some((n) => {
      const lower = n.toLowerCase();
      return lower.endsWith('*') ? name.startsWith(lower.slice(0, -1)) : name === lower;
    });
  }
  if (!path.startsWith('$') || redaction.paths.length === 0) return false;
  return underRedactedPath(path, redaction);
}

// src/compare exposes redaction of whole bodies only, so a concrete path is
// tested by redacting a marker document built along it: if the marker
// changes, some configured path covers this location (or one above it).
function underRedactedPath(path: string, redaction: SampleRedaction): boolean {
  let segments;
  try {
    segments = parseJsonPath(path);
  } catch {
    return true;
  }
  const MARK = '\u0000cutover-marker';
  let doc: unknown = MARK;
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i]!;
    if (s.type === 'name') doc = { [s.name]: doc };
    else if (s.type === 'index') {
      // A deep index would build a huge marker; hiding the value is the safe answer.
      if (s.index > 10_000) return true;
      const arr: unknown[] = new Array(s.index + 1).fill(null);
      arr[s.index] = doc;
      doc = arr;
    } else return true;
  }
  const body = Buffer.from(JSON.stringify(doc));
  const out = redact({ headers: { 'content-type': 'application/json' }, body }, { key: redaction.key, paths: redaction.paths });
  return !Buffer.from(out.body).toString('utf8').includes('cutover-marker');
}
