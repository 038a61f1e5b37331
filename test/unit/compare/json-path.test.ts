import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatJsonPath, generaliseJsonPath, parseJsonPath, tryParseJsonPath, type PathStep } from '../../../src/compare/index.ts';
import { compilePathAutomaton, stepPath } from '../../../src/compare/path-automaton.ts';

describe('parseJsonPath', () => {
  const valid: Array<[string, unknown]> = [
    ['$', []],
    ['$.a.b', [{ type: 'name', name: 'a', descendant: false }, { type: 'name', name: 'b', descendant: false }]],
    ['$.meta.*', [{ type: 'name', name: 'meta', descendant: false }, { type: 'wildcard', descendant: false }]],
    ['$..updated_at', [{ type: 'name', name: 'updated_at', descendant: true }]],
    ['$.items[*].id', [{ type: 'name', name: 'items', descendant: false }, { type: 'wildcard', descendant: false }, { type: 'name', name: 'id', descendant: false }]],
    ["$['weird key']", [{ type: 'name', name: 'weird key', descendant: false }]],
    ['$["it\'s"]', [{ type: 'name', name: "it's", descendant: false }]],
    ["$['a\\'b']", [{ type: 'name', name: "a'b", descendant: false }]],
    ['$.data[3].price', [{ type: 'name', name: 'data', descendant: false }, { type: 'index', index: 3, descendant: false }, { type: 'name', name: 'price', descendant: false }]],
    ['$..[*]', [{ type: 'wildcard', descendant: true }]],
    ["$..['x y']", [{ type: 'name', name: 'x y', descendant: true }]],
    ['$.x-request-id', [{ type: 'name', name: 'x-request-id', descendant: false }]],
    ['$.$ref', [{ type: 'name', name: '$ref', descendant: false }]],
  ];
  for (const [path, segments] of valid) {
    it(`parses ${path}`, () => assert.deepEqual(parseJsonPath(path), segments));
  }

  const invalid: Array<[string, RegExp]> = [
    ['', /the path is empty/],
    ['items.id', /a path starts with "\$"/],
    ['$.', /ends with "\."/],
    ['$..', /".." must be followed/],
    ['$...a', /"\.\.\." is not valid/],
    ['$.items[*', /expected "\]"/],
    ['$.items[', /unclosed "\["/],
    ["$['abc", /unclosed quote/],
    ['$.items[-1]', /negative indexes are not supported/],
    ['$.items[?(@.id)]', /filter expressions/],
    ['$.items[0:2]', /slices/],
    ["$['a','b']", /unions/],
    ['$.3', /write \[3\] for an array index/],
    ['$.a b', /unexpected " "/],
    ['$.items[01]', /leading zeros/],
    ['$.a[b]', /must be followed by \*, an index or a quoted name/],
  ];
  for (const [path, message] of invalid) {
    it(`rejects ${JSON.stringify(path)} with a clear message`, () => {
      const r = tryParseJsonPath(path);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.match(r.error, message);
        assert.ok(r.error.startsWith(`invalid path "${path}"`), r.error);
      }
      assert.throws(() => parseJsonPath(path), message);
    });
  }
});

describe('formatJsonPath / generaliseJsonPath', () => {
  const table: Array<[PathStep[], string, string]> = [
    [[], '$', '$'],
    [['data', 3, 'price'], '$.data[3].price', '$.data[*].price'],
    [['weird key'], "$['weird key']", "$['weird key']"],
    [["it's"], "$['it\\'s']", "$['it\\'s']"],
    [['users', '123', 'name'], "$['123'].name".replace('$', '$.users'), '$.users.*.name'],
    [['by_id', '0b7e5a0c-1f0e-4d5a-9c1e-2b3f4a5b6c7d'], "$.by_id['0b7e5a0c-1f0e-4d5a-9c1e-2b3f4a5b6c7d']", '$.by_id.*'],
    [['matrix', 0, 1], '$.matrix[0][1]', '$.matrix[*][*]'],
  ];
  for (const [steps, concrete, general] of table) {
    it(`${concrete} groups as ${general}`, () => {
      assert.equal(formatJsonPath(steps), concrete);
      assert.equal(generaliseJsonPath(steps), general);
    });
  }

  it('formats paths that parse back to the same steps', () => {
    const steps: PathStep[] = ['a b', 2, "q'uote", 'back\\slash', 'ok'];
    const segments = parseJsonPath(formatJsonPath(steps));
    assert.deepEqual(
      segments.map((s) => (s.type === 'name' ? s.name : s.type === 'index' ? s.index : '*')),
      steps,
    );
  });
});

describe('path automaton matching', () => {
  // Each case: rule path, inherit, concrete path, expected match.
  const table: Array<[string, boolean, PathStep[], boolean]> = [
    ['$.items[*].id', true, ['items', 0, 'id'], true],
    ['$.items[*].id', true, ['items', 0, 'idempotency_key'], false],
    ['$.items[*].id', true, ['items', 0, 'id', 'nested'], true],
    ['$.items[*].id', false, ['items', 0, 'id', 'nested'], false],
    ['$.items[*].id', true, ['other', 0, 'id'], false],
    ['$..id', true, ['id'], true],
    ['$..id', true, ['a', 'b', 3, 'id'], true],
    ['$..id', true, ['a', 'b', 3, 'uid'], false],
    ['$..id', true, ['a', 'ids'], false],
    ['$.meta.*', true, ['meta', 'anything'], true],
    ['$.meta.*', true, ['meta'], false],
    ['$.meta.*', true, ['metadata', 'x'], false],
    ['$.a.b', true, ['a', 'b'], true],
    ['$.a.b', true, ['a', 'bb'], false],
    ["$['weird key']", true, ['weird key'], true],
    ["$['weird key']", true, ['weird'], false],
    ['$.data[3]', true, ['data', 3], true],
    ['$.data[3]', true, ['data', 4], false],
    ['$.data[3]', true, ['data', '3'], false],
    ["$.data['3']", true, ['data', '3'], true],
    ['$.data[*]', true, ['data', 'x'], true],
    ['$.data.*', true, ['data', 7], true],
    ['$..items[*].price', true, ['orders', 2, 'items', 5, 'price'], true],
    ['$', true, ['anything', 1], true],
  ];
  for (const [rule, inherit, steps, expected] of table) {
    it(`${rule}${inherit ? '' : ' (exact)'} ${expected ? 'matches' : 'does not match'} ${formatJsonPath(steps)}`, () => {
      const root = compilePathAutomaton([{ segments: parseJsonPath(rule), inherit, action: 1 }], (a) => a.length > 0);
      let state = root;
      for (const step of steps) state = stepPath(state, step);
      assert.equal(state.info, expected);
    });
  }

  it('combines many rules into one automaton and keeps them apart', () => {
    const rules = ['$..updated_at', '$.items[*].id', '$.meta.*'];
    const root = compilePathAutomaton(
      rules.map((r, i) => ({ segments: parseJsonPath(r), inherit: false, action: i })),
      (actions) => actions.join(','),
    );
    const walk = (...steps: PathStep[]) => steps.reduce((s, step) => stepPath(s, step), root).info;
    assert.equal(walk('items', 1, 'id'), '1');
    assert.equal(walk('items', 1, 'updated_at'), '0');
    assert.equal(walk('meta', 'updated_at'), '0,2');
    assert.equal(walk('items', 1, 'idempotency_key'), '');
  });
});
