/**
 * Redaction of stored samples. Secrets are replaced by a keyed hash
 * (HMAC-SHA256 with a per-installation key, first 16 hex digits) instead of
 * a fixed mask, so two equal tokens still look equal when a mismatch is
 * investigated, while the hash cannot be reversed or checked without the key.
 *
 * Authorization, Proxy-Authorization, Cookie and Set-Cookie are always
 * redacted. JSON and form bodies have configured paths redacted; other bodies
 * are left as they are (a path means nothing in them).
 */
import { createHmac } from 'node:crypto';
import { normaliseHeaders, isJsonMediaType, parseMediaType } from './headers.ts';
import { parseJsonLossless } from './json-parse.ts';
import { parseJsonPath } from './json-path.ts';
import { decodeContent } from './normalise.ts';
import { compilePathAutomaton, stepPath, type AutomatonState } from './path-automaton.ts';
import { parseFormFields } from './form-diff.ts';

export const ALWAYS_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

export const REDACTED_PREFIX = 'redacted:hmac:';

export interface RedactOptions {
  /** Per-installation secret; the same key gives the same hashes. */
  key: string | Uint8Array;
  /** More header names, case-insensitive; a trailing * matches a prefix. */
  headers?: readonly string[];
  /** Body paths (rule syntax) whose values are replaced in JSON and form bodies. */
  paths?: readonly string[];
  /** Largest decoded body handled; larger encoded bodies are dropped rather than stored unredacted. Default 32 MiB. */
  maxDecodedBytes?: number;
}

interface Redactable {
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

const JSON_RAW = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * @example keyedHash('k', 'secret-token') // 'redacted:hmac:3f1c…' (16 hex digits)
 */
export function keyedHash(key: string | Uint8Array, value: string): string {
  return REDACTED_PREFIX + createHmac('sha256', key).update(value).digest('hex').slice(0, 16);
}

/**
 * Returns a copy with secrets replaced; the input is not modified. A body
 * whose paths were redacted is returned decoded (Content-Encoding removed,
 * Content-Length updated).
 * @example
 * const stored = redact(pair.served, { key: installationKey, headers: ['x-api-key'], paths: ['$..password', '$.card.number'] });
 */
export function redact<T extends Redactable>(sample: T, options: RedactOptions): T {
  const headerNames = [...ALWAYS_REDACTED_HEADERS, ...(options.headers ?? [])].map((n) => n.toLowerCase());
  const headers: Record<string, string | string[] | undefined> = {};
  for (const name in sample.headers) {
    const value = sample.headers[name];
    const lower = name.toLowerCase();
    headers[name] = value === undefined || !matchesName(headerNames, lower) ? value : redactHeaderValue(options.key, lower, value);
  }
  const paths = options.paths ?? [];
  if (paths.length === 0 || sample.body.byteLength === 0) return { ...sample, headers };

  const normalised = normaliseHeaders(sample.headers);
  const encoding = (normalised.values.get('content-encoding') ?? '').toLowerCase();
  const decoded = decodeContent(sample.body, encoding === 'identity' ? '' : encoding, options.maxDecodedBytes ?? 32 * 1024 * 1024);
  if (!decoded.ok) return { ...sample, headers: withBody(headers, 0), body: new Uint8Array(0) };
  const media = parseMediaType(normalised.values.get('content-type'));
  const root = compileRedactionPaths(paths);
  const text = decoded.bytes.toString('utf8');
  let redacted: string | undefined;
  if (media?.essence === 'application/x-www-form-urlencoded') {
    redacted = redactForm(text, root, options.key);
  } else if (media === undefined || isJsonMediaType(media.essence)) {
    const parsed = parseJsonLossless(text);
    if (parsed.ok) redacted = JSON.stringify(redactTree(parsed.value, root, options.key), (_k, v: unknown) => (typeof v === 'bigint' ? JSON_RAW(v.toString()) : v));
  }
  if (redacted === undefined) return { ...sample, headers };
  const body = Buffer.from(redacted, 'utf8');
  return { ...sample, headers: withBody(headers, body.byteLength), body };
}

function matchesName(names: readonly string[], lower: string): boolean {
  for (const n of names) {
    if (n.endsWith('*') ? lower.startsWith(n.slice(0, -1)) : lower === n) return true;
  }
  return false;
}

// Keeps the parts that help debugging and hold no secret: the auth scheme,
// cookie names and Set-Cookie attributes.
function redactHeaderValue(key: string | Uint8Array, name: string, value: string | string[]): string | string[] {
  if (Array.isArray(value)) return value.map((v) => redactHeaderValue(key, name, v) as string);
  if (name === 'cookie') {
    return value
      .split(';')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq < 0 ? keyedHash(key, pair.trim()) : `${pair.slice(0, eq).trim()}=${keyedHash(key, pair.slice(eq + 1).trim())}`;
      })
      .join('; ');
  }
  if (name === 'set-cookie') {
    const semi = value.indexOf(';');
    const first = semi < 0 ? value : value.slice(0, semi);
    const eq = first.indexOf('=');
    const cookie = eq < 0 ? keyedHash(key, first.trim()) : `${first.slice(0, eq).trim()}=${keyedHash(key, first.slice(eq + 1).trim())}`;
    return semi < 0 ? cookie : cookie + value.slice(semi);
  }
  if (name === 'authorization' || name === 'proxy-authorization') {
    const m = /^(\S+)\s+(.+)$/.exec(value.trim());
    if (m !== null) return `${m[1]} ${keyedHash(key, m[2]!)}`;
  }
  return keyedHash(key, value);
}

function withBody(headers: Record<string, string | string[] | undefined>, length: number): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-encoding') continue;
    out[name] = lower === 'content-length' ? String(length) : headers[name];
  }
  return out;
}

function compileRedactionPaths(paths: readonly string[]): AutomatonState<boolean> {
  return compilePathAutomaton(
    paths.map((p) => ({ segments: parseJsonPath(p), inherit: false, action: true })),
    (actions) => actions.length > 0,
  );
}

function redactTree(value: unknown, state: AutomatonState<boolean>, key: string | Uint8Array): unknown {
  if (state.info) return keyedHash(key, typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  if (state.dead || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = redactTree(value[i], stepPath(state, i), key);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) obj[k] = redactTree(obj[k], stepPath(state, k), key);
  return value;
}

function redactForm(text: string, root: AutomatonState<boolean>, key: string | Uint8Array): string {
  const fields = redactTree(parseFormFields(text), root, key) as Record<string, string | string[]>;
  const out = new URLSearchParams();
  for (const name of Object.keys(fields)) {
    const value = fields[name]!;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.append(name, value);
  }
  return out.toString();
}
