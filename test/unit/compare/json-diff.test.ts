import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResponses, compileRules, type Difference } from '../../../src/compare/index.ts';
import type { CompareRulesInput } from '../../../src/config/compare-schema.ts';
import { jsonMessage } from './messages.ts';

interface Case {
  name: string;
  rules?: CompareRulesInput;
  legacy: unknown;
  candidate: unknown;
  /** Expected differences as "kind path" (order as reported); [] means match. */
  expect: string[];
  /** Optional extra checks on the first difference. */
  first?: Partial<Difference>;
}

function run(cases: Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const result = compareResponses(jsonMessage(c.legacy), jsonMessage(c.candidate), compileRules(c.rules ?? {}));
      assert.deepEqual(
        result.differences.map((d) => `${d.kind} ${d.path}`),
        c.expect,
        JSON.stringify(result.differences, null, 1),
      );
      assert.equal(result.verdict, c.expect.length === 0 ? 'match' : 'mismatch');
      if (c.first !== undefined) {
        const first = result.differences[0]!;
        for (const [k, v] of Object.entries(c.first)) assert.deepEqual(first[k as keyof Difference], v, `${k} of ${JSON.stringify(first)}`);
      }
    });
  }
}

describe('JSON: difference kinds', () => {
  run([
    { name: 'equal documents match', legacy: { a: 1, b: [1, 2], c: { d: 'x' } }, candidate: { c: { d: 'x' }, b: [1, 2], a: 1 }, expect: [] },
    { name: 'value: same type, other value', legacy: { a: 1 }, candidate: { a: 2 }, expect: ['value $.a'], first: { legacy: 1, candidate: 2, generalPath: '$.a' } },
    { name: 'type: number vs string', legacy: { a: 1 }, candidate: { a: '1' }, expect: ['type $.a'], first: { detail: 'number vs string' } },
    { name: 'type: object vs array', legacy: { a: {} }, candidate: { a: [] }, expect: ['type $.a'] },
    { name: 'missing: legacy member absent in candidate', legacy: { a: 1, b: 2 }, candidate: { a: 1 }, expect: ['missing $.b'], first: { legacy: 2, candidate: undefined } },
    { name: 'extra: candidate member absent in legacy', legacy: { a: 1 }, candidate: { a: 1, b: { c: [1] } }, expect: ['extra $.b'], first: { candidate: '{"c":[1]}' } },
    { name: 'nested paths and indexes', legacy: { data: [{ price: 1 }, { price: 2 }, { price: 3 }, { price: 4 }] }, candidate: { data: [{ price: 1 }, { price: 2 }, { price: 3 }, { price: 5 }] }, expect: ['value $.data[3].price'], first: { generalPath: '$.data[*].price' } },
    { name: 'odd keys are quoted', legacy: { 'weird key': 1 }, candidate: { 'weird key': 2 }, expect: ["value $['weird key']"] },
    { name: 'keys that are ids group under .*', legacy: { users: { '123': { n: 'a' } } }, candidate: { users: { '123': { n: 'b' } } }, expect: ["value $.users['123'].n"], first: { generalPath: '$.users.*.n' } },
    { name: 'root type differs', legacy: [1], candidate: { a: 1 }, expect: ['type $'] },
    { name: 'booleans', legacy: { ok: true }, candidate: { ok: false }, expect: ['value $.ok'] },
    { name: 'members named like Object.prototype members are plain members', legacy: { constructor: 1, toString: 2 }, candidate: { __proto__: 3 } as unknown, expect: ['missing $.constructor', 'missing $.toString'] },
  ]);
});

