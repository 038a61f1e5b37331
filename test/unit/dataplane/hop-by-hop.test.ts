import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionTokens } from '../../../src/dataplane/hop-by-hop.ts';

test('connectionTokens returns the extra fields a Connection header names, lower-cased', () => {
  const cases: Array<[string | undefined, string[] | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['keep-alive', undefined],
    ['Keep-Alive', undefined],
    ['close', undefined],
    ['CLOSE', undefined],
    [' close ', undefined],
    ['Upgrade', undefined],
    ['x-trace', ['x-trace']],
    ['X-Trace', ['x-trace']],
    ['keep-alive, X-Foo', ['x-foo']],
    ['close,x-a, x-b ,', ['x-a', 'x-b']],
    ['x-verylongfieldname', ['x-verylongfieldname']],
  ];
  for (const [value, expected] of cases) {
    const got = connectionTokens(value);
    assert.deepEqual(got === undefined ? undefined : [...got], expected, `Connection: ${JSON.stringify(value)}`);
  }
});
