import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRules, ENGINE_DEFAULTS, mergeRules } from '../../../src/compare/index.ts';
import { compareRulesSchema } from '../../../src/config/compare-schema.ts';
import { isCutoverError } from '../../../src/core/errors.ts';

describe('compareRulesSchema', () => {
  it('parses {} with every default', () => {
    const parsed = compareRulesSchema.parse({});
    assert.deepEqual(parsed.ignore, []);
    assert.deepEqual(parsed.headers, { ignore: [], only: [], keep: [], defaultIgnores: null });
    assert.deepEqual(parsed.numbers, { absolute: null, relative: null, paths: [] });
    assert.deepEqual(parsed.noise, { relativeThreshold: null, absoluteThreshold: null, minSamples: null });
  });

  it('accepts a full example', () => {
    const parsed = compareRulesSchema.parse({
      ignore: ['$.meta.*', '$..updated_at', "$['weird key']"],
      caseInsensitive: ['$.currency'],
      headers: { ignore: ['x-debug-*'], keep: ['etag'] },
      numbers: { relative: 0.001, paths: [{ path: '$.items[*].price', absolute: 0.01 }] },
      timestamps: { paths: ['$..created_at', { path: '$.expires_at', tolerance: '2s' }], tolerance: '500ms' },
      arrays: { unordered: ['$.tags'], keyed: [{ path: '$.items', key: 'id' }] },
      body: { maxDecodedBytes: 1048576, maxDifferences: 50 },
      noise: { relativeThreshold: 0.25, absoluteThreshold: 0.001, minSamples: 50 },
    });
    assert.equal(parsed.timestamps.tolerance, 500);
    assert.deepEqual(parsed.timestamps.paths[1], { path: '$.expires_at', tolerance: 2000 });
    assert.equal(parsed.numbers.paths[0]!.relative, 0);
  });

  const invalid: Array<[string, unknown, string, RegExp]> = [
    ['bad ignore path', { ignore: ['items.id'] }, 'ignore.0', /invalid path "items\.id": a path starts with "\$"/],
    ['unclosed bracket', { ignore: ['$.items[*.id'] }, 'ignore.0', /invalid path "\$\.items\[\*\.id": expected "\]" \(at character 10\)/],
    ['bad keyed path', { arrays: { keyed: [{ path: '$.items[?(@.x)]', key: 'id' }] } }, 'arrays.keyed.0.path', /filter expressions/],
    ['empty key', { arrays: { keyed: [{ path: '$.items', key: '' }] } }, 'arrays.keyed.0.key', /key names the member/],
    ['bad tolerance path', { numbers: { paths: [{ path: '$.', absolute: 1 }] } }, 'numbers.paths.0.path', /ends with "\."/],
    ['negative tolerance', { numbers: { absolute: -1 } }, 'numbers.absolute', /too small|>=0/],
    ['bad duration', { timestamps: { tolerance: 'soon' } }, 'timestamps.tolerance', /"soon" is not a duration/],
    ['bad header name', { headers: { ignore: ['x request'] } }, 'headers.ignore.0', /expected a header name/],
    ['threshold above 1', { noise: { relativeThreshold: 2 } }, 'noise.relativeThreshold', /too big|<=1/],
    ['unknown key', { ignored: [] }, '', /Unrecognized key/],
  ];
  for (const [name, input, path, message] of invalid) {
    it(`rejects ${name} with a clear message at ${path || '(root)'}`, () => {
      const r = compareRulesSchema.safeParse(input);
      assert.equal(r.success, false);
      const issue = r.error!.issues[0]!;
      assert.equal(issue.path.join('.'), path);
      assert.match(issue.message, message);
    });
  }
});

describe('compileRules', () => {
  it('throws CUTOVER_ERR_CONFIG_INVALID naming every bad rule', () => {
    assert.throws(
      () => compileRules({ ignore: ['$.ok', 'bad'] }, { caseInsensitive: ['$[x]'] }),
      (err: unknown) => {
        assert.ok(isCutoverError(err));
        assert.equal(err.code, 'CUTOVER_ERR_CONFIG_INVALID');
        assert.match(err.message, /compare\.ignore\[1\]: invalid path "bad"/);
        return true;
      },
    );
    assert.throws(() => compileRules({}, { caseInsensitive: ['$[x]'] }), /rules\.caseInsensitive\[0\]: invalid path "\$\[x\]"/);
  });

  it('uses engine defaults for unset scalars', () => {
    const rules = compileRules();
    assert.equal(rules.maxDifferences, ENGINE_DEFAULTS.maxDifferences);
    assert.equal(rules.maxDecodedBytes, ENGINE_DEFAULTS.maxDecodedBytes);
    assert.deepEqual(rules.noise, { relativeThreshold: 0.2, absoluteThreshold: 0.0003, minSamples: 20 });
    assert.deepEqual(rules.tolerance, { absolute: 0, relative: 0 });
  });

  it('accepts already parsed (frozen) config', () => {
    const parsed = Object.freeze(compareRulesSchema.parse({ ignore: ['$.a'], timestamps: { tolerance: '1s' } }));
    const rules = compileRules(parsed);
    assert.equal(rules.timestampTolerance, 1000);
  });
});

describe('mergeRules', () => {
  const global = compareRulesSchema.parse({ ignore: ['$.a'], headers: { defaultIgnores: false }, body: { maxDifferences: 10 }, noise: { minSamples: 5 } });
  const table: Array<[string, unknown, (m: ReturnType<typeof mergeRules>) => unknown, unknown]> = [
    ['lists append route after global', { ignore: ['$.b'] }, (m) => m.ignore, ['$.a', '$.b']],
    ['unset scalars inherit', {}, (m) => m.body.maxDifferences, 10],
    ['set scalars replace', { body: { maxDifferences: 3 } }, (m) => m.body.maxDifferences, 3],
    ['a route can set a boolean back to true', { headers: { defaultIgnores: true } }, (m) => m.headers.defaultIgnores, true],
    ['noise thresholds inherit per field', { noise: { relativeThreshold: 0.5 } }, (m) => m.noise, { relativeThreshold: 0.5, absoluteThreshold: null, minSamples: 5 }],
  ];
  for (const [name, route, pick, expected] of table) {
    it(name, () => assert.deepEqual(pick(mergeRules(global, compareRulesSchema.parse(route))), expected));
  }
});