describe('JSON: numbers', () => {
  run([
    { name: '1 equals 1.0', legacy: '{"a": 1}', candidate: '{"a": 1.0}', expect: [] },
    { name: '1e2 equals 100', legacy: '{"a": 1e2}', candidate: '{"a": 100}', expect: [] },
    { name: '-0 equals 0', legacy: '{"a": -0}', candidate: '{"a": 0}', expect: [] },
    { name: 'big integers beyond 2^53 are compared exactly', legacy: '{"id": 12345678901234567890}', candidate: '{"id": 12345678901234567891}', expect: ['value $.id'], first: { legacy: '12345678901234567890', candidate: '12345678901234567891' } },
    { name: 'equal big integers match', legacy: '{"id": 12345678901234567890}', candidate: '{"id": 12345678901234567890}', expect: [] },
    { name: 'big integer against the same value written as a double matches (compared as doubles)', legacy: '{"id": 12345678901234567890}', candidate: '{"id": 1.2345678901234567890e19}', expect: [] },
    { name: 'absolute tolerance at a path: inside', rules: { numbers: { paths: [{ path: '$.price', absolute: 0.01 }] } }, legacy: { price: 10 }, candidate: { price: 10.009 }, expect: [] },
    { name: 'absolute tolerance at a path: outside', rules: { numbers: { paths: [{ path: '$.price', absolute: 0.01 }] } }, legacy: { price: 10 }, candidate: { price: 10.02 }, expect: ['value $.price'] },
    { name: 'absolute tolerance does not leak to other paths', rules: { numbers: { paths: [{ path: '$.price', absolute: 0.01 }] } }, legacy: { qty: 10 }, candidate: { qty: 10.001 }, expect: ['value $.qty'] },
    { name: 'relative tolerance: inside', rules: { numbers: { paths: [{ path: '$..total', relative: 0.001 }] } }, legacy: { o: { total: 1000 } }, candidate: { o: { total: 1000.9 } }, expect: [] },
    { name: 'relative tolerance: outside', rules: { numbers: { paths: [{ path: '$..total', relative: 0.001 }] } }, legacy: { o: { total: 1000 } }, candidate: { o: { total: 1001.1 } }, expect: ['value $.o.total'] },
    { name: 'global tolerance applies everywhere', rules: { numbers: { absolute: 0.5 } }, legacy: { a: 1, b: [2] }, candidate: { a: 1.4, b: [2.5] }, expect: [] },
    { name: 'path tolerance overrides the global one', rules: { numbers: { absolute: 0.5, paths: [{ path: '$.exact', absolute: 0 }] } }, legacy: { a: 1, exact: 1 }, candidate: { a: 1.4, exact: 1.4 }, expect: ['value $.exact'] },
    { name: 'tolerance on a container holds below it', rules: { numbers: { paths: [{ path: '$.prices', absolute: 1 }] } }, legacy: { prices: { eur: 10, usd: [11] } }, candidate: { prices: { eur: 10.5, usd: [11.5] } }, expect: [] },
  ]);
});

describe('JSON: null vs missing', () => {
  run([
    { name: 'null vs missing member is `missing`', legacy: { a: null }, candidate: {}, expect: ['missing $.a'], first: { legacy: null } },
    { name: 'missing vs null member is `extra`', legacy: {}, candidate: { a: null }, expect: ['extra $.a'], first: { candidate: null } },
    { name: 'null vs a value is `type`', legacy: { a: null }, candidate: { a: 0 }, expect: ['type $.a'], first: { legacy: null, candidate: 0, detail: 'null vs number' } },
    { name: 'a value vs null is `type`', legacy: { a: 'x' }, candidate: { a: null }, expect: ['type $.a'] },
    { name: 'null vs null matches', legacy: { a: null }, candidate: { a: null }, expect: [] },
  ]);
});

