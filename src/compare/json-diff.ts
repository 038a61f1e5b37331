/**
 * Structural diff of two parsed JSON trees, walking both once.
 *
 * Rules are looked up by stepping a precompiled automaton alongside the walk,
 * and a path string is only built when a difference is reported. Null is a
 * value with its own type: `{"a": null}` against `{"a": 1}` is a `type`
 * difference, while `{}` against `{"a": 1}` is an `extra` one.
 */
import { DifferenceSink, previewValue, type DifferenceKind } from './difference.ts';
import { formatJsonPath, generaliseJsonPath, type PathStep } from './json-path.ts';
import { stepPath, type AutomatonState } from './path-automaton.ts';
import type { CompiledRules, NodeRules } from './rules.ts';
import { parseAutoTimestampPair, parseIso8601, parseTimestamp } from './timestamps.ts';

type State = AutomatonState<NodeRules>;
type JsonObject = Record<string, unknown>;
type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

/** Bounds the pairwise search for near-equal leftovers in unordered arrays. */
const MAX_LEFTOVER_PAIRS = 10_000;

const hasOwn = Object.hasOwn;

/**
 * @example
 * const sink = new DifferenceSink(100);
 * diffJson({ price: 1.0, tags: ['a', 'b'] }, { price: 1, tags: ['b', 'a'] }, rules, sink);
 * sink.items // [{ kind: 'order', path: '$.tags', … }]
 */
export function diffJson(legacy: unknown, candidate: unknown, rules: CompiledRules, sink: DifferenceSink): void {
  new JsonWalker(rules, sink).node(legacy, candidate, rules.root);
}

/** Whether two trees are equal under the rules, without collecting differences. */
export function jsonEqual(legacy: unknown, candidate: unknown, rules: CompiledRules): boolean {
  const walker = new JsonWalker(rules, new DifferenceSink(1));
  return walker.equal(legacy, candidate, rules.root);
}

class JsonWalker {
  readonly rules: CompiledRules;
  readonly sink: DifferenceSink;
  readonly steps: PathStep[] = [];
  /** While probing, a difference only marks the probe as failed. */
  probing = false;
  probeFailed = false;

  constructor(rules: CompiledRules, sink: DifferenceSink) {
    this.rules = rules;
    this.sink = sink;
  }

  stopped(): boolean {
    return this.probing ? this.probeFailed : this.sink.truncated;
  }

  report(kind: DifferenceKind, legacy: unknown, candidate: unknown, detail?: string): void {
    if (this.probing) {
      this.probeFailed = true;
      return;
    }
    const steps = this.steps;
    const diff: { kind: DifferenceKind; path: string; generalPath: string; legacy?: unknown; candidate?: unknown; detail?: string } = {
      kind,
      path: formatJsonPath(steps),
      generalPath: generaliseJsonPath(steps),
    };
    if (legacy !== ABSENT) diff.legacy = previewValue(legacy);
    if (candidate !== ABSENT) diff.candidate = previewValue(candidate);
    if (detail !== undefined) diff.detail = detail;
    this.sink.add(diff);
  }

  equal(a: unknown, b: unknown, state: State): boolean {
    const wasProbing = this.probing;
    const wasFailed = this.probeFailed;
    this.probing = true;
    this.probeFailed = false;
    this.node(a, b, state);
    const equal = !this.probeFailed;
    this.probing = wasProbing;
    this.probeFailed = wasFailed;
    return equal;
  }

