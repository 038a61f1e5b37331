import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonLossless } from '../../../src/compare/index.ts';

describe('parseJsonLossless', () => {
  const table: Array<[string, string, unknown]> = [
    ['plain document', '{"a":1,"b":[1.5,"x"]}', { a: 1, b: [1.5, 'x'] }],
    ['unsafe integer becomes bigint', '{"id":12345678901234567891}', { id: 12345678901234567891n }],
    ['negative unsafe integer', '[-12345678901234567891]', [-12345678901234567891n]],
    ['unsafe integer at the root', '12345678901234567891', 12345678901234567891n],
    ['largest safe integer stays a number', '[9007199254740991]', [9007199254740991]],
    ['first unsafe integer', '[9007199254740993]', [9007199254740993n]],
    ['digits inside strings stay strings', '{"s":"12345678901234567891","t":"a\\"12345678901234567891"}', { s: '12345678901234567891', t: 'a"12345678901234567891' }],
    ['escaped backslash before a closing quote', '{"s":"x\\\\","n":12345678901234567891}', { s: 'x\\', n: 12345678901234567891n }],
    ['long decimals and exponents stay numbers', '[1.2345678901234567891, 12345678901234567891e2]', [1.2345678901234567891, 12345678901234567891e2]],
    ['many unsafe integers among other values', '{"a":[11111111111111111111,2,"22222222222222222222",33333333333333333333],"b":{"c":44444444444444444444}}', { a: [11111111111111111111n, 2, '22222222222222222222', 33333333333333333333n], b: { c: 44444444444444444444n } }],
  ];
  for (const [name, text, expected] of table) {
    it(name, () => {
      const r = parseJsonLossless(text);
      assert.ok(r.ok);
      assert.deepEqual(r.value, expected);
    });
  }

  it('reports invalid JSON, with or without long digit runs', () => {
    for (const text of ['{"a":', '{"a":12345678901234567891', '']) {
      const r = parseJsonLossless(text);
      assert.equal(r.ok, false, text);
    }
  });
});
