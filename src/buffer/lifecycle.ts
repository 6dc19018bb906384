/**
 * The lease-lifecycle decisions every backend shares (see the state machine in types.ts): where a
 * message goes after a failed delivery, and when it expires. Backends only store the outcome.
 */
import { backoffDelayMs } from '../shared/backoff.js';
import { DEAD_LETTER_REASONS, type ChannelSettings, type NewMessage, type StoredMessage } from './types.js';

/** What happens to a leased message whose delivery failed (nack with retry, expired lease, release). */
export type AfterFailure =
  | { readonly state: 'available'; readonly availableAt: number }
  | { readonly state: 'dead'; readonly reason: string };

/**
 * `deliveryCount` includes the failed delivery. Attempts used up → dead `max_delivery_attempts`;
 * else available after `delaySeconds` or the channel's exponential backoff.
 */
export function afterFailedDelivery(
  settings: ChannelSettings,
  deliveryCount: number,
  now: number,
  delaySeconds?: number,
): AfterFailure {
  if (deliveryCount >= settings.max_delivery_attempts) {
    return { state: 'dead', reason: DEAD_LETTER_REASONS.maxDeliveryAttempts };
  }
  return { state: 'available', availableAt: now + retryDelayMs(settings, deliveryCount, delaySeconds) };
}

/** Delay before redelivery: `delaySeconds` when given, else `min(initial × 2^(n − 1), max)`. */
export function retryDelayMs(
  settings: ChannelSettings,
  deliveryCount: number,
  delaySeconds?: number,
): number {
  if (delaySeconds !== undefined && Number.isFinite(delaySeconds)) return Math.max(0, delaySeconds) * 1000;
  return backoffDelayMs(Math.max(0, deliveryCount - 1), {
    initialMs: settings.retry_backoff.initial * 1000,
    maxMs: settings.retry_backoff.max * 1000,
  });
}

export function expiresAt(settings: ChannelSettings, receivedAt: number): number {
  return receivedAt + settings.ttl_seconds * 1000;
}

/** Lease length in ms: the caller's, else the channel's `ack_timeout_seconds`. */
export function leaseLengthMs(settings: ChannelSettings, leaseMs?: number): number {
  return leaseMs !== undefined && Number.isFinite(leaseMs) && leaseMs > 0
    ? leaseMs
    : settings.ack_timeout_seconds * 1000;
}

/** The stored form of a new message: first delivery pending, expiry from the channel's TTL. */
export function newStoredMessage(
  message: NewMessage,
  id: string,
  channel: string,
  settings: ChannelSettings,
  now: number,
): StoredMessage {
  const receivedAt = message.received_at ?? now;
  return {
    id,
    channel,
    webhook_id: message.webhook_id,
    payload: message.payload ?? null,
    body: Buffer.from(message.body),
    content_type: message.content_type,
    headers: { ...message.headers },
    query: { ...message.query },
    received_at: receivedAt,
    expires_at: expiresAt(settings, receivedAt),
    delivery_count: 0,
    metadata: { ...message.metadata },
  };
}
