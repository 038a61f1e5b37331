import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTupleMap } from '../../../src/core/tuple-map.ts';

test('createTupleMap keeps tuples apart that a joined string key would merge', () => {
  const m = createTupleMap<number>();
  // With a '\n'-joined key these two would both be "a\nb\nc".
  m.set(1, 'a\nb', 'c', 'x');
  m.set(2, 'a', 'b\nc', 'x');
  assert.equal(m.get('a\nb', 'c', 'x'), 1);
  assert.equal(m.get('a', 'b\nc', 'x'), 2);
  assert.equal(m.size, 2);
});

test('createTupleMap looks up two, three and four parts, and misses at every level', () => {
  const cases: Array<{ parts: [string, string, string?, string?] }> = [
    { parts: ['route', 'GET'] },
    { parts: ['route', 'GET', '/users/{id}'] },
    { parts: ['route', '/users/{id}', 'skipped', ''] },
  ];
  for (const { parts } of cases) {
    const m = createTupleMap<string>();
    const [a, b, c, d] = parts;
    assert.equal(m.get(a, b, c, d), undefined, `${parts.length} parts: empty map`);
    assert.equal(m.set('v', a, b, c, d), 'v');
    assert.equal(m.get(a, b, c, d), 'v');
    assert.equal(m.get('other', b, c, d), undefined, 'first part differs');
    assert.equal(m.get(a, 'other', c, d), undefined, 'second part differs');
    if (c !== undefined) assert.equal(m.get(a, b, 'other', d), undefined, 'third part differs');
    if (d !== undefined) assert.equal(m.get(a, b, c, 'other'), undefined, 'fourth part differs');
  }
});

test('createTupleMap replaces in place and lists values in first-set order', () => {
  const m = createTupleMap<{ n: number }>();
  m.set({ n: 1 }, 'r1', 'e1', 'skipped', 'timeout');
  m.set({ n: 2 }, 'r2', 'e1', 'match', '');
  m.set({ n: 3 }, 'r1', 'e1', 'skipped', 'queue_full');
  m.set({ n: 10 }, 'r1', 'e1', 'skipped', 'timeout');
  assert.deepEqual([...m.values()].map((v) => v.n), [10, 2, 3]);
  assert.equal(m.size, 3);
  const cell = m.get('r2', 'e1', 'match', '')!;
  cell.n++;
  assert.equal(m.get('r2', 'e1', 'match', '')!.n, 3, 'get returns the stored object, so counters update in place');
});