describe('JSON: ignore rules', () => {
  run([
    { name: '$.items[*].id ignores ids only', rules: { ignore: ['$.items[*].id'] }, legacy: { items: [{ id: 1, idempotency_key: 'a' }] }, candidate: { items: [{ id: 2, idempotency_key: 'b' }] }, expect: ['value $.items[0].idempotency_key'] },
    { name: '$..id does not silence idempotency_key or uid', rules: { ignore: ['$..id'] }, legacy: { id: 1, x: { id: 1, uid: 1, idempotency_key: 'a' } }, candidate: { id: 2, x: { id: 2, uid: 2, idempotency_key: 'b' } }, expect: ['value $.x.uid', 'value $.x.idempotency_key'] },
    { name: '$..updated_at at every depth, including missing/extra', rules: { ignore: ['$..updated_at'] }, legacy: { updated_at: 1, a: { b: [{ updated_at: 2 }] } }, candidate: { a: { b: [{ updated_at: 3, }] , updated_at: 9 } }, expect: [] },
    { name: '$.meta.* ignores every member of meta', rules: { ignore: ['$.meta.*'] }, legacy: { meta: { a: 1, b: 2 }, data: 1 }, candidate: { meta: { a: 2, c: 3 }, data: 1 }, expect: [] },
    { name: '$.meta.* still compares meta itself', rules: { ignore: ['$.meta.*'] }, legacy: { meta: { a: 1 } }, candidate: { meta: [1] }, expect: ['type $.meta'] },
    { name: '$.a.b ignores the subtree', rules: { ignore: ['$.a.b'] }, legacy: { a: { b: { c: 1 }, d: 1 } }, candidate: { a: { b: { c: 2 }, d: 2 } }, expect: ['value $.a.d'] },
    { name: "$['weird key']", rules: { ignore: ["$['weird key']"] }, legacy: { 'weird key': 1, weird: 1 }, candidate: { 'weird key': 2, weird: 2 }, expect: ['value $.weird'] },
    { name: 'an index rule ignores one element', rules: { ignore: ['$.list[1]'] }, legacy: { list: [1, 2, 3] }, candidate: { list: [1, 9, 4] }, expect: ['value $.list[2]'] },
    { name: 'ignored extra array elements are not reported', rules: { ignore: ['$.list[*]'] }, legacy: { list: [1] }, candidate: { list: [1, 2] }, expect: [] },
    { name: '$ ignores the whole body', rules: { ignore: ['$'] }, legacy: { a: 1 }, candidate: [2], expect: [] },
  ]);
});

describe('JSON: strings', () => {
  run([
    { name: 'case differs without a rule', legacy: { c: 'EUR' }, candidate: { c: 'eur' }, expect: ['value $.c'] },
    { name: 'case-insensitive path', rules: { caseInsensitive: ['$.c'] }, legacy: { c: 'EUR', d: 'X' }, candidate: { c: 'eur', d: 'x' }, expect: ['value $.d'] },
    { name: 'case-insensitive below a container', rules: { caseInsensitive: ['$.codes'] }, legacy: { codes: ['AB', { x: 'CD' }] }, candidate: { codes: ['ab', { x: 'cd' }] }, expect: [] },
    { name: 'case-insensitive still reports other text', rules: { caseInsensitive: ['$.c'] }, legacy: { c: 'EUR' }, candidate: { c: 'usd' }, expect: ['value $.c'] },
  ]);
});

describe('JSON: timestamps', () => {
  const at = { timestamps: { paths: ['$.t'] } };
  run([
    { name: 'ISO Z vs +01:00 offset', rules: at, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: '2024-01-01T01:00:00+01:00' }, expect: [] },
    { name: 'ISO vs epoch seconds', rules: at, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067200 }, expect: [] },
    { name: 'ISO vs epoch milliseconds', rules: at, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067200000 }, expect: [] },
    { name: 'epoch seconds vs epoch milliseconds', rules: at, legacy: { t: 1704067200 }, candidate: { t: 1704067200000 }, expect: [] },
    { name: 'epoch as a numeric string', rules: at, legacy: { t: '1704067200' }, candidate: { t: '2024-01-01T00:00:00.000Z' }, expect: [] },
    { name: 'fraction precision .5 vs .500000', rules: at, legacy: { t: '2024-01-01T00:00:00.5Z' }, candidate: { t: '2024-01-01T00:00:00.500000Z' }, expect: [] },
    { name: 'no fraction vs .000', rules: at, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: '2024-01-01T00:00:00.000+00:00' }, expect: [] },
    { name: 'negative offset without colon', rules: at, legacy: { t: '2023-12-31T19:00:00-0500' }, candidate: { t: '2024-01-01T00:00:00Z' }, expect: [] },
    { name: 'HTTP date', rules: at, legacy: { t: 'Mon, 01 Jan 2024 00:00:00 GMT' }, candidate: { t: 1704067200 }, expect: [] },
    { name: 'different instants are a value difference', rules: at, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067201 }, expect: ['value $.t'], first: { detail: 'instants differ by 1s' } },
    { name: 'sub-millisecond difference without tolerance', rules: at, legacy: { t: '2024-01-01T00:00:00.123Z' }, candidate: { t: '2024-01-01T00:00:00.1234Z' }, expect: ['value $.t'] },
    { name: 'global tolerance', rules: { timestamps: { paths: ['$.t'], tolerance: '1s' } }, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067200999 }, expect: [] },
    { name: 'per-path tolerance', rules: { timestamps: { paths: [{ path: '$.t', tolerance: 500 }] } }, legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067200600 }, expect: ['value $.t'] },
    { name: 'not a timestamp path: compared as values', legacy: { t: '2024-01-01T00:00:00Z' }, candidate: { t: 1704067200 }, expect: ['type $.t'] },
    { name: 'auto: ISO vs epoch ms anywhere', rules: { timestamps: { auto: true } }, legacy: { x: { created: '2024-01-01T00:00:00Z' } }, candidate: { x: { created: 1704067200000 } }, expect: [] },
    { name: 'auto: ISO vs ISO in another zone', rules: { timestamps: { auto: true } }, legacy: { x: '2024-01-01T00:00:00Z' }, candidate: { x: '2024-01-01T09:00:00+09:00' }, expect: [] },
    { name: 'auto does not treat plain numbers as time', rules: { timestamps: { auto: true } }, legacy: { n: 1704067200 }, candidate: { n: 1704067200000 }, expect: ['value $.n'] },
    { name: 'a timestamp path with a non-timestamp value falls back to value comparison', rules: at, legacy: { t: 'soon' }, candidate: { t: 'later' }, expect: ['value $.t'] },
  ]);
});

