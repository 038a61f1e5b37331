import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, parseAddressRange } from '../../../src/core/address-range.ts';

describe('normalizeAddress', () => {
  const cases: Array<[string, string | undefined]> = [
    ['203.0.113.9', '203.0.113.9'],
    [' 203.0.113.9 ', '203.0.113.9'],
    ['203.0.113.9:51234', '203.0.113.9'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['::FFFF:10.0.0.7', '10.0.0.7'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['::1', '::1'],
    ['unknown', undefined],
    ['', undefined],
    ['[2001:db8::1', undefined],
    ['300.1.1.1', undefined],
    ['lb.internal:80', undefined],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text)} -> ${String(want)}`, () => assert.equal(normalizeAddress(text), want));
});

describe('parseAddressRange', () => {
  const cases: Array<[string, ReturnType<typeof parseAddressRange>]> = [
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['192.0.2.7', { address: '192.0.2.7', prefix: 32, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['10.0.0.0/33', undefined],
    ['fd00::/129', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0.0/x', undefined],
    ['10.0.0.0/-1', undefined],
    ['lb.internal', undefined],
    ['10.0.0/8', undefined],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text)}`, () => assert.deepEqual(parseAddressRange(text), want));
});
