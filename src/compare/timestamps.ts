/**
 * Reads the many ways two backends write the same instant, so a rewrite that
 * moves from ISO-8601 to epoch milliseconds (or changes zone or precision)
 * is not reported as a change in meaning.
 */

// Date, optional time with optional fraction, optional zone. Without a zone
// the instant is read as UTC: two servers in different local zones would
// otherwise never agree, and UTC is what APIs mean far more often than not.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

// Epoch magnitudes are told apart by size: seconds stay under 1e11 until the
// year 5138, milliseconds pass 1e11 in 1973, microseconds 1e14 in 1973 and
// nanoseconds 1e17 in 1973.
const MS_FROM = 1e11;
const US_FROM = 1e14;
const NS_FROM = 1e17;

// Auto-detection only trusts numbers that are plausible "now-ish" instants:
// 2001-09-09 to 2286-11-20 in seconds or milliseconds. Any other number is a
// count or a price and is compared as a number.
const AUTO_SECONDS_MIN = 1e9;
const AUTO_SECONDS_MAX = 1e10;
const AUTO_MS_MIN = 1e12;
const AUTO_MS_MAX = 1e13;

/**
 * Epoch milliseconds (fractional below a millisecond) for an ISO-8601 string,
 * an HTTP date, an epoch number in s/ms/µs/ns, or a numeric string of those;
 * undefined when the value is not a timestamp.
 * @example
 * parseTimestamp('2024-01-01T01:00:00+01:00') // 1704067200000
 * parseTimestamp(1704067200)                  // 1704067200000
 * parseTimestamp('1704067200000')             // 1704067200000
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return fromEpochNumber(value);
  if (typeof value === 'bigint') return fromEpochNumber(Number(value));
  if (typeof value !== 'string') return undefined;
  const iso = parseIso8601(value);
  if (iso !== undefined) return iso;
  if (NUMERIC.test(value)) return fromEpochNumber(Number(value));
  if (HTTP_DATE.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * Used when `timestamps.auto` is on: only an ISO-8601 string paired with
 * another ISO-8601 string or with a plausible epoch number is read as a time.
 * @example
 * parseAutoTimestampPair('2024-01-01T00:00:00Z', 1704067200) // [1704067200000, 1704067200000]
 * parseAutoTimestampPair(42, 43)                             // undefined
 */
export function parseAutoTimestampPair(a: unknown, b: unknown): [number, number] | undefined {
  const aIso = typeof a === 'string' ? parseIso8601(a) : undefined;
  const bIso = typeof b === 'string' ? parseIso8601(b) : undefined;
  if (aIso === undefined && bIso === undefined) return undefined;
  const left = aIso ?? plausibleEpoch(a);
  const right = bIso ?? plausibleEpoch(b);
  if (left === undefined || right === undefined) return undefined;
  return [left, right];
}

function plausibleEpoch(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.test(value) ? Number(value) : undefined;
  if (n === undefined) return undefined;
  if (n >= AUTO_SECONDS_MIN && n < AUTO_SECONDS_MAX) return n * 1000;
  if (n >= AUTO_MS_MIN && n < AUTO_MS_MAX) return n;
  return undefined;
}

function fromEpochNumber(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  const abs = Math.abs(n);
  if (abs >= NS_FROM) return n / 1e6;
  if (abs >= US_FROM) return n / 1e3;
  if (abs >= MS_FROM) return n;
  return n * 1000;
}

/**
 * @example parseIso8601('2024-01-01T00:00:00.5Z') // 1704067200500
 */
export function parseIso8601(text: string): number | undefined {
  if (text.length < 10 || text.length > 40) return undefined;
  const m = ISO_8601.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  if (m[7] !== undefined) ms += Number(`0.${m[7]}`) * 1000;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0);
    ms -= sign * offsetMinutes * 60_000;
  }
  return ms;
}
