/**
 * SSRF guard for outbound targets (fixes reference §10.3 item 39: its checks were textual only).
 *
 * Two layers:
 * 1. `parseOutboundUrl` — syntax: http/https only, host required, ≤ 8192 chars, no NUL / `%00`, no
 *    legacy numeric host spellings that the URL parser did not already canonicalise.
 * 2. `resolveOutboundHost` / `createGuardedLookup` — the host is resolved (`dns.lookup`, all addresses)
 *    and refused when ANY address is loopback, private (RFC 1918, ULA), link-local (incl. cloud metadata),
 *    CGNAT, multicast, unspecified, broadcast or reserved — also when hidden in IPv4-mapped, NAT64 or 6to4
 *    IPv6 forms — or when the name is a cloud metadata name. `createGuardedLookup` plugs into the
 *    `lookup` option of node:http/https/net so the socket connects to exactly the address that was
 *    checked: no DNS-rebinding window between the check and the connection.
 *
 * The `OutboundPolicy` allow-list lifts the check for listed host names, exact addresses and CIDR ranges.
 * Metadata names and addresses are reachable only when listed *exactly* (a CIDR such as 169.254.0.0/16
 * does not unlock 169.254.169.254; an allow-listed host name that resolves to a metadata address is still
 * refused).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { WebhookConnectError } from './errors.js';
import { parseIpRange, type IpRange } from './ip.js';

/** Which outbound addresses publishers may reach. */
export interface OutboundPolicy {
  /**
   * Explicit allow-list: host names (exact, case-insensitive; `*.example.com` matches sub-domains), exact
   * IPs or CIDR ranges that may be reached even when they are loopback, private or link-local. Metadata
   * endpoints are reachable only when listed exactly here. Default: empty (nothing internal reachable).
   */
  readonly allowedHosts: readonly string[];
}

/** The policy with nothing allow-listed. */
export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = Object.freeze({ allowedHosts: Object.freeze([]) });

/** Longest URL accepted. */
export const MAX_OUTBOUND_URL_LENGTH = 8192;

/** Environment variable holding the global allow-list (comma-separated). */
export const OUTBOUND_ALLOWED_HOSTS_ENV = 'OUTBOUND_ALLOWED_HOSTS';

/** Reads `OUTBOUND_ALLOWED_HOSTS` (comma-separated host names, IPs, CIDRs; blanks ignored). */
export function outboundPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): OutboundPolicy {
  const raw = env[OUTBOUND_ALLOWED_HOSTS_ENV] ?? '';
  return {
    allowedHosts: raw
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  };
}

/** The union of two policies' allow-lists (used for a module's own `allowed_hosts`). */
export function extendOutboundPolicy(policy: OutboundPolicy, extraHosts: readonly string[]): OutboundPolicy {
  if (extraHosts.length === 0) return policy;
  return { allowedHosts: [...policy.allowedHosts, ...extraHosts] };
}

// --- metadata endpoints -------------------------------------------------------------------------

const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'metadata.azure.internal',
  'metadata.cloud.ibm.com',
  'api.metadata.cloud.ibm.com',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.123', // AWS time sync
  'fd00:ec2::254', // AWS IMDS over IPv6
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
]);

function isMetadataName(host: string): boolean {
  if (METADATA_NAMES.has(host)) return true;
  const labels = host.split('.');
  // "metadata" combined with internal/azure/google, as the reference also refused.
  return (
    labels.includes('metadata') &&
    labels.some((label) => label === 'internal' || label === 'azure' || label === 'google')
  );
}

// --- address classification -------------------------------------------------------------------

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4 of an IPv6 address that embeds one and routes to it (mapped, translated, NAT64, 6to4, compat). */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return v4(p[6]!, p[7]!);
  if (range === '6to4') return v4(p[1]!, p[2]!);
  // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
  if (p.slice(0, 6).every((part) => part === 0) && (p[6] !== 0 || p[7]! > 1)) return v4(p[6]!, p[7]!);
  return undefined;
}

