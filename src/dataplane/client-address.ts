/**
 * Who sent a request. Behind a load balancer every TCP peer is the balancer,
 * so `ip` stickiness would put every user in one bucket; with
 * `trustedProxies` set, a request from a trusted address is attributed to the
 * address that proxy (and any trusted proxies before it) forwarded for.
 *
 * X-Forwarded-For is read from the right: each trusted hop is skipped, and the
 * first address that is not trusted is the client. Anything to its left was
 * written by the client itself and is never believed. An entry that is not an
 * address stops the walk at the last trusted hop. Without trusted proxies the
 * header is not read at all.
 */
import { BlockList } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { normalizeAddress, parseAddressRange } from '../core/address-range.ts';

export type ClientAddressOf = (req: IncomingMessage) => string | undefined;

// The walk runs once per request: canary stickiness and the request context both ask, and their answers must agree.
const kClient = Symbol('cutover.clientAddress');
type Remembered = IncomingMessage & { [kClient]?: string | undefined };

/** The TCP peer: the client when nothing is trusted. */
export const peerAddressOf: ClientAddressOf = (req) => req.socket.remoteAddress;

/**
 * @example
 * const clientOf = compileClientAddress(['10.0.0.0/8']);
 * clientOf(req); // '203.0.113.9' for a request from 10.1.2.3 with X-Forwarded-For: 203.0.113.9
 */
export function compileClientAddress(trusted: readonly string[]): ClientAddressOf {
  if (trusted.length === 0) return peerAddressOf;
  const list = new BlockList();
  for (const entry of trusted) {
    const range = parseAddressRange(entry);
    // The config schema rejects bad entries; one that slips through trusts nothing rather than everything.
    if (range === undefined) continue;
    if (range.prefix === (range.family === 'ipv4' ? 32 : 128)) list.addAddress(range.address, range.family);
    else list.addSubnet(range.address, range.prefix, range.family);
  }
  const isTrusted = (address: string): boolean => list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');

  const walk = (req: IncomingMessage): string | undefined => {
    const raw = req.socket.remoteAddress;
    if (raw === undefined) return undefined;
    let client = normalizeAddress(raw) ?? raw;
    if (!isTrusted(client)) return client;
    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return client;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]!);
      if (hop === undefined) return client;
      client = hop;
      if (!isTrusted(hop)) return hop;
    }
    return client;
  };
  return (req) => {
    const r = req as Remembered;
    if (kClient in r) return r[kClient];
    return (r[kClient] = walk(req));
  };
}