  node(a: unknown, b: unknown, state: State): void {
    const info = state.info;
    if (info.ignore || a === b || this.stopped()) return;
    const ta = jsonType(a);
    const tb = jsonType(b);
    if (ta !== 'array' && ta !== 'object' && tb !== 'array' && tb !== 'object' && this.sameInstant(a, b, info)) return;
    if (ta !== tb) {
      this.report('type', a, b, `${ta} vs ${tb}`);
      return;
    }
    switch (ta) {
      case 'number':
        if (!numbersEqual(a as number | bigint, b as number | bigint, info.tolerance ?? this.rules.tolerance)) this.report('value', a, b);
        return;
      case 'string':
        if (!(info.caseInsensitive && (a as string).toLowerCase() === (b as string).toLowerCase())) this.report('value', a, b);
        return;
      case 'array':
        this.array(a as unknown[], b as unknown[], state);
        return;
      case 'object':
        this.object(a as JsonObject, b as JsonObject, state);
        return;
      default:
        this.report('value', a, b);
    }
  }

  /** True when both are the same instant; reports and returns true when both are instants that differ. */
  sameInstant(a: unknown, b: unknown, info: NodeRules): boolean {
    let left: number | undefined;
    let right: number | undefined;
    let tolerance: number;
    if (info.timestampTolerance !== undefined) {
      left = parseTimestamp(a);
      right = parseTimestamp(b);
      tolerance = info.timestampTolerance;
    } else if (this.rules.timestampAuto) {
      const pair = parseAutoTimestampPair(a, b);
      if (pair === undefined) return false;
      [left, right] = pair;
      tolerance = this.rules.timestampTolerance;
    } else {
      return false;
    }
    if (left === undefined || right === undefined) return false;
    const distance = Math.abs(left - right);
    if (distance > tolerance) this.report('value', a, b, `instants differ by ${formatMs(distance)}`);
    return true;
  }

  object(a: JsonObject, b: JsonObject, state: State): void {
    const steps = this.steps;
    let shared = 0;
    // for-in over parsed JSON objects is V8's fastest key walk (no key array
    // is allocated); JSON objects have no inherited enumerable members.
    for (const key in a) {
      const child = stepPath(state, key);
      if (hasOwn(b, key)) {
        shared++;
        if (child.info.ignore) continue;
        steps.push(key);
        this.node(a[key], b[key], child);
        steps.pop();
      } else {
        if (child.info.ignore) continue;
        steps.push(key);
        this.report('missing', a[key], ABSENT);
        steps.pop();
      }
      if (this.stopped()) return;
    }
    let candidateKeys = 0;
    for (const _ in b) candidateKeys++;
    if (candidateKeys === shared) return;
    for (const key in b) {
      if (hasOwn(a, key)) continue;
      const child = stepPath(state, key);
      if (child.info.ignore) continue;
      steps.push(key);
      this.report('extra', ABSENT, b[key]);
      steps.pop();
      if (this.stopped()) return;
    }
  }

  array(a: unknown[], b: unknown[], state: State): void {
    const info = state.info;
    if (info.keyedBy !== undefined) return this.keyedArray(a, b, state, info.keyedBy);
    if (info.unordered) return this.unorderedArray(a, b, state);
    if (a.length === b.length) return this.sameLengthArray(a, b, state);
    this.alignedArray(a, b, state);
  }

  /** Position by position; many differences that are one permutation become one `order` difference. */
  sameLengthArray(a: unknown[], b: unknown[], state: State): void {
    const sink = this.sink;
    const before = sink.items.length;
    const truncatedBefore = sink.truncated;
    // Only elements that differ by position can take part in a reordering,
    // so only those are hashed and paired.
    const differing: number[] = [];
    const steps = this.steps;
    let visited = 0;
    for (; visited < a.length; visited++) {
      const child = stepPath(state, visited);
      if (child.info.ignore) continue;
      const count = sink.items.length;
      steps.push(visited);
      this.node(a[visited], b[visited], child);
      steps.pop();
      if (this.stopped()) break;
      if (sink.items.length !== count) differing.push(visited);
    }
    // A probe only needs "different"; an order difference is still one.
    if (this.probing) return;
    if (sink.items.length === before && sink.truncated === truncatedBefore) return;
    for (let i = visited; i < a.length; i++) differing.push(i);
    if (differing.length < 2 || !this.isPermutation(a, b, state, differing)) return;
    sink.rewind(before, truncatedBefore);
    this.report('order', a, b, `the same ${a.length} elements in another order`);
  }

