/**
 * Header comparison: case-insensitive names, a default list of headers that
 * differ on every response or between any two stacks, and the framing
 * headers that lose meaning once bodies are compared decoded.
 */
import { previewValue, type Difference, type DifferenceSink } from './difference.ts';

/**
 * Ignored unless `headers.defaultIgnores: false` (or named in `headers.keep`).
 * Each entry is here because it differs between two correct answers:
 */
export const DEFAULT_IGNORED_HEADERS: readonly string[] = [
  // per-response clocks and caches
  'date',
  'age',
  'expires',
  'x-cache',
  'x-cache-hits',
  'x-timer',
  'x-served-by',
  'cf-cache-status',
  'cf-ray',
  // stack identity, which a rewrite changes on purpose
  'server',
  'x-powered-by',
  'via',
  'x-aspnet-version',
  'x-runtime',
  'x-response-time',
  'server-timing',
  'x-envoy-upstream-service-time',
  // per-request ids and trace context
  'request-id',
  'x-request-id',
  'x-correlation-id',
  'x-amzn-requestid',
  'x-amzn-trace-id',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-cf-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-*',
  'x-cloud-trace-context',
  'x-datadog-*',
  'uber-trace-id',
  // validators derived from storage details (inode, hash flavour, weak/strong)
  'etag',
  // cutover's own annotations
  'x-cutover-*',
];

/**
 * Always skipped: bodies are compared after Content-Encoding is removed, so
 * length, encoding and connection management say nothing about the answer.
 */
export const FRAMING_HEADERS: readonly string[] = [
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
];

const FRAMING = new Set(FRAMING_HEADERS);

export interface HeaderRuleConfig {
  ignore: readonly string[];
  only: readonly string[];
  keep: readonly string[];
  defaultIgnores: boolean;
}

export interface HeaderRules {
  readonly ignore: NameSet;
  /** Undefined: compare every header that is not ignored. */
  readonly only: NameSet | undefined;
}

interface NameSet {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/**
 * @example compileHeaderRules({ ignore: ['x-debug-*'], only: [], keep: ['etag'], defaultIgnores: true })
 */
export function compileHeaderRules(config: HeaderRuleConfig): HeaderRules {
  const keep = new Set(config.keep.map((n) => n.toLowerCase()));
  const ignored = [...(config.defaultIgnores ? DEFAULT_IGNORED_HEADERS.filter((n) => !keep.has(n)) : []), ...config.ignore];
  return {
    ignore: toNameSet(ignored),
    only: config.only.length > 0 ? toNameSet(config.only) : undefined,
  };
}

function toNameSet(names: readonly string[]): NameSet {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name.endsWith('*')) prefixes.push(name.slice(0, -1));
    else exact.add(name);
  }
  return { exact, prefixes };
}

