/**
 * Key names of the redis buffer. Every key of a channel carries the channel in a hash tag
 * (`<prefix>:{<channel>}:…`), so one channel's keys share a cluster slot and a script may touch them all.
 * Names differ from the sorted-set layout this backend used before, except `meta` and `state`, whose
 * meaning is unchanged (counters and channel state carry over).
 */

/** Default key prefix (the reference's). */
export const DEFAULT_KEY_PREFIX = 'webhook_connect';

/** The fixed keys of one channel (see the layout in index.ts). */
export interface ChannelKeys {
  /** STREAM of the live (available + leased) messages, with the consumer group `relay`. */
  readonly stream: string;
  /** STREAM of the dead letters, oldest first. */
  readonly deadLetters: string;
  /** HASH live message id → "<stream entry id> <webhook_id>". */
  readonly ids: string;
  /** HASH dead message id → dead-letter stream entry id. */
  readonly deadIds: string;
  /** ZSET expires_at → stream entry id: the TTL index of available messages. */
  readonly ttl: string;
  /** HASH webhook_id → live count (queue-full checks, per-webhook depth). */
  readonly webhookDepths: string;
  /** HASH live message id → last error a consumer reported with a nack. */
  readonly errors: string;
  /** HASH `acked_total`, `expired_total`. */
  readonly meta: string;
  /** STREAM with one entry pending since time 0: its idle time is the PEL's clock (scripts/lib.ts). */
  readonly clock: string;
  /** STRING: the channel state JSON (token rotation). */
  readonly state: string;
  /** Pub/Sub channel for cross-instance "messages may be available" hints (not a key). */
  readonly notify: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const base = `${prefix}:{${channel}}:`;
  return {
    stream: `${base}stream`,
    deadLetters: `${base}dead-letters`,
    ids: `${base}ids`,
    deadIds: `${base}dead-ids`,
    ttl: `${base}ttl`,
    webhookDepths: `${base}webhook-depths`,
    errors: `${base}errors`,
    meta: `${base}meta`,
    clock: `${base}clock`,
    state: `${base}state`,
    notify: `${prefix}:notify:${channel}`,
  };
}

/** The nine keys the lease-lifecycle scripts (lease, nack, release, reclaim) take, in order. */
export function lifecycleKeys(keys: ChannelKeys): string[] {
  return [
    keys.stream,
    keys.deadLetters,
    keys.ids,
    keys.deadIds,
    keys.ttl,
    keys.webhookDepths,
    keys.meta,
    keys.errors,
    keys.clock,
  ];
}
