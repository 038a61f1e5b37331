/**
 * Line diff for text bodies. CRLF and LF end lines alike (a rewrite moving
 * off Windows changes nothing a client reads). Lines are addressed as
 * `lines[i]`, 0-based like every other index; the detail names the 1-based
 * line number an editor shows.
 *
 * Equal leading and trailing lines are skipped, then the middle is aligned
 * with Myers' O(ND) algorithm so one inserted line reports one `extra`. When
 * the middle needs more than MAX_EDITS edits the bodies are plainly
 * different and lines are compared by position instead, keeping time linear.
 */
import { previewValue, type DifferenceKind, type DifferenceSink } from './difference.ts';

const MAX_EDITS = 500;
// Line comparisons Myers may spend before giving up; keeps a 5 MB body with
// scattered changes near 50 MB/s.
const MAX_WORK = 4_000_000;
const GENERAL_PATH = 'lines[*]';

/**
 * @example
 * const sink = new DifferenceSink(100);
 * diffTextLines('a\nb\nc', 'a\nB\nc', sink);
 * sink.items // [{ kind: 'value', path: 'lines[1]', legacy: 'b', candidate: 'B', detail: 'line 2' }]
 */
export function diffTextLines(legacy: string, candidate: string, sink: DifferenceSink): void {
  if (legacy === candidate) return;
  const a = splitLines(legacy);
  const b = splitLines(candidate);
  let start = 0;
  const shortest = Math.min(a.length, b.length);
  while (start < shortest && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const edits = myers(a, start, endA, b, start, endB, MAX_EDITS);
  if (edits === undefined) {
    byPosition(a, b, start, endA, endB, sink);
    return;
  }
  reportHunks(a, b, edits, sink);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.includes('\r')) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
    }
  }
  return lines;
}

function report(sink: DifferenceSink, kind: DifferenceKind, index: number, legacy: string | undefined, candidate: string | undefined, detail: string): void {
  const diff: { kind: DifferenceKind; path: string; generalPath: string; legacy?: unknown; candidate?: unknown; detail: string } = {
    kind,
    path: `lines[${index}]`,
    generalPath: GENERAL_PATH,
    detail,
  };
  if (legacy !== undefined) diff.legacy = previewValue(legacy);
  if (candidate !== undefined) diff.candidate = previewValue(candidate);
  sink.add(diff);
}

function byPosition(a: string[], b: string[], start: number, endA: number, endB: number, sink: DifferenceSink): void {
  const overlap = Math.min(endA, endB) - start;
  for (let i = start; i < start + overlap && !sink.truncated; i++) {
    if (a[i] !== b[i]) report(sink, 'value', i, a[i], b[i], `line ${i + 1}`);
  }
  for (let i = start + overlap; i < endA && !sink.truncated; i++) report(sink, 'missing', i, a[i], undefined, `legacy line ${i + 1}`);
  for (let j = start + overlap; j < endB && !sink.truncated; j++) report(sink, 'extra', j, undefined, b[j], `candidate line ${j + 1}`);
}

/** One edit: a legacy line removed (`del`) or a candidate line added (`ins`). */
interface Edit {
  op: 'del' | 'ins';
  /** Legacy index for `del`, candidate index for `ins`. */
  index: number;
  /** Position in the other sequence, to tell where one hunk ends. */
  at: number;
}

/** Shortest edit script between a[aStart..aEnd) and b[bStart..bEnd), or undefined past maxEdits. */
function myers(a: readonly string[], aStart: number, aEnd: number, b: readonly string[], bStart: number, bEnd: number, maxEdits: number): Edit[] | undefined {
  const n = aEnd - aStart;
  const m = bEnd - bStart;
  if (n === 0 && m === 0) return [];
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let work = 0;
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[k - 1 + offset]! < v[k + 1 + offset]!) ? v[k + 1 + offset]! : v[k - 1 + offset]! + 1;
      let y = x - k;
      const snakeFrom = x;
      while (x < n && y < m && a[aStart + x] === b[bStart + y]) {
        x++;
        y++;
      }
      v[k + offset] = x;
      work += x - snakeFrom + 1;
      if (work > MAX_WORK) return undefined;
      if (x >= n && y >= m) return backtrack(trace, d, n, m, offset, aStart, bStart);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], lastD: number, n: number, m: number, offset: number, aStart: number, bStart: number): Edit[] {
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = lastD; d > 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[k - 1 + offset]! < v[k + 1 + offset]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[prevK + offset]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (down) edits.push({ op: 'ins', index: bStart + prevY, at: aStart + prevX });
    else edits.push({ op: 'del', index: aStart + prevX, at: bStart + prevY });
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/**
 * Within one hunk (edits with no equal line between them) removed and added
 * lines pair up as changed lines; the surplus is `missing` or `extra`.
 */
function reportHunks(a: string[], b: string[], edits: readonly Edit[], sink: DifferenceSink): void {
  let i = 0;
  while (i < edits.length && !sink.truncated) {
    const dels: number[] = [];
    const ins: number[] = [];
    let nextA = -1;
    let nextB = -1;
    while (i < edits.length) {
      const e = edits[i]!;
      const posA = e.op === 'del' ? e.index : e.at;
      const posB = e.op === 'ins' ? e.index : e.at;
      if (nextA >= 0 && (posA !== nextA || posB !== nextB)) break;
      if (e.op === 'del') {
        dels.push(e.index);
        nextA = posA + 1;
        nextB = posB;
      } else {
        ins.push(e.index);
        nextA = posA;
        nextB = posB + 1;
      }
      i++;
    }
    const paired = Math.min(dels.length, ins.length);
    for (let p = 0; p < paired; p++) report(sink, 'value', dels[p]!, a[dels[p]!], b[ins[p]!], `line ${dels[p]! + 1}`);
    for (let p = paired; p < dels.length; p++) report(sink, 'missing', dels[p]!, a[dels[p]!], undefined, `legacy line ${dels[p]! + 1}`);
    for (let p = paired; p < ins.length; p++) report(sink, 'extra', ins[p]!, undefined, b[ins[p]!], `candidate line ${ins[p]! + 1}`);
  }
}
