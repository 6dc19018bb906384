/**
 * Broker object names of one buffer. Everything lives under a prefix (default `webhook_connect`), so
 * several deployments (or tests) can share a broker without seeing each other's messages.
 */

/** Default name prefix of every queue and exchange. */
export const DEFAULT_PREFIX = 'webhook_connect';

/** The queues of one channel (see the topology in index.ts). */
export interface ChannelQueues {
  /** Quorum queue: live messages that are due now, FIFO. */
  readonly ready: string;
  /** Quorum queue: messages waiting for their retry backoff (`wc-available-at`). */
  readonly retry: string;
  /** Classic queue: the channel's dead letters, oldest first. */
  readonly dead: string;
  /** Classic last-value queue (`x-max-length` 1, `drop-head`): the channel state (token rotation). */
  readonly state: string;
  /** Classic queue: one small message per webhook id that ever fed the channel. */
  readonly webhooks: string;
}

export function channelQueues(prefix: string, channel: string): ChannelQueues {
  const base = `${prefix}.${channel}`;
  return {
    ready: `${base}.ready`,
    retry: `${base}.retry`,
    dead: `${base}.dead`,
    state: `${base}.state`,
    webhooks: `${base}.webhooks`,
  };
}

/** Classic queue holding one token per live message of a (channel, webhook) pair: its depth counter. */
export function tallyQueue(prefix: string, channel: string, webhookId: string): string {
  return `${prefix}.${channel}.count.${webhookId}`;
}

/** Direct exchange (routing key = channel) that wakes watchers in every instance. */
export function wakeExchange(prefix: string): string {
  return `${prefix}.wake`;
}
