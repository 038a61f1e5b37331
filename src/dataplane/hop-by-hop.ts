/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) belong to one connection and are never
 * forwarded. `expect` is handled by the front server (it answers 100-continue
 * itself), so it is not forwarded either.
 */
export const HOP_BY_HOP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
]);

export const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Connection options that are not field names: they never add a field to drop. */
const CONNECTION_OPTIONS = new Set(['', 'close', 'keep-alive', 'upgrade']);

/** Extra field names a `Connection` header marks as hop-by-hop, lower-cased. */
export function connectionTokens(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // Nearly every message says just `keep-alive` or `close`: answer without splitting.
  if (value.length <= 10 && value.indexOf(',') === -1 && CONNECTION_OPTIONS.has(value.trim().toLowerCase())) return undefined;
  let out: Set<string> | undefined;
  for (const raw of value.split(',')) {
    const token = raw.trim().toLowerCase();
    if (!CONNECTION_OPTIONS.has(token)) (out ??= new Set()).add(token);
  }
  return out;
}
