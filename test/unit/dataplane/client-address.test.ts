import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { compileClientAddress, peerAddressOf } from '../../../src/dataplane/client-address.ts';

const req = (peer: string | undefined, xff?: string | string[]): IncomingMessage =>
  ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('compileClientAddress', () => {
  it('trusts nobody by default: the peer, header never read', () => {
    const of = compileClientAddress([]);
    assert.equal(of, peerAddressOf);
    assert.equal(of(req('10.0.0.1', '203.0.113.9')), '10.0.0.1');
  });

  const of = compileClientAddress(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
  const cases: Array<[string, string | undefined, string | string[] | undefined, string | undefined]> = [
    ['untrusted peer: its own address, whatever it forwards', '198.51.100.1', '203.0.113.9', '198.51.100.1'],
    ['trusted peer without the header: the peer', '10.1.2.3', undefined, '10.1.2.3'],
    ['trusted peer: the address it forwarded for', '10.1.2.3', '203.0.113.9', '203.0.113.9'],
    ['a chain of trusted hops is skipped', '10.1.2.3', '203.0.113.9, 192.0.2.7, 10.9.9.9', '203.0.113.9'],
    ['entries left of the first untrusted one were written by the client', '10.1.2.3', '6.6.6.6, 203.0.113.9', '203.0.113.9'],
    ['every hop trusted: the leftmost', '10.1.2.3', '10.0.0.5, 10.0.0.6', '10.0.0.5'],
    ['an entry that is not an address stops at the last trusted hop', '10.1.2.3', '203.0.113.9, unknown, 10.0.0.6', '10.0.0.6'],
    ['a garbage rightmost entry: the peer', '10.1.2.3', 'unknown', '10.1.2.3'],
    ['ports and brackets are dropped', '10.1.2.3', '[2001:db8::5]:443', '2001:db8::5'],
    ['IPv4 with a port', '10.1.2.3', '203.0.113.9:5555', '203.0.113.9'],
    ['an IPv4-mapped peer is matched as IPv4', '::ffff:10.1.2.3', '203.0.113.9', '203.0.113.9'],
    ['an IPv6 trusted range', 'fd00::1', '2001:db8::9', '2001:db8::9'],
    ['repeated headers are read as one list', '10.1.2.3', ['6.6.6.6', '203.0.113.9, 10.0.0.6'], '203.0.113.9'],
    ['a socket without an address', undefined, '203.0.113.9', undefined],
  ];
  for (const [name, peer, xff, want] of cases) it(name, () => assert.equal(of(req(peer, xff)), want));

  it('walks the header once per request, and answers the same the second time', () => {
    const r = req('10.1.2.3', '203.0.113.9');
    let reads = 0;
    const headers = r.headers;
    Object.defineProperty(r, 'headers', { get: () => (reads++, headers) });
    assert.equal(of(r), '203.0.113.9');
    assert.equal(of(r), '203.0.113.9');
    assert.equal(reads, 1);
    const peerOnly = req(undefined, '203.0.113.9');
    assert.equal(of(peerOnly), undefined);
    assert.equal(of(peerOnly), undefined, 'an undefined answer is remembered too');
  });
});
