/**
 * Recognises strings that are identifiers rather than vocabulary: they vary
 * per request, so they must never become a metric label or a grouping key.
 */

/** `id` integer, `uuid`, `hex` digest (16+ hex digits), `key` (base58-like token). */
export type IdentifierShape = 'id' | 'uuid' | 'hex' | 'key';

const INTEGER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^(?:[0-9a-f]{16,}|[0-9A-F]{16,})$/;
// Base58 leaves out 0, O, I and l. A random token of 20+ such characters
// almost surely mixes digits, upper and lower case; requiring all three keeps
// long words and camelCase names out.
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{20,}$/;
const HAS_DIGIT = /[0-9]/;
const HAS_UPPER = /[A-Z]/;
const HAS_LOWER = /[a-z]/;

/**
 * @example
 * classifyIdentifier('123')                                  // 'id'
 * classifyIdentifier('0b7e5a0c-1f0e-4d5a-9c1e-2b3f4a5b6c7d') // 'uuid'
 * classifyIdentifier('9f86d081884c7d659a2feaa0c55ad015')     // 'hex'
 * classifyIdentifier('So11111111111111111111111111111111111111112') // 'key'
 * classifyIdentifier('settings')                             // undefined
 */
export function classifyIdentifier(segment: string): IdentifierShape | undefined {
  const len = segment.length;
  if (len === 0) return undefined;
  const first = segment.charCodeAt(0);
  if (first >= 48 && first <= 57 && INTEGER.test(segment)) return 'id';
  if (len === 36 && UUID.test(segment)) return 'uuid';
  if (len >= 16 && HEX.test(segment)) return 'hex';
  if (len >= 20 && BASE58.test(segment) && HAS_DIGIT.test(segment) && HAS_UPPER.test(segment) && HAS_LOWER.test(segment)) return 'key';
  return undefined;
}
