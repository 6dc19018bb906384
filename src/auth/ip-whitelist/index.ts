/**
 * `ip_whitelist`: the client address must be in one of the listed addresses or CIDR ranges. The client
 * address is the one the receiver resolved with the webhook's `trusted_proxies` (`X-Forwarded-For` walked
 * from the right, skipping trusted hops); headers from an untrusted peer are never believed. IPv4-mapped
 * IPv6 addresses match their IPv4 entries.
 */
import { ipInRanges, parseIpRange, resolveClientIp, type IpRange } from '../../shared/ip.js';
import { AUTH_OK, authFailure, type AuthMethod } from '../types.js';
import { ipWhitelistSchema, type IpWhitelistConfig } from './schema.js';

function ranges(entries: readonly string[]): IpRange[] {
  return entries.flatMap((entry) => {
    const range = parseIpRange(entry);
    return range === undefined ? [] : [range];
  });
}

export const ipWhitelistMethod: AuthMethod<IpWhitelistConfig> = {
  type: 'ip_whitelist',
  schema: ipWhitelistSchema,
  credentialHeaders: () => [],
  secretFields: [],
  create(config, context) {
    const allowed = ranges(config);
    const trusted = ranges(context.trustedProxies);
    return (request) => {
      const clientIp =
        request.clientIp ??
        resolveClientIp(
          request.peerIp,
          {
            'x-forwarded-for': request.headers['x-forwarded-for'],
            'x-real-ip': request.headers['x-real-ip'],
          },
          trusted,
        );
      if (clientIp === undefined) return authFailure('WC_AUTH_FORBIDDEN_IP', 'Could not determine client IP');
      return ipInRanges(clientIp, allowed)
        ? AUTH_OK
        : authFailure('WC_AUTH_FORBIDDEN_IP', `IP ${clientIp} not in whitelist`);
    };
  },
};
