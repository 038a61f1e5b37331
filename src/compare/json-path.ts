/**
 * The path syntax used by comparison rules and reported on differences.
 *
 * A deliberately small subset of JSONPath (RFC 9535): no filters, slices or
 * unions, because every rule must be matchable by a precompiled automaton in
 * one walk of the tree. Matching is by whole segment, never by substring, so
 * `$..id` cannot silence `idempotency_key`.
 *
 *   $                 the whole body
 *   .name  ['name']   an object member (quoted form for any key)
 *   [3]               an array element
 *   .*  [*]           any member or element
 *   ..name ..* ..[*]  the same, at this level or any depth below
 */
import { classifyIdentifier } from './identifier-shapes.ts';

export type PathSegment =
  | { type: 'name'; name: string; descendant: boolean }
  | { type: 'index'; index: number; descendant: boolean }
  | { type: 'wildcard'; descendant: boolean };

/** One step from a node to a child: a member name or an array index. */
export type PathStep = string | number;

export type PathParseResult = { ok: true; segments: PathSegment[] } | { ok: false; error: string };

const DOT_NAME_START = /[A-Za-z_$]/;
const DOT_NAME_CHAR = /[A-Za-z0-9_$-]/;
const DOT_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const MAX_INDEX = 2 ** 31 - 1;

/**
 * Parses a rule path without throwing; the error says what is wrong and where.
 * @example
 * tryParseJsonPath("$.items[*].id") // { ok: true, segments: [...] }
 * tryParseJsonPath("items.id")      // { ok: false, error: 'invalid path "items.id": a path starts with "$" …' }
 */
export function tryParseJsonPath(text: string): PathParseResult {
  const fail = (reason: string, at?: number): PathParseResult => ({
    ok: false,
    error: `invalid path "${text}": ${reason}${at === undefined ? '' : ` (at character ${at + 1})`}`,
  });
  if (text.length === 0) return fail('the path is empty; write $ for the whole body or e.g. $.items[*].id');
  if (text[0] !== '$') return fail('a path starts with "$", e.g. $.items[*].id or $..updated_at', 0);

  const segments: PathSegment[] = [];
  let i = 1;
  while (i < text.length) {
    const c = text[i]!;
    let descendant = false;
    if (c === '.') {
      if (text[i + 1] === '.') {
        descendant = true;
        i += 2;
        if (i >= text.length) return fail('".." must be followed by a name, * or [...]', i - 2);
        if (text[i] === '.') return fail('"..." is not valid; use ".." for any depth', i);
        if (text[i] === '[') continue; // `..[*]` / `..['x']`: the bracket branch reads it
      } else {
        i += 1;
        if (i >= text.length) return fail('the path ends with "."; a name or * must follow', i - 1);
      }
      const r = readDotSegment(text, i, descendant);
      if ('error' in r) return fail(r.error, r.at);
      segments.push(r.segment);
      i = r.next;
      continue;
    }
    if (c === '[') {
      const wasDescendant = i >= 2 && text[i - 1] === '.' && text[i - 2] === '.';
      const r = readBracketSegment(text, i, wasDescendant);
      if ('error' in r) return fail(r.error, r.at);
      segments.push(r.segment);
      i = r.next;
      continue;
    }
    return fail(`unexpected "${c}"; segments start with ".", ".." or "["`, i);
  }
  return { ok: true, segments };
}

/**
 * Parses a rule path, throwing an Error with the same message as tryParseJsonPath.
 * @example parseJsonPath('$..updated_at') // [{ type: 'name', name: 'updated_at', descendant: true }]
 */
export function parseJsonPath(text: string): PathSegment[] {
  const r = tryParseJsonPath(text);
  if (!r.ok) throw new Error(r.error);
  return r.segments;
}

type SegmentRead = { segment: PathSegment; next: number } | { error: string; at: number };

