import { z } from 'zod';
import { parseIpRange } from '../../shared/ip.js';

/**
 * `ip_whitelist`: allowed client addresses — exact IPv4/IPv6 addresses and CIDR ranges. An empty list or
 * an invalid entry is a config error (the reference passed an empty list and skipped invalid entries).
 */
export const ipWhitelistSchema = z
  .array(
    z.string().refine((entry) => parseIpRange(entry) !== undefined, {
      message: 'must be an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)',
    }),
    {
      error: (issue) =>
        issue.input === undefined ? 'required' : 'must be a list of IP addresses or CIDR ranges',
    },
  )
  .min(1, { message: 'must list at least one address or range' });

export type IpWhitelistConfig = z.infer<typeof ipWhitelistSchema>;