  positional(a: unknown[], b: unknown[], state: State, aFrom: number, bFrom: number, count: number): void {
    const steps = this.steps;
    for (let i = 0; i < count; i++) {
      const child = stepPath(state, aFrom + i);
      if (child.info.ignore) continue;
      steps.push(aFrom + i);
      this.node(a[aFrom + i], b[bFrom + i], child);
      steps.pop();
      if (this.stopped()) return;
    }
  }

  /**
   * Lengths differ: equal leading and trailing elements are skipped so one
   * insertion reports one `extra`, then the rest is compared by position.
   */
  alignedArray(a: unknown[], b: unknown[], state: State): void {
    let start = 0;
    const shortest = Math.min(a.length, b.length);
    while (start < shortest && this.equal(a[start], b[start], stepPath(state, start))) start++;
    let endA = a.length;
    let endB = b.length;
    while (endA > start && endB > start && this.equal(a[endA - 1], b[endB - 1], stepPath(state, endA - 1))) {
      endA--;
      endB--;
    }
    const overlap = Math.min(endA - start, endB - start);
    this.positional(a, b, state, start, start, overlap);
    const steps = this.steps;
    for (let i = start + overlap; i < endA && !this.stopped(); i++) {
      if (stepPath(state, i).info.ignore) continue;
      steps.push(i);
      this.report('missing', a[i], ABSENT);
      steps.pop();
    }
    for (let j = start + overlap; j < endB && !this.stopped(); j++) {
      if (stepPath(state, j).info.ignore) continue;
      steps.push(j);
      this.report('extra', ABSENT, b[j]);
      steps.pop();
    }
  }

  /** Multiset comparison: equal elements pair up, then a bounded search pairs near-equal leftovers (tolerances). */
  unorderedArray(a: unknown[], b: unknown[], state: State): void {
    if (a.length === b.length && this.equalPositionally(a, b, state)) return;
    const paired = this.pairEqualElements(a, b, state, range(a.length), range(b.length));
    const leftA = paired.leftA;
    let leftB = paired.leftB;
    if (leftA.length === 0 && leftB.length === 0) return;
    if (leftA.length * leftB.length <= MAX_LEFTOVER_PAIRS) {
      const unmatchedA: number[] = [];
      for (const i of leftA) {
        const at = leftB.findIndex((j) => this.equal(a[i], b[j], stepPath(state, i)));
        if (at < 0) unmatchedA.push(i);
        else leftB = leftB.filter((_, n) => n !== at);
      }
      this.reportLeftovers(a, b, state, unmatchedA, leftB);
    } else {
      this.reportLeftovers(a, b, state, leftA, leftB);
    }
  }

  /**
   * Pairs each listed element of `a` with the first unpaired element of `b`
   * equal to it under the rules. Elements are bucketed by a structural hash
   * (no strings are built) and each candidate pair is confirmed with a full
   * comparison, so a hash collision costs time, never correctness.
   */
  pairEqualElements(a: unknown[], b: unknown[], state: State, aIndexes: readonly number[], bIndexes: readonly number[]): { leftA: number[]; leftB: number[] } {
    const buckets = new Map<number, { indexes: number[]; start: number }>();
    for (const j of bIndexes) {
      const h = this.hash(b[j], stepPath(state, j));
      const bucket = buckets.get(h);
      if (bucket === undefined) buckets.set(h, { indexes: [j], start: 0 });
      else bucket.indexes.push(j);
    }
    const used = new Uint8Array(b.length);
    const leftA: number[] = [];
    for (const i of aIndexes) {
      const child = stepPath(state, i);
      const bucket = buckets.get(this.hash(a[i], child));
      let found = -1;
      if (bucket !== undefined) {
        while (bucket.start < bucket.indexes.length && used[bucket.indexes[bucket.start]!] === 1) bucket.start++;
        for (let n = bucket.start; n < bucket.indexes.length; n++) {
          const j = bucket.indexes[n]!;
          if (used[j] === 0 && this.equal(a[i], b[j], child)) {
            found = j;
            break;
          }
        }
      }
      if (found < 0) leftA.push(i);
      else used[found] = 1;
    }
    const leftB: number[] = [];
    for (const j of bIndexes) if (used[j] === 0) leftB.push(j);
    return { leftA, leftB };
  }

