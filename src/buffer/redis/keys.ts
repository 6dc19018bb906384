/**
 * Key names of the redis buffer. Every key of a channel carries the channel in a hash tag
 * (`<prefix>:{<channel>}:…`), so one channel's keys share a cluster slot and a script may touch them all.
 */

/** Default key prefix (the reference's). */
export const DEFAULT_KEY_PREFIX = 'webhook_connect';

/**
 * The fixed keys of one channel, in the order the 8-key scripts take them (see scripts/lib.ts).
 * Message hashes are `<messagePrefix><id>`.
 */
export interface ChannelKeys {
  /** ZSET seq → id: available and due, FIFO by seq. */
  readonly ready: string;
  /** ZSET available_at → id: available, waiting for a retry backoff. */
  readonly delayed: string;
  /** ZSET lease deadline → id. */
  readonly leased: string;
  /** ZSET expires_at → id: the TTL index of available (ready + delayed) messages. */
  readonly expiry: string;
  /** ZSET seq → id: dead letters. */
  readonly dead: string;
  /** ZSET seq → id: live messages (available + leased); the head of an ordered channel, depth. */
  readonly live: string;
  /** HASH webhook_id → live count (queue-full checks, per-webhook depth). */
  readonly depths: string;
  /** HASH `seq` (the FIFO counter), `acked_total`, `expired_total`. */
  readonly meta: string;
  /** STRING: the channel state JSON (token rotation). */
  readonly state: string;
  /** Prefix of the per-message hashes. */
  readonly messagePrefix: string;
  /** Pub/Sub channel for cross-instance "messages may be available" hints (not a key). */
  readonly notify: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const base = `${prefix}:{${channel}}:`;
  return {
    ready: `${base}ready`,
    delayed: `${base}delayed`,
    leased: `${base}leased`,
    expiry: `${base}expiry`,
    dead: `${base}dead`,
    live: `${base}live`,
    depths: `${base}depths`,
    meta: `${base}meta`,
    state: `${base}state`,
    messagePrefix: `${base}m:`,
    notify: `${prefix}:notify:${channel}`,
  };
}

/** The eight keys the lease-lifecycle scripts (lease, nack, release, reclaim) take, in order. */
export function lifecycleKeys(keys: ChannelKeys): string[] {
  return [keys.ready, keys.delayed, keys.leased, keys.expiry, keys.dead, keys.live, keys.depths, keys.meta];
}