function inNameSet(set: NameSet, name: string): boolean {
  if (set.exact.has(name)) return true;
  for (const prefix of set.prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

/** Whether a (lower-case) header name takes part in the comparison. */
export function isHeaderCompared(rules: HeaderRules, name: string): boolean {
  if (FRAMING.has(name)) return false;
  if (rules.only !== undefined) return inNameSet(rules.only, name);
  return !inNameSet(rules.ignore, name);
}

/** Headers with lower-case names, repeated fields joined with ", " (Set-Cookie kept apart). */
export interface NormalisedHeaders {
  readonly values: ReadonlyMap<string, string>;
  readonly setCookie: readonly string[];
}

/**
 * @example normaliseHeaders({ 'Content-Type': 'application/json', 'X-A': ['1', '2'] }).values.get('x-a') // '1, 2'
 */
export function normaliseHeaders(headers: Record<string, string | string[] | undefined>): NormalisedHeaders {
  const values = new Map<string, string>();
  const setCookie: string[] = [];
  for (const rawName in headers) {
    const raw = headers[rawName];
    if (raw === undefined) continue;
    const name = rawName.toLowerCase();
    if (name === 'set-cookie') {
      if (Array.isArray(raw)) setCookie.push(...raw);
      else setCookie.push(raw);
      continue;
    }
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    const prev = values.get(name);
    values.set(name, prev === undefined ? value.trim() : `${prev}, ${value.trim()}`);
  }
  return { values, setCookie };
}

/**
 * Appends header differences. Set-Cookie is compared by the sorted cookie
 * names only: values (sessions) and expiry differ on every response, while a
 * cookie the rewrite forgets to set is a real regression.
 * Content-Type is compared as a media type: case, spacing and parameter order
 * do not count, and `charset=utf-8` on a JSON type equals no charset.
 */
export function diffHeaders(legacy: NormalisedHeaders, candidate: NormalisedHeaders, rules: HeaderRules, sink: DifferenceSink): void {
  const names = new Set<string>();
  for (const name of legacy.values.keys()) names.add(name);
  for (const name of candidate.values.keys()) names.add(name);
  for (const name of [...names].sort()) {
    if (!isHeaderCompared(rules, name)) continue;
    const a = legacy.values.get(name);
    const b = candidate.values.get(name);
    if (a === b) continue;
    if (a !== undefined && b !== undefined && name === 'content-type' && normaliseContentType(a) === normaliseContentType(b)) continue;
    sink.add(headerDifference(name, a, b));
  }
  if ((legacy.setCookie.length > 0 || candidate.setCookie.length > 0) && isHeaderCompared(rules, 'set-cookie')) {
    const a = cookieNames(legacy.setCookie);
    const b = cookieNames(candidate.setCookie);
    if (a !== b) {
      const diff = headerDifference('set-cookie', a || undefined, b || undefined);
      diff.detail = 'cookie names differ (values and expiry are not compared)';
      sink.add(diff);
    }
  }
}

function headerDifference(name: string, a: string | undefined, b: string | undefined): Difference {
  const path = `headers.${name}`;
  const detail = a === undefined ? 'only in candidate' : b === undefined ? 'missing in candidate' : 'values differ';
  const diff: Difference = { kind: 'header', path, generalPath: path, detail };
  if (a !== undefined) diff.legacy = previewValue(a);
  if (b !== undefined) diff.candidate = previewValue(b);
  return diff;
}

function cookieNames(setCookie: readonly string[]): string {
  const names = new Set<string>();
  for (const line of setCookie) {
    const eq = line.indexOf('=');
    names.add((eq < 0 ? line : line.slice(0, eq)).trim());
  }
  return [...names].sort().join(', ');
}

export interface MediaType {
  /** `type/subtype`, lower case, without parameters. */
  essence: string;
  charset: string | undefined;
}

/**
 * @example parseMediaType('Application/JSON; Charset="UTF-8"') // { essence: 'application/json', charset: 'utf-8' }
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  const essence = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (essence === '') return undefined;
  let charset: string | undefined;
  if (semi >= 0) {
    for (const param of value.slice(semi + 1).split(';')) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      if (param.slice(0, eq).trim().toLowerCase() === 'charset') charset = unquote(param.slice(eq + 1).trim()).toLowerCase();
    }
  }
  return { essence, charset };
}

function normaliseContentType(value: string): string {
  const semi = value.indexOf(';');
  const essence = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params: string[] = [];
  if (semi >= 0) {
    for (const param of value.slice(semi + 1).split(';')) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      let val = unquote(param.slice(eq + 1).trim());
      if (key === 'charset') {
        val = val.toLowerCase();
        if (isJsonMediaType(essence) && val === 'utf-8') continue;
      }
      params.push(`${key}=${val}`);
    }
  }
  return [essence, ...params.sort()].join(';');
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

export function isJsonMediaType(essence: string): boolean {
  return essence === 'application/json' || essence === 'text/json' || essence.endsWith('+json');
}