  equalPositionally(a: unknown[], b: unknown[], state: State): boolean {
    for (let i = 0; i < a.length; i++) if (!this.equal(a[i], b[i], stepPath(state, i))) return false;
    return true;
  }

  reportLeftovers(a: unknown[], b: unknown[], state: State, leftA: readonly number[], leftB: readonly number[], describe?: (value: unknown) => string | undefined): void {
    const steps = this.steps;
    for (const i of leftA) {
      if (this.stopped()) return;
      if (stepPath(state, i).info.ignore) continue;
      steps.push(i);
      this.report('missing', a[i], ABSENT, describe?.(a[i]));
      steps.pop();
    }
    for (const j of leftB) {
      if (this.stopped()) return;
      if (stepPath(state, j).info.ignore) continue;
      steps.push(j);
      this.report('extra', ABSENT, b[j], describe?.(b[j]));
      steps.pop();
    }
  }

  /**
   * Elements are paired by the value of `key` (numbers and strings with the
   * same text pair, so a changed id type shows as a `type` difference on the
   * key). The n-th duplicate pairs with the n-th duplicate; elements without
   * the key are compared by position among themselves. Order is ignored.
   */
  keyedArray(a: unknown[], b: unknown[], state: State, key: string): void {
    const byKey = new Map<string, number[]>();
    const unkeyedB: number[] = [];
    for (let j = 0; j < b.length; j++) {
      const k = keyOf(b[j], key);
      if (k === undefined) {
        unkeyedB.push(j);
        continue;
      }
      const list = byKey.get(k);
      if (list === undefined) byKey.set(k, [j]);
      else list.push(j);
    }
    const matchedB = new Uint8Array(b.length);
    const unkeyedA: number[] = [];
    const missingA: number[] = [];
    const steps = this.steps;
    for (let i = 0; i < a.length; i++) {
      const k = keyOf(a[i], key);
      if (k === undefined) {
        unkeyedA.push(i);
        continue;
      }
      const list = byKey.get(k);
      const j = list?.shift();
      if (j === undefined) {
        missingA.push(i);
        continue;
      }
      matchedB[j] = 1;
      const child = stepPath(state, i);
      if (child.info.ignore) continue;
      steps.push(i);
      this.node(a[i], b[j], child);
      steps.pop();
      if (this.stopped()) return;
    }
    const extraB: number[] = [];
    for (let j = 0; j < b.length; j++) if (matchedB[j] === 0 && keyOf(b[j], key) !== undefined) extraB.push(j);
    const describe = (value: unknown): string => `${key}=${keyOf(value, key)}`;
    this.reportLeftovers(a, b, state, missingA, extraB, describe);
    const overlap = Math.min(unkeyedA.length, unkeyedB.length);
    for (let n = 0; n < overlap && !this.stopped(); n++) {
      const i = unkeyedA[n]!;
      const child = stepPath(state, i);
      if (child.info.ignore) continue;
      steps.push(i);
      this.node(a[i], b[unkeyedB[n]!], child);
      steps.pop();
    }
    this.reportLeftovers(a, b, state, unkeyedA.slice(overlap), unkeyedB.slice(overlap), () => `no "${key}" member`);
  }

  /** Whether b holds a's elements at `positions` in another order (other positions are equal). */
  isPermutation(a: unknown[], b: unknown[], state: State, positions: readonly number[]): boolean {
    const { leftA, leftB } = this.pairEqualElements(a, b, state, positions, positions);
    return leftA.length === 0 && leftB.length === 0;
  }

