/**
 * HAR 1.2 (browser devtools, proxies) to recorded traffic: each entry's
 * request method, URL, headers and postData (text, or base64 when the tool
 * says so), and its response when the HAR has one. Entries that cannot be
 * replayed are reported by index and skipped.
 */
import { CutoverError, ErrorCodes } from '../core/errors.ts';
import { encodeBody, recordableHeaders, type HeaderMap, type TrafficRecord } from './traffic-format.ts';

export interface ImportResult {
  records: TrafficRecord[];
  /** What was left out and why: `where` is an entry index (HAR) or a line number (logs). */
  skipped: Array<{ where: number; reason: string }>;
}

interface HarHeader {
  name: string;
  value: string;
}

function headersOf(list: unknown): HeaderMap {
  const raw: Record<string, string | string[]> = {};
  if (!Array.isArray(list)) return {};
  for (const h of list as HarHeader[]) {
    if (typeof h?.name !== 'string' || typeof h.value !== 'string') continue;
    // HTTP/2 pseudo headers (:method, :path…) are already in method and url.
    if (h.name.startsWith(':')) continue;
    const k = h.name.toLowerCase();
    const prev = raw[k];
    raw[k] = prev === undefined ? h.value : [...(Array.isArray(prev) ? prev : [prev]), h.value];
  }
  return recordableHeaders(raw);
}

function bodyOf(text: unknown, encoding: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  return encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

/**
 * @example
 * const { records, skipped } = importHar(readFileSync('session.har', 'utf8'));
 */
export function importHar(text: string): ImportResult {
  let doc: { log?: { entries?: unknown[] } };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new CutoverError(ErrorCodes.INPUT_INVALID, `not a HAR file: ${(err as Error).message}`, { hint: 'export it from the browser devtools Network tab ("Save all as HAR")' });
  }
  const entries = doc?.log?.entries;
  if (!Array.isArray(entries)) throw new CutoverError(ErrorCodes.INPUT_INVALID, 'not a HAR file: log.entries is missing', { hint: 'a HAR 1.2 file is { "log": { "entries": [...] } }' });
  const out: ImportResult = { records: [], skipped: [] };
  entries.forEach((entry, index) => {
    const e = entry as { startedDateTime?: string; request?: Record<string, unknown>; response?: Record<string, unknown> };
    const req = e?.request;
    if (req === undefined || typeof req.method !== 'string' || typeof req.url !== 'string') {
      out.skipped.push({ where: index, reason: 'no request method or url' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      out.skipped.push({ where: index, reason: `url "${req.url}" is not absolute` });
      return;
    }
    const headers = headersOf(req.headers);
    if (headers.host === undefined) headers.host = url.host;
    const time = Date.parse(e.startedDateTime ?? '');
    const record: TrafficRecord = {
      time: Number.isFinite(time) ? time : 0,
      route: '',
      method: req.method.toUpperCase(),
      url: `${url.pathname}${url.search}`,
      headers,
      bodyEncoding: 'utf8',
    };
    const post = req.postData as { text?: unknown; encoding?: unknown; mimeType?: unknown } | undefined;
    const body = bodyOf(post?.text, post?.encoding);
    if (body !== undefined && body.byteLength > 0) {
      Object.assign(record, encodeBody(body));
      if (headers['content-type'] === undefined && typeof post?.mimeType === 'string' && post.mimeType !== '') headers['content-type'] = post.mimeType;
    }
    const res = e.response;
    // Browsers write status 0 for requests that never got an answer.
    if (res !== undefined && typeof res.status === 'number' && res.status > 0) {
      const content = res.content as { text?: unknown; encoding?: unknown } | undefined;
      const resBody = bodyOf(content?.text, content?.encoding) ?? Buffer.alloc(0);
      const resHeaders = headersOf(res.headers);
      // HAR content is already decoded; a Content-Encoding left in would claim otherwise.
      delete resHeaders['content-encoding'];
      record.response = { status: res.status, headers: resHeaders, ...encodeBody(resBody) };
    }
    out.records.push(record);
  });
  return out;
}