/**
 * Why an address must not be reached by default (`loopback`, `private`, `linkLocal`, ...), or
 * undefined when it is ordinary public unicast. IPv6 forms embedding an IPv4 address are judged by it.
 */
export function blockedAddressReason(address: string): string | undefined {
  let text = address.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (isIP(text) === 0) return 'invalid';
  const parsed: Address = ipaddr.parse(text);
  if (parsed.kind() === 'ipv4') {
    const range = (parsed as ipaddr.IPv4).range();
    return range === 'unicast' ? undefined : range;
  }
  const v6 = parsed as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner !== undefined) {
    const range = inner.range();
    return range === 'unicast' ? undefined : range;
  }
  const range = v6.range();
  if (range === 'unicast') return undefined;
  return range;
}

function canonicalAddress(address: string): string {
  const parsed = ipaddr.parse(address.split('%')[0]!);
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIPv4(parsed as ipaddr.IPv6);
    if (inner !== undefined && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return inner.toString();
  }
  return parsed.toString();
}

// --- compiled policy ----------------------------------------------------------------------------

interface CompiledPolicy {
  readonly names: ReadonlySet<string>;
  /** Suffixes from `*.example.com` entries, with the leading dot. */
  readonly suffixes: readonly string[];
  /** Exact addresses, canonical text. */
  readonly exact: ReadonlySet<string>;
  readonly ranges: readonly IpRange[];
}

const compiledPolicies = new WeakMap<OutboundPolicy, CompiledPolicy>();

function normaliseHostName(host: string): string {
  let value = host.trim().toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  while (value.endsWith('.')) value = value.slice(0, -1);
  return value;
}

function compile(policy: OutboundPolicy): CompiledPolicy {
  const cached = compiledPolicies.get(policy);
  if (cached !== undefined) return cached;
  const names = new Set<string>();
  const suffixes: string[] = [];
  const exact = new Set<string>();
  const ranges: IpRange[] = [];
  for (const entry of policy.allowedHosts) {
    const value = normaliseHostName(entry);
    if (value === '') continue;
    if (value.startsWith('*.')) {
      suffixes.push(value.slice(1));
      continue;
    }
    const range = parseIpRange(value);
    if (range !== undefined) {
      if (!value.includes('/')) exact.add(range.address.toString());
      ranges.push(range);
      continue;
    }
    names.add(value);
  }
  const compiled = { names, suffixes, exact, ranges };
  compiledPolicies.set(policy, compiled);
  return compiled;
}

function hostAllowed(policy: CompiledPolicy, host: string): boolean {
  return policy.names.has(host) || policy.suffixes.some((suffix) => host.endsWith(suffix));
}

function addressAllowed(policy: CompiledPolicy, canonical: string): boolean {
  if (policy.exact.has(canonical)) return true;
  const parsed = ipaddr.parse(canonical);
  return policy.ranges.some(
    (range) => range.address.kind() === parsed.kind() && parsed.match(range.address, range.prefixLength),
  );
}

/**
 * Whether `host` (a name or IP literal) is listed in `policy` by name, wildcard, exact IP or CIDR range.
 * Used for a module's own `allowed_hosts`, which also restricts the target host.
 */
export function isHostAllowListed(host: string, policy: OutboundPolicy): boolean {
  const compiled = compile(policy);
  const name = normaliseHostName(host);
  if (hostAllowed(compiled, name)) return true;
  return isIP(name) !== 0 && addressAllowed(compiled, canonicalAddress(name));
}

function blocked(host: string, reason: string): WebhookConnectError {
  return new WebhookConnectError('WC_SSRF_BLOCKED', {
    detail: `Target host '${host}' is not allowed: ${reason}`,
  });
}

/**
 * Throws `WC_SSRF_BLOCKED` unless `address` (one resolution of `host`) may be reached under `policy`.
 * `host` is the name as written in the URL (or the address itself for IP literals).
 */
