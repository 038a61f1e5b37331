/**
 * A map keyed by a short tuple of strings, such as (route, endpoint, outcome,
 * reason), nested one Map per key part. Counters that run once per request
 * key on such tuples; a joined string key (`${a}\n${b}\n${c}`) builds, flattens
 * and hashes a new string on every call, and that garbage was most of what a
 * skipped comparison cost. Here a lookup of a tuple seen before allocates
 * nothing: each part's hash is cached in the string itself.
 *
 * The parts a map is used with must have a fixed count: `get('a', 'b')` and
 * `get('a', 'b', 'c')` name different depths, and mixing them in one map is a
 * bug this type does not catch.
 */

export interface TupleMap<V> {
  get(a: string, b: string, c?: string, d?: string): V | undefined;
  /** Stores `value` under the tuple (replacing what was there) and returns it. */
  set(value: V, a: string, b: string, c?: string, d?: string): V;
  /** Every value, in the order its tuple was first set. */
  values(): IterableIterator<V>;
  readonly size: number;
}

type Level = Map<string, unknown>;
interface Slot<V> {
  value: V;
}

/**
 * @example
 * const totals = createTupleMap<{ count: number }>();
 * const cell = totals.get(route, endpoint, reason) ?? totals.set({ count: 0 }, route, endpoint, reason);
 * cell.count++;
 */
export function createTupleMap<V>(): TupleMap<V> {
  const root: Level = new Map();
  // The leaves hold slots, also listed here, so `values()` needs no walk and keeps first-set order.
  const slots: Array<Slot<V>> = [];

  const slotOf = (a: string, b: string, c: string | undefined, d: string | undefined): Slot<V> | undefined => {
    const l1 = root.get(a) as Level | undefined;
    if (l1 === undefined) return undefined;
    if (c === undefined) return l1.get(b) as Slot<V> | undefined;
    const l2 = l1.get(b) as Level | undefined;
    if (l2 === undefined) return undefined;
    if (d === undefined) return l2.get(c) as Slot<V> | undefined;
    const l3 = l2.get(c) as Level | undefined;
    return l3 === undefined ? undefined : (l3.get(d) as Slot<V> | undefined);
  };

  const child = (level: Level, key: string): Level => {
    let next = level.get(key) as Level | undefined;
    if (next === undefined) level.set(key, (next = new Map()));
    return next;
  };

  return {
    get(a, b, c, d) {
      return slotOf(a, b, c, d)?.value;
    },
    set(value, a, b, c, d) {
      const existing = slotOf(a, b, c, d);
      if (existing !== undefined) {
        existing.value = value;
        return value;
      }
      const slot: Slot<V> = { value };
      const l1 = child(root, a);
      if (c === undefined) l1.set(b, slot);
      else if (d === undefined) child(l1, b).set(c, slot);
      else child(child(l1, b), c).set(d, slot);
      slots.push(slot);
      return value;
    },
    *values() {
      for (const slot of slots) yield slot.value;
    },
    get size() {
      return slots.length;
    },
  };
}
