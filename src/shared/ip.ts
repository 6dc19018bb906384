/**
 * IP addresses and ranges: parsing exact addresses and CIDR ranges (IPv4 and IPv6, IPv4-mapped IPv6
 * normalised to IPv4) and resolving the real client address behind trusted proxies.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One allow-list entry: an exact address or a CIDR range. */
export interface IpRange {
  readonly text: string;
  readonly address: Address;
  readonly prefixLength: number;
}

function normalise(address: Address): Address {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (address as ipaddr.IPv6).toIPv4Address();
  }
  return address;
}

/** Parses an address (`10.0.0.1`, `::1`, `::ffff:10.0.0.1`, `[::1]`, `fe80::1%eth0`); undefined when invalid. */
export function parseIp(text: string): Address | undefined {
  let value = text.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone !== -1) value = value.slice(0, zone);
  if (!ipaddr.isValid(value)) return undefined;
  // ipaddr.isValid accepts legacy IPv4 spellings such as "127.1" and "0x7f.0.0.1"; accept only canonical
  // dotted quads and IPv6 so an allow-list entry means exactly what it says.
  if (!value.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(value)) return undefined;
  return normalise(ipaddr.parse(value));
}

/** Canonical text of an address (IPv4-mapped IPv6 shown as IPv4); undefined when invalid. */
export function canonicalIp(text: string): string | undefined {
  return parseIp(text)?.toString();
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or an exact address (a /32 or /128 range). */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) {
    const address = parseIp(text);
    if (address === undefined) return undefined;
    return { text, address, prefixLength: address.kind() === 'ipv4' ? 32 : 128 };
  }
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1).trim();
  if (address === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefixLength = Number(prefixText);
  if (prefixLength > (address.kind() === 'ipv4' ? 32 : 128)) return undefined;
  return { text, address, prefixLength };
}

export function ipInRanges(ip: string, ranges: readonly IpRange[]): boolean {
  const address = parseIp(ip);
  if (address === undefined) return false;
  return ranges.some(
    (range) => range.address.kind() === address.kind() && address.match(range.address, range.prefixLength),
  );
}

/**
 * The client address of a request. When the TCP peer is a trusted proxy, `X-Forwarded-For` is walked
 * from the right, skipping trusted proxies, and the first untrusted address is the client (so a client
 * cannot spoof its address by prepending entries). Without `X-Forwarded-For`, `X-Real-IP` set by a trusted
 * proxy is used. Headers from an untrusted peer are ignored.
 */
export function resolveClientIp(
  peerIp: string | undefined,
  headers: { readonly 'x-forwarded-for'?: string | undefined; readonly 'x-real-ip'?: string | undefined },
  trustedProxies: readonly IpRange[],
): string | undefined {
  if (peerIp === undefined) return undefined;
  const peer = canonicalIp(peerIp) ?? peerIp;
  if (trustedProxies.length === 0 || !ipInRanges(peer, trustedProxies)) return peer;
  const forwarded = headers['x-forwarded-for'];
  if (forwarded !== undefined && forwarded.trim() !== '') {
    const hops = forwarded.split(',').map((hop) => hop.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonicalIp(hops[i] ?? '');
      if (hop === undefined) return peer; // a malformed hop: trust nothing beyond the peer
      if (!ipInRanges(hop, trustedProxies)) return hop;
    }
    return canonicalIp(hops[0] ?? '') ?? peer;
  }
  const realIp = headers['x-real-ip'];
  if (realIp !== undefined) return canonicalIp(realIp) ?? peer;
  return peer;
}
