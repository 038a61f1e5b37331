/**
 * JSON.parse that keeps integers beyond 2^53 exact, so two ids that differ in
 * the 18th digit are not reported equal.
 *
 * The reviver with source text access is several times slower than a plain
 * parse, so it only runs when a cheap scan finds a run of 16+ digits. Such
 * a run inside a string (a card-like number) costs the slower parse, never
 * correctness.
 */

// Spelled out: V8 scans for this form many times faster than for \d{16}.
const MAYBE_UNSAFE_INTEGER = new RegExp('\\d'.repeat(16));
const INTEGER_LITERAL = /^-?\d+$/;

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Big integers come back as `bigint`; every other number as a `number`, so
 * `1` and `1.0` are the same value.
 * @example parseJsonLossless('{"id": 12345678901234567891}') // { ok: true, value: { id: 12345678901234567891n } }
 */
export function parseJsonLossless(text: string): JsonParseResult {
  try {
    const value = MAYBE_UNSAFE_INTEGER.test(text) ? JSON.parse(text, keepBigIntegers as never) : JSON.parse(text);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

function keepBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  if (source === undefined || !INTEGER_LITERAL.test(source)) return value;
  return BigInt(source);
}
