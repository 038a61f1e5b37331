/**
 * The vocabulary every comparison speaks: what an HTTP answer is, and how one
 * difference between two answers is reported.
 */

/** One response (or request) as the engine sees it. Bodies are raw, still content-encoded. */
export interface HttpMessage {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/**
 * - `status`  the status codes differ
 * - `header`  a compared header differs, is missing or is extra
 * - `value`   same type, other value (also: text line changed, binary digest)
 * - `type`    other JSON type, including null against a value
 * - `missing` legacy has a member, element, line or body that candidate lacks
 * - `extra`   candidate has one that legacy lacks
 * - `order`   an array holds the same elements in another order
 * - `size`    binary bodies of different sizes
 */
export type DifferenceKind = 'status' | 'header' | 'value' | 'type' | 'missing' | 'extra' | 'order' | 'size';

export interface Difference {
  kind: DifferenceKind;
  /** Where: `$.data[3].price` in a JSON or form body, `lines[12]` in text, `headers.etag`, `status`, `body`. */
  path: string;
  /** The grouping form: indexes as `[*]`, id-like keys as `.*` (`$.data[*].price`). */
  generalPath: string;
  /** Legacy's value; absent when legacy has none. Containers and long strings are shortened. */
  legacy?: unknown;
  candidate?: unknown;
  detail?: string;
}

export interface CompareResult {
  verdict: 'match' | 'mismatch';
  differences: Difference[];
  /** True when the walk stopped at `body.maxDifferences`. */
  truncated: boolean;
}

/** Longest string or serialised container kept on a difference. */
export const PREVIEW_CHARS = 256;

/**
 * Differences cross worker threads and land in storage, so they carry a
 * small, JSON-safe preview: strings are cut, containers are serialised and
 * cut, big integers become their decimal text.
 * @example previewValue(12345678901234567890n) // '12345678901234567890'
 */
export function previewValue(value: unknown): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value.length > PREVIEW_CHARS ? `${value.slice(0, PREVIEW_CHARS)}…` : value;
  const out = { text: '' };
  boundedJson(value, out);
  return out.text.length > PREVIEW_CHARS ? `${out.text.slice(0, PREVIEW_CHARS)}…` : out.text;
}

// Stops serialising once the preview is long enough, so a missing 5 MB
// subtree costs no more than a short one.
function boundedJson(value: unknown, out: { text: string }): void {
  if (out.text.length > PREVIEW_CHARS) return;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    out.text += String(value);
  } else if (typeof value === 'bigint') {
    out.text += value.toString();
  } else if (typeof value === 'string') {
    out.text += JSON.stringify(value.length > PREVIEW_CHARS ? value.slice(0, PREVIEW_CHARS) : value);
  } else if (Array.isArray(value)) {
    out.text += '[';
    for (let i = 0; i < value.length && out.text.length <= PREVIEW_CHARS; i++) {
      if (i > 0) out.text += ',';
      boundedJson(value[i], out);
    }
    out.text += ']';
  } else if (typeof value === 'object') {
    out.text += '{';
    let first = true;
    for (const key in value) {
      if (out.text.length > PREVIEW_CHARS) break;
      if (!first) out.text += ',';
      first = false;
      out.text += `${JSON.stringify(key)}:`;
      boundedJson((value as Record<string, unknown>)[key], out);
    }
    out.text += '}';
  } else {
    out.text += String(value);
  }
}

/**
 * Collects differences up to a cap. Once one difference had to be dropped the
 * walk stops: the verdict is already known and a 5 MB body that differs
 * everywhere must not cost more than one that differs once.
 * @example
 * const sink = new DifferenceSink(100);
 * sink.add({ kind: 'status', path: 'status', generalPath: 'status', legacy: 200, candidate: 500 });
 */
export class DifferenceSink {
  readonly items: Difference[] = [];
  readonly max: number;
  truncated = false;

  constructor(max: number) {
    this.max = max;
  }

  add(difference: Difference): void {
    if (this.items.length >= this.max) {
      this.truncated = true;
      return;
    }
    this.items.push(difference);
  }

  /** Drops differences added after `length` (used when many become one `order` difference). */
  rewind(length: number, truncated: boolean): void {
    this.items.length = length;
    this.truncated = truncated;
  }
}