export function checkOutboundAddress(host: string, address: string, policy: OutboundPolicy): void {
  const compiled = compile(policy);
  const name = normaliseHostName(host);
  const reason = blockedAddressReason(address);
  if (reason === 'invalid') throw blocked(name, 'unresolvable address');
  const canonical = canonicalAddress(address);
  if (METADATA_ADDRESSES.has(canonical)) {
    if (compiled.exact.has(canonical)) return;
    throw blocked(name, 'cloud metadata address');
  }
  if (reason === undefined) return;
  if (hostAllowed(compiled, name) || addressAllowed(compiled, canonical)) return;
  throw blocked(name, `${reason} address`);
}

/** Checks the host name alone (metadata names, legacy numeric spellings). */
export function checkOutboundHostName(host: string, policy: OutboundPolicy): void {
  const name = normaliseHostName(host);
  if (name === '') throw blocked(name, 'empty host');
  if (isIP(name) !== 0) return;
  if (isMetadataName(name)) {
    if (compile(policy).names.has(name)) return;
    throw blocked(name, 'cloud metadata host');
  }
  // A last label that is numeric or hex is an IPv4 spelling (127.1, 0x7f.1, 2130706433) that the OS would
  // resolve to an address; canonical quads were handled above, so anything else here is refused.
  const last = name.split('.').pop() ?? '';
  if (/^(0x[0-9a-f]*|\d+)$/.test(last)) throw blocked(name, 'non-canonical numeric host');
  if (!/^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/.test(name) || name.length > 253) {
    throw blocked(name, 'invalid host name');
  }
}

/**
 * Parses and validates an outbound URL (syntax only, no DNS). Throws `WC_SSRF_BLOCKED`.
 * IP-literal hosts are checked against the policy here; names are checked when resolved.
 */
export function parseOutboundUrl(text: string, policy: OutboundPolicy = DEFAULT_OUTBOUND_POLICY): URL {
  if (text.length > MAX_OUTBOUND_URL_LENGTH) throw blocked('(url)', 'URL too long');
  if (text.includes('\0') || /%00/i.test(text)) throw blocked('(url)', 'URL contains NUL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw blocked('(url)', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw blocked(url.hostname || '(url)', `scheme ${url.protocol.replace(':', '')} not allowed`);
  }
  if (url.hostname === '') throw blocked('(url)', 'host required');
  const host = normaliseHostName(url.hostname);
  checkOutboundHostName(host, policy);
  if (isIP(host) !== 0) checkOutboundAddress(host, host, policy);
  return url;
}

type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error !== null) reject(error);
      else resolve(addresses);
    });
  });

/**
 * Resolves `host` and returns its addresses when every one of them may be reached; throws
 * `WC_SSRF_BLOCKED` otherwise (DNS errors propagate unchanged, so they classify as transient).
 */
export async function resolveOutboundHost(
  host: string,
  policy: OutboundPolicy,
  resolve: LookupAll = systemLookup,
): Promise<LookupAddress[]> {
  const name = normaliseHostName(host);
  checkOutboundHostName(name, policy);
  const family = isIP(name);
  const addresses = family !== 0 ? [{ address: name, family }] : await resolve(name);
  if (addresses.length === 0) throw blocked(name, 'no address');
  for (const entry of addresses) checkOutboundAddress(name, entry.address, policy);
  return addresses;
}

/** Validates the URL and resolves its host (see `resolveOutboundHost`). */
export async function assertOutboundUrl(text: string, policy: OutboundPolicy): Promise<URL> {
  const url = parseOutboundUrl(text, policy);
  await resolveOutboundHost(url.hostname, policy);
  return url;
}

/** The callback shape of `dns.lookup`, as node:net calls a custom `lookup`. */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * A `lookup` for node:http/https/net options that resolves through the guard: the socket connects only
 * to addresses that were checked. (node:net skips `lookup` for IP-literal hosts, so check those with
 * `parseOutboundUrl` before connecting.)
 */
export function createGuardedLookup(
  policy: OutboundPolicy,
  resolve: LookupAll = systemLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    resolveOutboundHost(hostname, policy, resolve).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = wanted === 0 ? all : all.filter((entry) => entry.family === wanted);
        const first = addresses[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`no IPv${wanted} address for ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, '');
        } else if (options.all === true) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, ''),
    );
  };
}
