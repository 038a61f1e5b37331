/**
 * nginx access logs in the "combined" format to recorded traffic:
 *
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 *
 * A log has no request bodies, so only GET and HEAD are imported; other
 * methods are skipped and counted. Lines that are not in the format are
 * reported with their line number and skipped.
 */
import type { TrafficRecord } from './traffic-format.ts';
import type { ImportResult } from './har-import.ts';

const COMBINED = /^(\S+) \S+ (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `10/Oct/2026:13:55:36 +0200` to epoch ms; NaN when it is not that shape. */
export function parseNginxTime(text: string): number {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m || MONTHS[m[2]!] === undefined) return NaN;
  const utc = Date.UTC(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  // Date.UTC rolls 32/Nov over into December; a log with that day is corrupt.
  if (new Date(utc).getUTCDate() !== Number(m[1])) return NaN;
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '+' ? 1 : -1);
  return utc - offset;
}

// nginx escapes " and non-printable bytes as \xHH in logged strings.
function unescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(.)/g, '$1');
}

export interface NginxImportResult extends ImportResult {
  /** Skipped because a log has no body to replay them with, by method. */
  skippedMethods: Record<string, number>;
}

/**
 * @example
 * const { records, skipped, skippedMethods } = importNginx(readFileSync('access.log', 'utf8'), { host: 'shop.example' });
 */
export function importNginx(text: string, options: { host?: string } = {}): NginxImportResult {
  const out: NginxImportResult = { records: [], skipped: [], skippedMethods: {} };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const n = i + 1;
    if (line.trim() === '') continue;
    const m = COMBINED.exec(line);
    if (!m) {
      out.skipped.push({ where: n, reason: 'not in the nginx combined format' });
      continue;
    }
    const time = parseNginxTime(m[3]!);
    if (!Number.isFinite(time)) {
      out.skipped.push({ where: n, reason: `time "${m[3]}" is not [dd/Mon/yyyy:hh:mm:ss +zzzz]` });
      continue;
    }
    const request = unescape(m[4]!);
    const parts = /^([A-Z]+) (\S+)(?: HTTP\/[\d.]+)?$/.exec(request);
    if (!parts) {
      out.skipped.push({ where: n, reason: `request "${request.slice(0, 80)}" is not "METHOD /path HTTP/x"` });
      continue;
    }
    const method = parts[1]!;
    let url = parts[2]!;
    if (method !== 'GET' && method !== 'HEAD') {
      out.skippedMethods[method] = (out.skippedMethods[method] ?? 0) + 1;
      continue;
    }
    // A proxy-style absolute target ("GET http://host/p") is replayed by its path, as logged (no re-encoding).
    if (/^https?:\/\//i.test(url)) url = url.replace(/^https?:\/\/[^/?#]*/i, '') || '/';
    if (!url.startsWith('/')) {
      out.skipped.push({ where: n, reason: `target "${url.slice(0, 80)}" is not a path` });
      continue;
    }
    const headers: TrafficRecord['headers'] = {};
    if (options.host !== undefined) headers.host = options.host;
    const referer = m[7] === undefined ? '-' : unescape(m[7]);
    const agent = m[8] === undefined ? '-' : unescape(m[8]);
    if (referer !== '-') headers.referer = referer;
    if (agent !== '-') headers['user-agent'] = agent;
    out.records.push({ time, route: '', method, url, headers, bodyEncoding: 'utf8' });
  }
  return out;
}