  /**
   * A 32-bit structural hash, equal for values the rules call equal except
   * under numeric tolerance (not transitive; the tolerant leftover search
   * covers it): ignored nodes, case, instants and unordered arrays are
   * folded in, and object members combine without regard to order.
   */
  hash(value: unknown, state: State): number {
    const info = state.info;
    if (info.ignore) return 0x2545f491;
    const type = jsonType(value);
    if (type !== 'array' && type !== 'object') {
      if (info.timestampTolerance !== undefined || this.rules.timestampAuto) {
        const instant = info.timestampTolerance !== undefined ? parseTimestamp(value) : typeof value === 'string' ? parseIso8601(value) : undefined;
        if (instant !== undefined) return mix(this.hashNumber(instant), 0x5bd1e995);
      }
      switch (type) {
        case 'number':
          return typeof value === 'bigint' ? mix(hashString(value.toString()), 0x1b873593) : this.hashNumber(value as number);
        case 'string':
          return hashString(info.caseInsensitive ? (value as string).toLowerCase() : (value as string));
        case 'boolean':
          return value ? 0x3c6ef372 : 0x6a09e667;
        default:
          return 0x510e527f;
      }
    }
    if (type === 'array') {
      const arr = value as unknown[];
      const orderless = info.unordered || info.keyedBy !== undefined;
      let h = 0x9b05688c ^ arr.length;
      for (let i = 0; i < arr.length; i++) {
        const child = this.hash(arr[i], stepPath(state, i));
        h = orderless ? (h + mix(child, 0x85ebca6b)) | 0 : mix(h, child);
      }
      return h;
    }
    const obj = value as JsonObject;
    let h = 0x1f83d9ab;
    for (const key in obj) {
      const child = stepPath(state, key);
      if (child.info.ignore) continue;
      h = (h + mix(hashString(key), this.hash(obj[key], child))) | 0;
    }
    return h;
  }

  // Created on first use: most comparisons never hash.
  #float: Float64Array | undefined;
  #floatWords: Int32Array | undefined;

  hashNumber(n: number): number {
    if (this.#float === undefined) {
      this.#float = new Float64Array(1);
      this.#floatWords = new Int32Array(this.#float.buffer);
    }
    this.#float[0] = n === 0 ? 0 : n; // -0 === 0
    return mix(this.#floatWords![0]!, this.#floatWords![1]!);
  }
}

function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function mix(h: number, v: number): number {
  let x = Math.imul(h ^ v, 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77);
  return x ^ (x >>> 13);
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Marks "no value on this side" (distinct from JSON null). */
const ABSENT = Symbol('absent');

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  const t = typeof value;
  if (t === 'object') return Array.isArray(value) ? 'array' : 'object';
  if (t === 'bigint') return 'number';
  return t as JsonType;
}

/**
 * Integers beyond 2^53 arrive as bigint and compare exactly against each
 * other; against a double they compare as doubles.
 */
function numbersEqual(a: number | bigint, b: number | bigint, tolerance: { absolute: number; relative: number }): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (a === b) return true;
  } else if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (Number(a) === Number(b)) return true;
  }
  if (tolerance.absolute === 0 && tolerance.relative === 0) return false;
  const x = Number(a);
  const y = Number(b);
  const distance = Math.abs(x - y);
  return distance <= tolerance.absolute || distance <= tolerance.relative * Math.max(Math.abs(x), Math.abs(y));
}

function keyOf(element: unknown, key: string): string | undefined {
  if (element === null || typeof element !== 'object' || Array.isArray(element) || !hasOwn(element, key)) return undefined;
  const value = (element as JsonObject)[key];
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}

function formatMs(ms: number): string {
  if (ms >= 1000) return `${Math.round(ms) / 1000}s`;
  return `${Math.round(ms * 1000) / 1000}ms`;
}
