/**
 * IP addresses and CIDR ranges as they appear in config (`trustedProxies`) and
 * in X-Forwarded-For. Pure parsing; matching lives with its user.
 */
import { isIP } from 'node:net';

export interface AddressRange {
  /** The network address (or the address itself, for a single host). */
  address: string;
  /** Prefix length; 32 or 128 for a single host. */
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * An address as a socket or a proxy reports it, without an IPv4-mapped IPv6
 * prefix, IPv6 brackets or a port; `undefined` when it is not an IP address.
 * @example
 * normalizeAddress('::ffff:10.0.0.7'); // '10.0.0.7'
 * normalizeAddress('[2001:db8::1]:443'); // '2001:db8::1'
 * normalizeAddress('203.0.113.9:51234'); // '203.0.113.9'
 * normalizeAddress('unknown'); // undefined
 */
export function normalizeAddress(text: string): string | undefined {
  let s = text.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return undefined;
    s = s.slice(1, end);
  } else if (s.indexOf(':') !== -1 && s.indexOf(':') === s.lastIndexOf(':')) {
    // One colon: IPv4 with a port (an IPv6 address has at least two).
    s = s.slice(0, s.indexOf(':'));
  }
  const mapped = MAPPED_V4.exec(s);
  if (mapped) s = mapped[1]!;
  return isIP(s) === 0 ? undefined : s;
}

/**
 * Parses `10.0.0.0/8`, `fd00::/8`, `192.0.2.7` or `::1`; `undefined` when the
 * text is neither an address nor a CIDR range with a valid prefix.
 * @example
 * parseAddressRange('10.0.0.0/8'); // { address: '10.0.0.0', prefix: 8, family: 'ipv4' }
 */
export function parseAddressRange(text: string): AddressRange | undefined {
  const slash = text.indexOf('/');
  const address = (slash === -1 ? text : text.slice(0, slash)).trim();
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
