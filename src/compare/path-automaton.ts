/**
 * Compiles many rule paths into one deterministic automaton, so the diff walk
 * learns which rules apply at a node with one map lookup per step, whatever
 * the number of rules, and never builds path strings for nodes that match.
 *
 * States are built eagerly (subset construction) when rules are compiled, so
 * comparing never allocates automaton state.
 */
import type { PathSegment, PathStep } from './json-path.ts';

export interface PathPattern<A> {
  segments: readonly PathSegment[];
  /** When true the pattern also holds for every node below the one it names (ignore, tolerance…). */
  inherit: boolean;
  action: A;
}

export interface AutomatonState<I> {
  /** No pattern can match here or below: the walk may skip all lookups. */
  readonly dead: boolean;
  /** What the compiler's `summarise` made of the patterns that hold at this node. */
  readonly info: I;
  readonly names: ReadonlyMap<string, AutomatonState<I>> | undefined;
  readonly indexes: ReadonlyMap<number, AutomatonState<I>> | undefined;
  readonly otherName: AutomatonState<I>;
  readonly otherIndex: AutomatonState<I>;
}

interface MutableState<I> {
  dead: boolean;
  info: I;
  names: Map<string, MutableState<I>> | undefined;
  indexes: Map<number, MutableState<I>> | undefined;
  otherName: MutableState<I>;
  otherIndex: MutableState<I>;
}

/** Bounds compile time and memory for pathological rule sets (many `..` rules). */
export const MAX_AUTOMATON_STATES = 20_000;

const POSITION_BITS = 1024;
const OTHER = Symbol('other');

/**
 * @example
 * const root = compilePathAutomaton(
 *   [{ segments: parseJsonPath('$..id'), inherit: true, action: 'ignore' }],
 *   (actions) => actions.length > 0,
 * );
 * stepPath(root, 'items').info // false
 * stepPath(stepPath(root, 'items'), 'id').info // true
 */
export function compilePathAutomaton<A, I>(patterns: readonly PathPattern<A>[], summarise: (accepted: readonly A[]) => I): AutomatonState<I> {
  for (const p of patterns) {
    if (p.segments.length >= POSITION_BITS) throw new Error(`a rule path may have at most ${POSITION_BITS - 1} segments`);
  }
  const deadInfo = summarise([]);
  const dead = { dead: true, info: deadInfo, names: undefined, indexes: undefined } as unknown as MutableState<I>;
  dead.otherName = dead;
  dead.otherIndex = dead;

  const byKey = new Map<string, MutableState<I>>();
  const pending: Array<{ state: MutableState<I>; positions: number[] }> = [];

  const intern = (positions: number[]): MutableState<I> => {
    if (positions.length === 0) return dead;
    const key = positions.join(',');
    const existing = byKey.get(key);
    if (existing !== undefined) return existing;
    if (byKey.size >= MAX_AUTOMATON_STATES) {
      throw new Error(`the comparison rules are too complex (more than ${MAX_AUTOMATON_STATES} matcher states); use fewer ".." rules`);
    }
    const accepted: A[] = [];
    for (const pos of positions) {
      const p = Math.floor(pos / POSITION_BITS);
      if (pos % POSITION_BITS === patterns[p]!.segments.length) accepted.push(patterns[p]!.action);
    }
    const state = { dead: false, info: summarise(accepted), names: undefined, indexes: undefined } as unknown as MutableState<I>;
    byKey.set(key, state);
    pending.push({ state, positions });
    return state;
  };

  const advance = (positions: readonly number[], step: string | number | typeof OTHER, isIndex: boolean): number[] => {
    const next = new Set<number>();
    for (const pos of positions) {
      const p = Math.floor(pos / POSITION_BITS);
      const at = pos % POSITION_BITS;
      const pattern = patterns[p]!;
      if (at === pattern.segments.length) {
        if (pattern.inherit) next.add(pos);
        continue;
      }
      const seg = pattern.segments[at]!;
      if (seg.descendant) next.add(pos);
      if (segmentMatches(seg, step, isIndex)) next.add(pos + 1);
    }
    return [...next].sort((a, b) => a - b);
  };

  const root = intern(patterns.map((_, p) => p * POSITION_BITS));
  while (pending.length > 0) {
    const { state, positions } = pending.pop()!;
    const names = new Set<string>();
    const indexes = new Set<number>();
    for (const pos of positions) {
      const pattern = patterns[Math.floor(pos / POSITION_BITS)]!;
      const seg = pattern.segments[pos % POSITION_BITS];
      if (seg?.type === 'name') names.add(seg.name);
      else if (seg?.type === 'index') indexes.add(seg.index);
    }
    state.otherName = intern(advance(positions, OTHER, false));
    state.otherIndex = intern(advance(positions, OTHER, true));
    if (names.size > 0) {
      state.names = new Map();
      for (const name of names) state.names.set(name, intern(advance(positions, name, false)));
    }
    if (indexes.size > 0) {
      state.indexes = new Map();
      for (const index of indexes) state.indexes.set(index, intern(advance(positions, index, true)));
    }
  }
  return root;
}

function segmentMatches(seg: PathSegment, step: string | number | typeof OTHER, isIndex: boolean): boolean {
  if (seg.type === 'wildcard') return true;
  if (seg.type === 'name') return !isIndex && step === seg.name;
  return isIndex && step === seg.index;
}

/**
 * The state for a child node. Member names are strings, array indexes numbers.
 * @example stepPath(root, 'items')
 */
export function stepPath<I>(state: AutomatonState<I>, step: PathStep): AutomatonState<I> {
  if (state.dead) return state;
  if (typeof step === 'number') return state.indexes?.get(step) ?? state.otherIndex;
  return state.names?.get(step) ?? state.otherName;
}
