/**
 * JSON.parse that keeps integers beyond 2^53 exact, so two ids that differ in
 * the 18th digit are not reported equal.
 *
 * A reviver with source text access would do, but it runs for every value
 * and makes a parse about six times slower. Instead: a cheap scan for a run
 * of 16 digits says whether an unsafe integer can exist at all; only then a
 * scanner that knows where strings are finds the unsafe integer literals,
 * they are rewritten as marked strings, the text goes through the native
 * parser, and the marked strings become bigints in one walk.
 */

// Spelled out: V8 scans for this form many times faster than for \d{16}.
const MAYBE_UNSAFE_INTEGER = new RegExp('\\d'.repeat(16));
// A NUL cannot appear raw in a JSON string, and no real API sends a string
// that starts with NUL followed by this tag.
const MARK = '\u0000cutover-bigint:';
const MARK_ESCAPED = '\\u0000cutover-bigint:';

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Big integers come back as `bigint`; every other number as a `number`, so
 * `1` and `1.0` are the same value.
 * @example parseJsonLossless('{"id": 12345678901234567891}') // { ok: true, value: { id: 12345678901234567891n } }
 */
export function parseJsonLossless(text: string): JsonParseResult {
  try {
    if (!MAYBE_UNSAFE_INTEGER.test(text)) return { ok: true, value: JSON.parse(text) };
    const spans = findUnsafeIntegers(text);
    if (spans.length === 0) return { ok: true, value: JSON.parse(text) };
    let marked = '';
    let last = 0;
    for (let n = 0; n < spans.length; n += 2) {
      marked += `${text.slice(last, spans[n])}"${MARK_ESCAPED}${text.slice(spans[n], spans[n + 1])}"`;
      last = spans[n + 1]!;
    }
    marked += text.slice(last);
    return { ok: true, value: restoreBigIntegers(JSON.parse(marked)) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** [start, end, start, end, …] of integer literals outside strings that doubles cannot hold exactly. */
function findUnsafeIntegers(text: string): number[] {
  const spans: number[] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string, honouring escapes
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let integer = true;
      i++;
      while (i < length) {
        const d = text.charCodeAt(i);
        if (d >= 0x30 && d <= 0x39) i++;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          integer = false;
          i++;
        } else break;
      }
      if (integer && i - start >= 16 && !Number.isSafeInteger(Number(text.slice(start, i)))) spans.push(start, i);
      continue;
    }
    i++;
  }
  return spans;
}

function restoreBigIntegers(value: unknown): unknown {
  if (typeof value === 'string') return value.charCodeAt(0) === 0 && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const el = value[i];
      if (typeof el === 'string' || (el !== null && typeof el === 'object')) value[i] = restoreBigIntegers(el);
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const el = obj[key];
    if (typeof el === 'string' || (el !== null && typeof el === 'object')) obj[key] = restoreBigIntegers(el);
  }
  return value;
}
