/**
 * A strict parser for the Prometheus text exposition format (0.0.4), for
 * tests: it rejects anything a Prometheus server would reject, and a few
 * things it would merely tolerate but that always indicate an exporter bug
 * (duplicate series, families split into pieces, histograms whose buckets are
 * not cumulative or disagree with _count, negative counters).
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** The sample's own name, e.g. `x_bucket` for a histogram `x`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface PromFamily {
  name: string;
  type: PromType;
  help: string | undefined;
  samples: PromSample[];
}

export class PromParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'PromParseError';
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and
 * Inf in any letter case (prom-client writes `Nan`).
 */
function parseValue(text: string, line: number): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special !== null) {
    if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!FLOAT.test(text)) throw new PromParseError(line, `"${text}" is not a sample value`);
  return Number(text);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new PromParseError(line, `invalid escape "\\${c}" in HELP (only \\\\ and \\n)`);
  });
}

/** Reads `{a="x",b="y"}` starting at `text[start] === '{'`; returns labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const skipSpaces = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  skipSpaces();
  if (text[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    skipSpaces();
    const nameStart = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i);
    if (!LABEL_NAME.test(name)) throw new PromParseError(line, `invalid label name "${name}"`);
    if (name.startsWith('__')) throw new PromParseError(line, `label name "${name}" is reserved`);
    if (Object.hasOwn(labels, name)) throw new PromParseError(line, `duplicate label "${name}"`);
    skipSpaces();
    if (text[i] !== '=') throw new PromParseError(line, `expected = after label "${name}"`);
    i++;
    skipSpaces();
    if (text[i] !== '"') throw new PromParseError(line, `label "${name}" value must be double-quoted`);
    i++;
    let value = '';
    for (;;) {
      if (i >= text.length) throw new PromParseError(line, `unterminated value of label "${name}"`);
      const c = text[i]!;
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const n = text[i + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new PromParseError(line, `invalid escape "\\${n ?? ''}" in label "${name}"`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    skipSpaces();
    if (text[i] === ',') {
      i++;
      skipSpaces();
      if (text[i] === '}') return { labels, end: i + 1 };
      continue;
    }
    if (text[i] === '}') return { labels, end: i + 1 };
    throw new PromParseError(line, `expected , or } after label "${name}"`);
  }
}

const seriesKey = (name: string, labels: Record<string, string>, omit?: string) =>
  `${name}{${Object.keys(labels)
    .filter((k) => k !== omit)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;

/** Which declared family a sample name belongs to, given the family's type. */
function familyOf(sampleName: string, declared: Map<string, { type: PromType }>): string {
  if (declared.has(sampleName)) {
    const t = declared.get(sampleName)!.type;
    if (t !== 'histogram') return sampleName;
  }
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const d = declared.get(base);
    if (d === undefined) continue;
    if (d.type === 'histogram') return base;
    if (d.type === 'summary' && suffix !== '_bucket') return base;
  }
  return sampleName;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: Array<{ le: number; value: number }>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const g = seriesKey('', s.labels, 'le');
    let group = groups.get(g);
    if (group === undefined) groups.set(g, (group = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`${f.name}: a bucket without le`);
      group.buckets.push({ le: parseValue(s.labels.le, 0), value: s.value });
    } else if (s.name === `${f.name}_sum`) group.sum = s.value;
    else if (s.name === `${f.name}_count`) group.count = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [g, group] of groups) {
    const where = `${f.name}${g}`;
    if (group.count === undefined || group.sum === undefined) throw new Error(`${where}: missing _sum or _count`);
    if (group.buckets.length === 0 || group.buckets.at(-1)!.le !== Infinity) throw new Error(`${where}: the last bucket must be le="+Inf"`);
    for (let i = 1; i < group.buckets.length; i++) {
      if (!(group.buckets[i]!.le > group.buckets[i - 1]!.le)) throw new Error(`${where}: bucket bounds are not increasing`);
      if (group.buckets[i]!.value < group.buckets[i - 1]!.value) throw new Error(`${where}: bucket counts are not cumulative`);
    }
    if (group.buckets.at(-1)!.value !== group.count) throw new Error(`${where}: +Inf bucket ${group.buckets.at(-1)!.value} differs from _count ${group.count}`);
  }
}

/**
 * @example
 * const families = parsePromText(await res.text());
 * families.get('cutover_upstream_requests_total')?.samples.length;
 */
export function parsePromText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new PromParseError(text.split('\n').length, 'the exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  const declared = new Map<string, { type: PromType }>();
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current: string | undefined;

  const family = (name: string, line: number): PromFamily => {
    if (current !== name) {
      if (finished.has(name)) throw new PromParseError(line, `metric family "${name}" appears in two separate groups`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: declared.get(name)?.type ?? 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    return f;
  };

  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw);
      if (m === null) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new PromParseError(line, `invalid metric name "${name}"`);
      const f = family(name!, line);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new PromParseError(line, `second HELP for "${name}"`);
        if (f.samples.length > 0) throw new PromParseError(line, `HELP for "${name}" after its samples`);
        f.help = unescapeHelp(rest, line);
      } else {
        if (declared.has(name!)) throw new PromParseError(line, `second TYPE for "${name}"`);
        if (f.samples.length > 0) throw new PromParseError(line, `TYPE for "${name}" after its samples`);
        if (!TYPES.includes(rest.trim())) throw new PromParseError(line, `unknown type "${rest.trim()}" for "${name}"`);
        declared.set(name!, { type: rest.trim() as PromType });
        f.type = rest.trim() as PromType;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (nameMatch === null) throw new PromParseError(line, `"${raw.slice(0, 40)}" does not start with a metric name`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === '{') {
      const parsed = parseLabels(raw, i, line);
      labels = parsed.labels;
      i = parsed.end;
    }
    const rest = raw.slice(i);
    if (!/^[ \t]/.test(rest)) throw new PromParseError(line, `expected a space before the value of "${name}"`);
    const parts = rest.trim().split(/[ \t]+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new PromParseError(line, `expected "value [timestamp]" after "${name}"`);
    const value = parseValue(parts[0]!, line);
    const sample: PromSample = { name, labels, value };
    if (parts.length === 2) {
      if (!/^-?\d+$/.test(parts[1]!)) throw new PromParseError(line, `"${parts[1]}" is not a millisecond timestamp`);
      sample.timestamp = Number(parts[1]);
    }
    const f = family(familyOf(name, declared), line);
    if (f.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) throw new PromParseError(line, `histogram bucket "${name}" has no le label`);
    if (f.type === 'summary' && name === f.name && labels.quantile === undefined) throw new PromParseError(line, `summary sample "${name}" has no quantile label`);
    if (f.type === 'counter' && !(value >= 0)) throw new PromParseError(line, `counter "${name}" has value ${parts[0]}`);
    const key = seriesKey(name, labels);
    if (seen.has(key)) throw new PromParseError(line, `duplicate series ${key}`);
    seen.add(key);
    f.samples.push(sample);
  });
  for (const f of families.values()) {
    if (f.type === 'histogram') {
      try {
        checkHistogram(f);
      } catch (err) {
        throw new PromParseError(0, (err as Error).message);
      }
    }
  }
  return families;
}

/** Distinct label sets of a family's samples, ignoring `le`/`quantile` (one per histogram series). */
export function seriesCount(f: PromFamily): number {
  const keys = new Set<string>();
  for (const s of f.samples) {
    const { le: _le, quantile: _q, ...rest } = s.labels;
    keys.add(seriesKey('', rest));
  }
  return keys.size;
}