describe('JSON: arrays', () => {
  run([
    { name: 'reordered array is one order difference', legacy: { a: [1, 2, 3, 4] }, candidate: { a: [4, 3, 2, 1] }, expect: ['order $.a'], first: { detail: 'the same 4 elements in another order' } },
    { name: 'reordered objects are one order difference', legacy: { a: [{ id: 1 }, { id: 2 }] }, candidate: { a: [{ id: 2 }, { id: 1 }] }, expect: ['order $.a'] },
    { name: 'reorder with an element changed is positional', legacy: { a: [1, 2, 3] }, candidate: { a: [3, 2, 9] }, expect: ['value $.a[0]', 'value $.a[2]'] },
    { name: 'one inserted element is one extra', legacy: { a: [1, 2, 3] }, candidate: { a: [1, 9, 2, 3] }, expect: ['extra $.a[1]'], first: { candidate: 9 } },
    { name: 'one removed element is one missing', legacy: { a: ['x', 'y', 'z'] }, candidate: { a: ['x', 'z'] }, expect: ['missing $.a[1]'], first: { legacy: 'y' } },
    { name: 'appended elements are extra', legacy: { a: [1] }, candidate: { a: [1, 2, 3] }, expect: ['extra $.a[1]', 'extra $.a[2]'] },
    { name: 'unordered: same multiset matches', rules: { arrays: { unordered: ['$.tags'] } }, legacy: { tags: ['a', 'b', 'b'] }, candidate: { tags: ['b', 'a', 'b'] }, expect: [] },
    { name: 'unordered: multiplicity counts', rules: { arrays: { unordered: ['$.tags'] } }, legacy: { tags: ['a', 'b', 'b'] }, candidate: { tags: ['b', 'a', 'a'] }, expect: ['missing $.tags[2]', 'extra $.tags[2]'] },
    { name: 'unordered honours ignore inside elements', rules: { arrays: { unordered: ['$.l'] }, ignore: ['$.l[*].ts'] }, legacy: { l: [{ v: 1, ts: 1 }, { v: 2, ts: 2 }] }, candidate: { l: [{ v: 2, ts: 8 }, { v: 1, ts: 9 }] }, expect: [] },
    { name: 'unordered honours tolerance by pairing leftovers', rules: { arrays: { unordered: ['$.l'] }, numbers: { absolute: 0.1 } }, legacy: { l: [1, 2] }, candidate: { l: [2.05, 0.95] }, expect: [] },
    { name: 'unordered rule holds at the named array only', rules: { arrays: { unordered: ['$.l'] } }, legacy: { l: [[1, 2]] }, candidate: { l: [[2, 1]] }, expect: ['missing $.l[0]', 'extra $.l[0]'] },
    { name: 'keyed: matched by id regardless of order', rules: { arrays: { keyed: [{ path: '$.items', key: 'id' }] } }, legacy: { items: [{ id: 1, p: 10 }, { id: 2, p: 20 }] }, candidate: { items: [{ id: 2, p: 20 }, { id: 1, p: 11 }] }, expect: ['value $.items[0].p'], first: { generalPath: '$.items[*].p' } },
    { name: 'keyed: missing and extra elements name their key', rules: { arrays: { keyed: [{ path: '$.items', key: 'id' }] } }, legacy: { items: [{ id: 1 }, { id: 2 }] }, candidate: { items: [{ id: 3 }, { id: 1 }] }, expect: ['missing $.items[1]', 'extra $.items[0]'], first: { detail: 'id=2' } },
    { name: 'keyed: number and string keys pair; the key type change is reported', rules: { arrays: { keyed: [{ path: '$.items', key: 'id' }] } }, legacy: { items: [{ id: 7 }] }, candidate: { items: [{ id: '7' }] }, expect: ['type $.items[0].id'] },
    { name: 'keyed: nested arrays of objects matched by their own keys', rules: { arrays: { keyed: [{ path: '$.orders', key: 'id' }, { path: '$.orders[*].lines', key: 'sku' }] } }, legacy: { orders: [{ id: 'a', lines: [{ sku: 'x', q: 1 }, { sku: 'y', q: 2 }] }, { id: 'b', lines: [] }] }, candidate: { orders: [{ id: 'b', lines: [] }, { id: 'a', lines: [{ sku: 'y', q: 3 }, { sku: 'x', q: 1 }] }] }, expect: ['value $.orders[0].lines[1].q'], first: { legacy: 2, candidate: 3, generalPath: '$.orders[*].lines[*].q' } },
    { name: 'keyed via recursive descent', rules: { arrays: { keyed: [{ path: '$..lines', key: 'sku' }] } }, legacy: { a: { lines: [{ sku: 1 }, { sku: 2 }] } }, candidate: { a: { lines: [{ sku: 2 }, { sku: 1 }] } }, expect: [] },
    { name: 'keyed: duplicates pair in order', rules: { arrays: { keyed: [{ path: '$.l', key: 'k' }] } }, legacy: { l: [{ k: 1, v: 'a' }, { k: 1, v: 'b' }] }, candidate: { l: [{ k: 1, v: 'a' }, { k: 1, v: 'c' }] }, expect: ['value $.l[1].v'] },
    { name: 'keyed: elements without the key are compared by position', rules: { arrays: { keyed: [{ path: '$.l', key: 'k' }] } }, legacy: { l: [{ k: 1 }, 'loose'] }, candidate: { l: ['other', { k: 1 }] }, expect: ['value $.l[1]'] },
  ]);
});