function readDotSegment(text: string, start: number, descendant: boolean): SegmentRead {
  if (text[start] === '*') return { segment: { type: 'wildcard', descendant }, next: start + 1 };
  if (!DOT_NAME_START.test(text[start]!)) {
    const hint = /[0-9]/.test(text[start]!)
      ? `write [${readDigits(text, start)}] for an array index or ['${readDigits(text, start)}'] for a key`
      : `a name after "." holds letters, digits, _, $ and - and starts with a letter, _ or $; quote other keys as ['…']`;
    return { error: hint, at: start };
  }
  let end = start + 1;
  while (end < text.length && DOT_NAME_CHAR.test(text[end]!)) end++;
  return { segment: { type: 'name', name: text.slice(start, end), descendant }, next: end };
}

function readDigits(text: string, start: number): string {
  let end = start;
  while (end < text.length && /[0-9]/.test(text[end]!)) end++;
  return text.slice(start, end);
}

function readBracketSegment(text: string, open: number, descendant: boolean): SegmentRead {
  let i = open + 1;
  const c = text[i];
  if (c === undefined) return { error: 'unclosed "["', at: open };
  let segment: PathSegment;
  if (c === '*') {
    segment = { type: 'wildcard', descendant };
    i += 1;
  } else if (c === "'" || c === '"') {
    let name = '';
    i += 1;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) return { error: `unclosed quote`, at: open + 1 };
      if (ch === c) break;
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc !== '\\' && esc !== "'" && esc !== '"') return { error: `only \\\\, \\' and \\" escapes are allowed in a quoted name`, at: i };
        name += esc;
        i += 2;
        continue;
      }
      name += ch;
      i += 1;
    }
    i += 1;
    segment = { type: 'name', name, descendant };
  } else if (/[0-9]/.test(c)) {
    const digits = readDigits(text, i);
    if (digits.length > 1 && digits[0] === '0') return { error: `array indexes have no leading zeros ("${digits}")`, at: i };
    const index = Number(digits);
    if (index > MAX_INDEX) return { error: `array index ${digits} is too large`, at: i };
    segment = { type: 'index', index, descendant };
    i += digits.length;
  } else if (c === '-') {
    return { error: 'negative indexes are not supported; use [*] to match every element', at: i };
  } else if (c === '?') {
    return { error: 'filter expressions ([?…]) are not supported; use [*] and a narrower name instead', at: i };
  } else if (c === ':') {
    return { error: 'slices ([a:b]) are not supported; use [*]', at: i };
  } else {
    return { error: `"[" must be followed by *, an index or a quoted name such as ['my key']`, at: open };
  }
  if (text[i] === ':') return { error: 'slices ([a:b]) are not supported; use [*]', at: i };
  if (text[i] === ',') return { error: 'unions ([a,b]) are not supported; write one rule per path', at: i };
  if (text[i] !== ']') return { error: 'expected "]"', at: i };
  return { segment, next: i + 1 };
}

/**
 * Renders concrete steps as a path: `$.data[3].price`, `$['weird key']`.
 * @example formatJsonPath(['data', 3, 'price']) // '$.data[3].price'
 */
export function formatJsonPath(steps: readonly PathStep[], length = steps.length): string {
  let out = '$';
  for (let i = 0; i < length; i++) out += formatStep(steps[i]!);
  return out;
}

/**
 * The grouping form of a path: array indexes become `[*]` and keys that look
 * like identifiers (ids, UUIDs, digests, keys) become `.*`, so differences on
 * `$.users['123'].name` and `$.users['456'].name` land in one group. The
 * result is itself a valid rule path, ready to paste into `ignore:`.
 * @example generaliseJsonPath(['data', 3, 'price']) // '$.data[*].price'
 */
export function generaliseJsonPath(steps: readonly PathStep[], length = steps.length): string {
  let out = '$';
  for (let i = 0; i < length; i++) {
    const step = steps[i]!;
    if (typeof step === 'number') out += '[*]';
    else if (classifyIdentifier(step) !== undefined) out += '.*';
    else out += formatStep(step);
  }
  return out;
}

function formatStep(step: PathStep): string {
  if (typeof step === 'number') return `[${step}]`;
  if (DOT_NAME.test(step)) return `.${step}`;
  return `['${step.replace(/[\\']/g, (ch) => `\\${ch}`)}']`;
}
