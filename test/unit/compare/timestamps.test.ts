import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAutoTimestampPair, parseTimestamp } from '../../../src/compare/index.ts';

const NEW_YEAR_2024 = 1704067200000;

describe('parseTimestamp', () => {
  const table: Array<[unknown, number | undefined]> = [
    ['2024-01-01T00:00:00Z', NEW_YEAR_2024],
    ['2024-01-01T01:00:00+01:00', NEW_YEAR_2024],
    ['2024-01-01T01:00:00+0100', NEW_YEAR_2024],
    ['2024-01-01T01:00:00+01', NEW_YEAR_2024],
    ['2023-12-31T16:00:00-08:00', NEW_YEAR_2024],
    ['2024-01-01 00:00:00Z', NEW_YEAR_2024],
    ['2024-01-01T00:00:00', NEW_YEAR_2024],
    ['2024-01-01', NEW_YEAR_2024],
    ['2024-01-01T00:00Z', NEW_YEAR_2024],
    ['2024-01-01T00:00:00.250Z', NEW_YEAR_2024 + 250],
    ['2024-01-01T00:00:00,250Z', NEW_YEAR_2024 + 250],
    ['2024-01-01T00:00:00.000250Z', NEW_YEAR_2024 + 0.25],
    ['Mon, 01 Jan 2024 00:00:00 GMT', NEW_YEAR_2024],
    [1704067200, NEW_YEAR_2024],
    [1704067200.5, NEW_YEAR_2024 + 500],
    [1704067200000, NEW_YEAR_2024],
    [1704067200000000, NEW_YEAR_2024],
    [1704067200000000000, NEW_YEAR_2024],
    ['1704067200', NEW_YEAR_2024],
    ['1704067200000', NEW_YEAR_2024],
    ['2024-02-30T00:00:00Z', undefined],
    ['2024-13-01', undefined],
    ['yesterday', undefined],
    ['2024-01-01T00:00:00Zjunk', undefined],
    [null, undefined],
    [true, undefined],
    [{}, undefined],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} -> ${expected}`, () => assert.equal(parseTimestamp(input), expected));
  }
});

describe('parseAutoTimestampPair', () => {
  const table: Array<[unknown, unknown, boolean]> = [
    ['2024-01-01T00:00:00Z', 1704067200, true],
    [1704067200000, '2024-01-01T00:00:00Z', true],
    ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00+01:00', true],
    ['2024-01-01T00:00:00Z', '1704067200', true],
    [1704067200, 1704067200000, false],
    ['2024-01-01T00:00:00Z', 42, false],
    ['2024-01-01T00:00:00Z', 'tomorrow', false],
    ['abc', 'def', false],
  ];
  for (const [a, b, expected] of table) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${expected ? 'instants' : 'not instants'}`, () => {
      assert.equal(parseAutoTimestampPair(a, b) !== undefined, expected);
    });
  }
});