describe('JSON: rules merge (route extends global)', () => {
  it('route lists extend global lists and route scalars replace global scalars', () => {
    const rules = compileRules({ ignore: ['$.a'], numbers: { absolute: 1 } }, { ignore: ['$.b'], numbers: { absolute: 0 } });
    const r = compareResponses(jsonMessage({ a: 1, b: 1, c: 1 }), jsonMessage({ a: 2, b: 2, c: 1.5 }), rules);
    assert.deepEqual(r.differences.map((d) => d.path), ['$.c']);
  });
  it('an unset route scalar inherits the global one', () => {
    const rules = compileRules({ numbers: { absolute: 1 } }, { ignore: ['$.b'] });
    const r = compareResponses(jsonMessage({ c: 1 }), jsonMessage({ c: 1.5 }), rules);
    assert.equal(r.verdict, 'match');
  });
});

describe('JSON: difference cap', () => {
  it('stops at body.maxDifferences and says so', () => {
    const legacy = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const candidate = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i + 1]));
    const r = compareResponses(jsonMessage(legacy), jsonMessage(candidate), compileRules({ body: { maxDifferences: 5 } }));
    assert.equal(r.differences.length, 5);
    assert.equal(r.truncated, true);
    assert.equal(r.verdict, 'mismatch');
  });
  it('a long reordered array is still one order difference when the cap is hit', () => {
    const a = Array.from({ length: 500 }, (_, i) => i);
    const r = compareResponses(jsonMessage({ a }), jsonMessage({ a: [...a].reverse() }), compileRules({ body: { maxDifferences: 10 } }));
    assert.deepEqual(r.differences.map((d) => d.kind), ['order']);
    assert.equal(r.truncated, false);
  });
  it('long strings in differences are shortened', () => {
    const r = compareResponses(jsonMessage({ s: 'x'.repeat(5000) }), jsonMessage({ s: 'y'.repeat(5000) }), compileRules());
    assert.ok((r.differences[0]!.legacy as string).length < 300);
  });
});
