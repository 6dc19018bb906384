/**
 * SSRF guard for outbound targets. (Placeholder type; the guard itself lands with the modules framework.)
 */

/** Which outbound addresses publishers may reach. */
export interface OutboundPolicy {
  /**
   * Explicit allow-list: host names, exact IPs or CIDR ranges that may be reached even when they are
   * loopback, private or link-local. Metadata endpoints are reachable only when listed exactly here.
   */
  readonly allowedHosts: readonly string[];
}
